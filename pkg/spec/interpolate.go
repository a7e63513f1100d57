package spec

import (
	"slices"
	"strings"
)

// segment is one piece of a scalar split at its variable references.
type segment struct {
	text     string // literal text with "$$" reduced to "$", or the variable's value
	variable string // the variable's name, empty for literal text
	offset   int    // byte offset of the variable's "$" in the scalar
}

// refError is an invalid use of "$" at a byte offset of a scalar.
type refError struct {
	offset int
	msg    string
}

const (
	msgBadDollar   = `invalid "$": write "$$" for a literal "$", or $NAME or ${NAME} for a variable`
	msgUnclosed    = `invalid "${": expected ${NAME} with a closing "}"; write "$$" for a literal "$"`
	msgBadVariable = `invalid variable name in "${...}": expected letters, digits and underscores, not starting with a digit`
)

// parseRefs splits s at its variable references: $NAME and ${NAME}, where
// NAME matches [A-Za-z_][A-Za-z0-9_]*, and "$$" for a literal "$". A "$"
// that starts neither is an error. Consecutive literal text is one segment,
// and the variable segments carry no text yet.
func parseRefs(s string) ([]segment, []refError) {
	if !strings.Contains(s, "$") {
		return []segment{{text: s}}, nil
	}
	var (
		segs []segment
		errs []refError
		lit  strings.Builder
	)
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, segment{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] != '$' {
			j := strings.IndexByte(s[i:], '$')
			if j < 0 {
				j = len(s) - i
			}
			lit.WriteString(s[i : i+j])
			i += j
			continue
		}
		next, seg, err := parseRef(s, i)
		switch {
		case err != "":
			errs = append(errs, refError{offset: i, msg: err})
		case seg.variable == "":
			lit.WriteString(seg.text)
		default:
			flush()
			segs = append(segs, seg)
		}
		i = next
	}
	flush()
	return segs, errs
}

// parseRef reads the reference that starts with the "$" at s[i] and returns
// the offset after it, the segment it represents and an error message.
func parseRef(s string, i int) (next int, seg segment, err string) {
	rest := s[i+1:]
	switch {
	case strings.HasPrefix(rest, "$"):
		return i + 2, segment{text: "$"}, ""
	case strings.HasPrefix(rest, "{"):
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return i + 2, segment{}, msgUnclosed
		}
		name := rest[1:end]
		if !isVariableName(name) {
			return i + 1 + end + 1, segment{}, msgBadVariable
		}
		return i + 1 + end + 1, segment{variable: name, offset: i}, ""
	}
	n := variableNameLen(rest)
	if n == 0 {
		return i + 1, segment{}, msgBadDollar
	}
	return i + 1 + n, segment{variable: rest[:n], offset: i}, ""
}

// variableNameLen returns the length of the variable name at the start of s.
func variableNameLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return i
		}
	}
	return len(s)
}

func isVariableName(s string) bool {
	return s != "" && variableNameLen(s) == len(s)
}

// hasVariables reports whether segs contains a variable reference.
func hasVariables(segs []segment) bool {
	for _, s := range segs {
		if s.variable != "" {
			return true
		}
	}
	return false
}

// joinSegments concatenates the segments, writing token in place of each
// variable when token is not nil.
func joinSegments(segs []segment, token func(segment) string) string {
	var b strings.Builder
	for _, s := range segs {
		if s.variable != "" && token != nil {
			b.WriteString(token(s))
			continue
		}
		b.WriteString(s.text)
	}
	return b.String()
}

// variableNames returns the distinct variable names in segs, in order.
func variableNames(segs []segment) []string {
	var names []string
	for _, s := range segs {
		if s.variable != "" && !slices.Contains(names, s.variable) {
			names = append(names, s.variable)
		}
	}
	return names
}
