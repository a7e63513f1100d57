package spec

import (
	"strconv"
	"strings"
)

func quote(s string) string { return strconv.Quote(s) }

func joinVars(vars []string) string { return strings.Join(vars, ", ") }

// quoteList formats names as a comma-separated list of quoted strings.
func quoteList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = quote(n)
	}
	return strings.Join(quoted, ", ")
}

// joinField appends key to a field path: "auth" and "params" give
// "auth.params". A key that is not a simple name is quoted in brackets, so
// that "user id" gives `auth.params["user id"]`.
func joinField(parent, key string) string {
	if !isSimpleName(key) {
		return parent + "[" + quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func isSimpleName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		case i > 0 && (r == '-' || '0' <= r && r <= '9'):
		default:
			return false
		}
	}
	return true
}
