package spec

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ConnString is a parsed connection string of the form
// "Key=Value;Key=Value", as MySQL, MariaDB, PostgreSQL and SQL Server
// connection specs take it. It contains the values, which include a password,
// so every printed form of it shows the keys only.
type ConnString struct {
	pairs []connPair
}

type connPair struct {
	key    string // as written, without surrounding spaces
	value  string // without braces, with "}}" reduced to "}"
	braced bool
}

// ConnStringError is a connection string that cannot be parsed. It never
// contains the string or any part of it.
type ConnStringError struct {
	Offset int    // byte offset in the string where the problem starts
	Reason string // the problem, such as `unclosed "{" in a value`
}

func (e *ConnStringError) Error() string {
	return fmt.Sprintf("invalid connection string: %s at offset %d", e.Reason, e.Offset)
}

// ParseConnectionString parses s as a sequence of Key=Value pairs separated
// by ";". Keys are case-insensitive and must be unique. Spaces around keys
// and values are dropped, and empty segments, such as a trailing ";", are
// skipped. A value that contains ";" must be wrapped in braces, as in
// PWD={a;b}, and inside braces "}}" stands for "}". On failure the error is a
// [*ConnStringError], which never contains s or any part of it.
func ParseConnectionString(s string) (ConnString, error) {
	var (
		cs   ConnString
		seen = map[string]bool{}
	)
	for pos := skipSpaces(s, 0); pos < len(s); pos = skipSpaces(s, pos) {
		if s[pos] == ';' {
			pos++
			continue
		}
		p, next, err := parsePair(s, pos)
		if err != nil {
			return ConnString{}, err
		}
		lower := strings.ToLower(p.key)
		if seen[lower] {
			return ConnString{}, &ConnStringError{Offset: pos, Reason: "duplicate key (keys are case-insensitive)"}
		}
		seen[lower] = true
		cs.pairs = append(cs.pairs, p)
		pos = next
	}
	return cs, nil
}

// parsePair parses the pair that starts at s[start] and returns the offset
// after its terminating ";".
func parsePair(s string, start int) (connPair, int, error) {
	end := strings.IndexAny(s[start:], "=;")
	if end < 0 || s[start+end] == ';' {
		return connPair{}, 0, &ConnStringError{Offset: start, Reason: `missing "=" after a key`}
	}
	eq := start + end
	key := strings.TrimRight(s[start:eq], " \t")
	switch {
	case key == "":
		return connPair{}, 0, &ConnStringError{Offset: start, Reason: "empty key"}
	case strings.ContainsAny(key, "{}"):
		return connPair{}, 0, &ConnStringError{Offset: start, Reason: `"{" or "}" in a key`}
	}
	pos := skipSpaces(s, eq+1)
	if pos < len(s) && s[pos] == '{' {
		value, next, err := parseBraced(s, pos)
		if err != nil {
			return connPair{}, 0, err
		}
		return connPair{key: key, value: value, braced: true}, next, nil
	}
	stop := strings.IndexByte(s[pos:], ';')
	if stop < 0 {
		stop = len(s) - pos
	}
	value := strings.TrimRight(s[pos:pos+stop], " \t")
	return connPair{key: key, value: value}, min(pos+stop+1, len(s)), nil
}

// parseBraced parses the braced value that starts at s[open].
func parseBraced(s string, open int) (string, int, error) {
	var b strings.Builder
	i := open + 1
	for {
		if i >= len(s) {
			return "", 0, &ConnStringError{Offset: open, Reason: `unclosed "{" in a value`}
		}
		if s[i] != '}' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '}' {
			b.WriteByte('}')
			i += 2
			continue
		}
		break
	}
	next := skipSpaces(s, i+1)
	if next < len(s) && s[next] != ';' {
		return "", 0, &ConnStringError{Offset: next, Reason: `unexpected text after the closing "}" of a value`}
	}
	return b.String(), min(next+1, len(s)), nil
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// Get returns the value of key, compared without regard to case.
func (c ConnString) Get(key string) (string, bool) {
	for _, p := range c.pairs {
		if strings.EqualFold(p.key, key) {
			return p.value, true
		}
	}
	return "", false
}

// Keys returns the keys in the order written, as written.
func (c ConnString) Keys() []string {
	keys := make([]string, len(c.pairs))
	for i, p := range c.pairs {
		keys[i] = p.key
	}
	return keys
}

// String lists the keys and hides the values.
func (c ConnString) String() string {
	var b strings.Builder
	b.WriteString("ConnString(")
	for i, p := range c.pairs {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(p.key)
		b.WriteString("=(sensitive)")
	}
	b.WriteString(")")
	return b.String()
}

// GoString keeps %#v from printing the values.
func (c ConnString) GoString() string { return "spec." + c.String() }

// Format prints [ConnString.String] for every verb.
func (c ConnString) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// MarshalJSON encodes the keys only.
func (c ConnString) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string][]string{"keys": c.Keys()})
}

// structure returns the lower-cased keys in order, each followed by "{}"
// when its value is braced. A substituted variable must not change it.
func (c ConnString) structure() []string {
	out := make([]string, len(c.pairs))
	for i, p := range c.pairs {
		out[i] = strings.ToLower(p.key)
		if p.braced {
			out[i] += "{}"
		}
	}
	return out
}
