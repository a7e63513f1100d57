package verify

import (
	"errors"
	"fmt"
	"strings"
)

// connString is a parsed Key=Value; connection string.
//
// TODO(verify): switch to spec.ParseConnectionString once pkg/spec exports
// it, and keep this file's tests as a check of the shared parser.
type connString map[string]string

// Get returns the value of key, which is matched case-insensitively.
func (c connString) Get(key string) (string, bool) {
	v, ok := c[strings.ToLower(key)]
	return v, ok
}

// parseConnString parses entries of the form Key=Value separated by ";".
// Keys are case-insensitive, and spaces around keys and unbraced values are
// dropped. A value in braces, such as PWD={a;b}, may contain ";" and "=",
// and "}}" inside the braces stands for one "}". Empty entries, such as the
// one after a trailing ";", are ignored. Errors name keys and entry numbers
// but never a value, because one of the values is the password.
func parseConnString(s string) (connString, error) {
	entries := connString{}
	for n := 1; ; n++ {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return entries, nil
		}
		if s[0] == ';' {
			s = s[1:]
			continue
		}

		end := strings.IndexAny(s, "=;")
		if end < 0 || s[end] == ';' || strings.TrimSpace(s[:end]) == "" {
			return nil, fmt.Errorf("entry %d is not of the form Key=Value", n)
		}
		key := strings.TrimSpace(s[:end])
		s = strings.TrimLeft(s[end+1:], " \t")

		var value string
		if strings.HasPrefix(s, "{") {
			var err error
			value, s, err = readBraced(s[1:])
			if err != nil {
				return nil, fmt.Errorf("value of key %q: %w", key, err)
			}
		} else {
			value, s, _ = strings.Cut(s, ";")
			value = strings.TrimSpace(value)
		}

		if _, dup := entries[strings.ToLower(key)]; dup {
			return nil, fmt.Errorf("key %q appears more than once", key)
		}
		entries[strings.ToLower(key)] = value
	}
}

// readBraced reads a braced value from s, which starts just after the
// opening brace. It returns the unescaped value and the text after the ";"
// that ends the entry.
func readBraced(s string) (value, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '}' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		trailer, rest, _ := strings.Cut(s[i+1:], ";")
		if strings.TrimSpace(trailer) != "" {
			return "", "", errors.New("unexpected text after the closing brace")
		}
		return b.String(), rest, nil
	}
	return "", "", errors.New("missing closing brace")
}
