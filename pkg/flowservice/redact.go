package flowservice

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redactedText replaces a secret in messages and printed values.
const redactedText = "[REDACTED]"

// minRedactLen is the shortest value, in characters, that redaction
// replaces. A shorter value, such as a port or a three-letter password,
// would match unrelated text, so a server message from a request that
// carried one is withheld as a whole instead.
const minRedactLen = 4

// redactor lists values that must never appear in an error message: the
// access token, the API key and the secret values of a request body.
type redactor []string

// scrubber replaces a redactor's values in server text, in every spelling
// under which a server may echo them.
type scrubber struct {
	forms  []string // spellings to replace, longest first
	folded []string // the forms lower-cased and without white space
	// short is set when a non-empty value is shorter than minRedactLen,
	// which no search can find reliably.
	short bool
}

// publicID returns id, a public identifier such as the API key (the
// client id), for a redactor. It returns "" for an id shorter than
// minRedactLen: such an id is not a secret, so it must not make the client
// withhold every server message, as a short secret does.
func publicID(id string) string {
	if utf8.RuneCountInString(id) < minRedactLen {
		return ""
	}
	return id
}

func (r redactor) scrubber() *scrubber {
	s := &scrubber{}
	seen := map[string]bool{}
	for _, v := range r {
		switch n := utf8.RuneCountInString(v); {
		case n == 0:
			continue
		case n < minRedactLen:
			s.short = true
			continue
		}
		for _, form := range spellings(v) {
			if !seen[form] {
				seen[form] = true
				s.forms = append(s.forms, form)
			}
		}
	}
	// Sort the longest first, so that a value that contains another is
	// replaced whole instead of leaving its remainder behind.
	slices.SortFunc(s.forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, form := range s.forms {
		if f := fold(form); utf8.RuneCountInString(f) >= minRedactLen {
			s.folded = append(s.folded, f)
		}
	}
	return s
}

// redact replaces every spelling of the values in text.
func (s *scrubber) redact(text string) string {
	for _, form := range s.forms {
		text = strings.ReplaceAll(text, form, redactedText)
	}
	return text
}

// leaks reports whether a value still shows in text after redaction under a
// spelling that redact does not replace: changed case (as in lower-case
// percent-encoding) or white space inserted or collapsed.
func (s *scrubber) leaks(text string) bool {
	text = fold(strings.ReplaceAll(text, redactedText, "\x00"))
	for _, f := range s.folded {
		if strings.Contains(text, f) {
			return true
		}
	}
	return false
}

// fold lower-cases s and drops its white space.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// spellings returns v in every form in which a server may echo it. The
// forms are v as is and v as a JSON string: as encoding/json writes it with
// and without HTML escaping, ASCII-only as Python's json.dumps writes it,
// and with escaped slashes as PHP's json_encode writes it. They also
// include v as a JSON request body quoted inside another JSON string, and
// v percent-encoded for a form or query (the IMS token request) or a path.
func spellings(v string) []string {
	goJSON := jsonEscape(v, true)
	plainJSON := jsonEscape(v, false)
	asciiJSON := asciiEscape(plainJSON)
	return []string{
		v,
		goJSON,
		plainJSON,
		asciiJSON,
		strings.ReplaceAll(asciiJSON, "/", `\/`),
		jsonEscape(goJSON, true),
		jsonEscape(goJSON, false),
		url.QueryEscape(v),
		url.PathEscape(v),
	}
}

// jsonEscape returns the body of the JSON string literal of v, without its
// quotes.
func jsonEscape(v string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		return v // a string always encodes
	}
	quoted := strings.TrimSuffix(b.String(), "\n")
	return quoted[1 : len(quoted)-1]
}

// asciiEscape replaces each non-ASCII character of s with \uXXXX escapes,
// a UTF-16 surrogate pair beyond the Basic Multilingual Plane.
func asciiEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// collectStrings appends every string inside v, a value decoded from or
// destined for JSON, so that error messages can redact them.
func collectStrings(dst redactor, v any) redactor {
	switch v := v.(type) {
	case string:
		return append(dst, v)
	case map[string]string:
		for _, s := range v {
			dst = append(dst, s)
		}
	case map[string]any:
		for _, s := range v {
			dst = collectStrings(dst, s)
		}
	case []any:
		for _, s := range v {
			dst = collectStrings(dst, s)
		}
	case []string:
		dst = append(dst, v...)
	case nil, bool, float64, json.Number:
	default:
		// Other values (structs, typed slices and maps) are marshalled to
		// JSON and read back, so that nested strings are found too.
		data, err := json.Marshal(v)
		if err != nil {
			return dst
		}
		var generic any
		if json.Unmarshal(data, &generic) != nil {
			return dst
		}
		switch generic.(type) {
		case string, map[string]any, []any:
			dst = collectStrings(dst, generic)
		}
	}
	return dst
}

// formatRedacted implements [fmt.Formatter] for a type that contains secrets.
// %#v prints goString, and every other verb formats text as a string, so
// that no verb (%d and %x included) prints the type's fields.
func formatRedacted(f fmt.State, verb rune, text, goString string) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, goString)
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), text)
}

// redactedParams returns params with every value replaced, keeping the
// names so that a reader can tell which params are set.
func redactedParams(params map[string]string) map[string]string {
	if params == nil {
		return nil
	}
	out := make(map[string]string, len(params))
	for name := range params {
		out[name] = redactedText
	}
	return out
}

// redactedParamsText formats params as {name: [REDACTED], ...}, sorted by
// name.
func redactedParamsText(params map[string]string) string {
	var b strings.Builder
	b.WriteString("{")
	for i, name := range slices.Sorted(maps.Keys(params)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name + ": " + redactedText)
	}
	b.WriteString("}")
	return b.String()
}

// redactedUnlessEmpty returns [REDACTED] for a set secret and "" for an
// unset one, so that a printed configuration shows which secrets are set.
func redactedUnlessEmpty(secret string) string {
	if secret == "" {
		return ""
	}
	return redactedText
}
