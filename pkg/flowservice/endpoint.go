package flowservice

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// basePath is the path prefix of the Flow Service API on the gateway.
const basePath = "/data/foundation/flowservice"

// parseBaseURL parses a gateway or IMS base URL and enforces the transport
// rule: https:// for every host, plain http:// only for loopback (127.0.0.0/8,
// ::1 and the name localhost), because a request carries a bearer token and
// the API key. A URL with user info, a query or a fragment is rejected, since
// those can carry credentials. Errors show the URL without those parts. The
// returned URL has no trailing slash.
func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("missing URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %s", parseFailure(err))
	}
	safe := displayURL(u)
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("invalid URL %q: credentials in a URL are not supported; remove the user info", safe)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("invalid URL %q: a base URL takes no query or fragment", safe)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("invalid URL %q: scheme must be https (or http for a loopback host)", safe)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("invalid URL %q: missing host", safe)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("invalid URL %q: plain http is allowed only for loopback hosts; use https", safe)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// displayURL returns u as messages and logs show it: without user info,
// query and fragment, which can carry a password or a token. It differs from
// [url.URL.Redacted], which keeps the user name and the query.
func displayURL(u *url.URL) string {
	shown := *u
	shown.User = nil
	shown.RawQuery, shown.ForceQuery = "", false
	shown.Fragment, shown.RawFragment = "", ""
	if shown.Opaque != "" {
		// An opaque URL such as https:user:pw@host has no structure to
		// keep, and its scheme is all that is safe to show.
		shown.Opaque = "..."
	}
	return shown.String()
}

// displayRawURL is [displayURL] for a URL in text form. Text that does not
// parse is not shown at all.
func displayRawURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return displayURL(u)
}

// quotedFragment matches a quoted fragment in an error message of net/url.
var quotedFragment = regexp.MustCompile(`\s*"[^"]*"`)

// parseFailure returns the reason [url.Parse] failed, without the URL and the
// fragments of it that net/url quotes (such as an invalid port), either of
// which may contain a password.
func parseFailure(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return quotedFragment.ReplaceAllString(err.Error(), "")
}

// isLoopback reports whether host is the name localhost or a loopback IP
// address. Other names are not resolved: a name that resolves to a loopback
// address today may not tomorrow. The name localhost is accepted because the
// dialer of a plain-HTTP client checks the address it resolved to (see
// [wrapHTTPClient]).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// joinPath returns base with suffix, which starts with a slash, appended to
// its path. Unlike [url.URL.JoinPath] it keeps the path absolute when base
// has an empty path.
func joinPath(base *url.URL, suffix string) *url.URL {
	u := *base
	u.Path += suffix
	if u.RawPath != "" {
		u.RawPath += suffix
	}
	return &u
}
