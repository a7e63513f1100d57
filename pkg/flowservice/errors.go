package flowservice

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Sentinel errors that an [*Error] matches with [errors.Is].
//
// ErrNotFound matches status 404. ErrPreconditionFailed matches status 412,
// which the service returns for a stale If-Match version (code 1404-412).
// ErrUnauthorized matches 401 and 403: the gateway rejected the token or the
// API key, or the credentials lack a permission.
var (
	ErrNotFound           = errors.New("not found")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrUnauthorized       = errors.New("unauthorized")
	// ErrOutcomeUnknown means a write may or may not have taken effect: a
	// create whose request was sent before the failure, or an update or
	// delete whose retry cannot tell whether an earlier attempt succeeded.
	// Look the resource up before deciding what to do next.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrCreatedIDUnknown means a create succeeded (the service responded
	// 2xx) but the response could not be read, so the new connection's id
	// is unknown. An error that matches it also matches
	// [ErrOutcomeUnknown]. The connection exists, so look it up by name,
	// and do not create it again even if the lookup does not find it yet.
	ErrCreatedIDUnknown error = &impliedError{
		msg:     "connection created, but its id could not be read",
		implies: ErrOutcomeUnknown,
	}
)

// impliedError is a sentinel error that also matches a broader sentinel.
type impliedError struct {
	msg     string
	implies error
}

func (e *impliedError) Error() string { return e.msg }

func (e *impliedError) Is(target error) bool { return target == e.implies }

// Error is a failed API call: the server responded with a status other than
// 2xx. It never contains request bodies or header values. Text that the
// server echoes back from the request (the values of secret params, the
// token, the API key) is replaced with [REDACTED], whether it comes back as
// sent, JSON-escaped or percent-encoded. Values of params that the caller
// marks as not secret (ConnectionInput.Sensitive, PatchOp.Sensitive) stay.
// If a secret is too short to search for, or still shows after that, the
// server's title and detail are dropped and MessageWithheld is set.
type Error struct {
	Method    string
	Path      string // below the Flow Service base path, without the query
	Status    int
	Code      string // Flow Service code such as "1404-412", or a gateway code such as "403010"
	Title     string
	Detail    string
	RequestID string

	// OutcomeUnknown is set when the write may have taken effect anyway: a
	// create that got a 5xx response, or an update whose retry was rejected
	// after an earlier attempt got no usable response. The error then
	// matches [ErrOutcomeUnknown].
	OutcomeUnknown bool

	// MessageWithheld is set when the server's title and detail were
	// dropped because they could quote a secret of the request. That
	// happens when a secret is too short to search for, or when it still
	// shows after redaction under a spelling that is not replaced.
	MessageWithheld bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Path, e.Status)
	if text := http.StatusText(e.Status); text != "" {
		b.WriteString(" " + text)
	}
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	switch {
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	case e.Title != "":
		b.WriteString(": " + e.Title)
	case e.MessageWithheld:
		b.WriteString(": server message withheld because it may quote a secret of the request")
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.OutcomeUnknown {
		b.WriteString("; outcome unknown: the change may have been applied, so look it up before retrying")
	}
	return b.String()
}

// Is reports whether e matches one of the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrPreconditionFailed:
		return e.Status == http.StatusPreconditionFailed
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrOutcomeUnknown:
		return e.OutcomeUnknown
	}
	return false
}

// errorBody is the union of the documented error shapes. Flow Service
// sends type, title, status, report, errorMessage and errorDetails, and the
// API gateway sends error_code and message. Some Platform services
// use an RFC 7807 detail field instead.
//
// NOTE: the IMS error body is not documented. error and error_description
// are the OAuth 2.0 standard fields.
type errorBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Report struct {
		DetailedMessage string `json:"detailed-message"`
		RequestID       string `json:"request-id"`
	} `json:"report"`
	ErrorMessage string `json:"errorMessage"`
	ErrorDetails string `json:"errorDetails"`

	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`

	// OAuth 2.0 error fields (RFC 6749), for the IMS token endpoint.
	OAuthError       string `json:"error"`
	OAuthDescription string `json:"error_description"`
}

// flowCode matches the catalog code at the end of a problem type URI such as
// https://ns.adobe.com/aep/errors/FLOW-1404-412.
var flowCode = regexp.MustCompile(`(\d+-\d{3})$`)

// maxDetailLen bounds the text taken from a response that is not JSON, such
// as an HTML page from a proxy.
const maxDetailLen = 200

// newError builds an *Error from a non-2xx response, redacting anything in
// the server's text that the request carried. The title and detail are
// dropped if a secret could still show in them.
func newError(method, path string, status int, header http.Header, body []byte, secrets redactor) *Error {
	scrub := secrets.scrubber()
	e := &Error{
		Method:    method,
		Path:      path,
		Status:    status,
		RequestID: header.Get("x-request-id"),
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		// Redact before collapsing white space and cutting the text,
		// either of which can split a secret so that it no longer matches.
		e.Detail = plainText(scrub.redact(string(body)))
	} else {
		if m := flowCode.FindStringSubmatch(eb.Type); m != nil {
			e.Code = m[1]
		} else {
			e.Code = scrub.redact(firstNonEmpty(eb.ErrorCode, eb.OAuthError))
		}
		e.Title = scrub.redact(eb.Title)
		e.Detail = scrub.redact(firstNonEmpty(
			eb.Report.DetailedMessage, eb.Detail, eb.ErrorMessage, eb.ErrorDetails,
			eb.Message, eb.OAuthDescription))
		if e.RequestID == "" {
			e.RequestID = eb.Report.RequestID
		}
	}
	e.RequestID = scrub.redact(e.RequestID)

	if scrub.leaks(e.Code) {
		e.Code = ""
	}
	if scrub.leaks(e.RequestID) {
		e.RequestID = ""
	}
	if (e.Title != "" || e.Detail != "") && (scrub.short || scrub.leaks(e.Title) || scrub.leaks(e.Detail)) {
		e.Title, e.Detail = "", ""
		e.MessageWithheld = true
	}
	return e
}

// plainText returns the start of a non-JSON body on one line.
func plainText(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if len(s) <= maxDetailLen {
		return s
	}
	s = s[:maxDetailLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
