package spec

import (
	"strconv"
	"strings"
)

func quote(s string) string { return strconv.Quote(s) }

func joinVars(vars []string) string { return strings.Join(vars, ", ") }
