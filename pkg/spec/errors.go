package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found in a manifest.
type Error struct {
	Pos   Position
	Field string // field path such as "auth.params.port", empty for file-level errors
	Msg   string // message naming what was expected and what was found, never a sensitive value
}

// Error formats the problem as "path:line:col: field: message", leaving out
// the parts that are unknown: YAML syntax errors have a line but no column,
// and file-level errors have neither.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one run, sorted by file and position.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func newError(pos Position, field, format string, args ...any) *Error {
	return &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// sortErrors orders errors by file, line, column, field and message, and
// drops exact repeats, which arise when one anchored value is reached
// through several aliases.
func sortErrors(errs []*Error) []*Error {
	slices.SortStableFunc(errs, compareErrors)
	return slices.CompactFunc(errs, func(a, b *Error) bool { return compareErrors(a, b) == 0 })
}

func compareErrors(a, b *Error) int {
	return cmp.Or(
		cmp.Compare(a.Pos.File, b.Pos.File),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Col, b.Pos.Col),
		cmp.Compare(a.Field, b.Field),
		cmp.Compare(a.Msg, b.Msg),
	)
}
