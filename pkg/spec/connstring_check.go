package spec

import (
	"errors"
	"slices"
)

// neutralToken replaces each variable while checking a connection string's
// structure. It contains none of ";", "=", "{", "}" or spaces.
const neutralToken = "x"

// checkConnString parses a connection string param, checks its required
// keys, and checks that no variable's value changed the structure that the
// manifest wrote: the keys, their order and which values are braced.
func checkConnString(v Value, p paramSpec, field string, pos Position) []*Error {
	segs := v.segments
	if segs == nil {
		segs = []segment{{text: v.Reveal()}}
	}
	literal := !hasVariables(segs)
	written, err := ParseConnectionString(joinSegments(segs, func(segment) string { return neutralToken }))
	if err != nil {
		return []*Error{newError(pos, field, "%s", connStringMessage(err, literal))}
	}

	var errs []*Error
	for _, key := range p.requiredKeys {
		if _, ok := written.Get(key); !ok {
			errs = append(errs, newError(pos, field, "connection string is missing the required key %s (keys are case-insensitive)", quote(key)))
		}
	}
	if literal || len(v.Unresolved()) > 0 {
		return errs
	}

	// Substitute one variable at a time, so the message can name the one
	// whose value breaks the structure.
	want := written.structure()
	for _, name := range variableNames(segs) {
		substituted := joinSegments(segs, func(s segment) string {
			if s.variable == name {
				return s.text
			}
			return neutralToken
		})
		got, err := ParseConnectionString(substituted)
		if err != nil || !slices.Equal(got.structure(), want) {
			errs = append(errs, newError(pos, field, "the value of $%s changes the structure of the connection string; wrap the reference in braces, as in Pwd={${%s}}, and double any \"}\" in the value", name, name))
		}
	}
	if len(errs) == 0 {
		got, err := ParseConnectionString(v.Reveal())
		if err != nil || !slices.Equal(got.structure(), want) {
			errs = append(errs, newError(pos, field, "the values of %s together change the structure of the connection string; wrap each reference in braces", joinVars(variableNames(segs))))
		}
	}
	return errs
}

// connStringMessage words a parse error. Offsets are shown only for a
// literal string, where they count from the start of the value as written.
func connStringMessage(err error, literal bool) string {
	var cerr *ConnStringError
	if !errors.As(err, &cerr) {
		return "invalid connection string"
	}
	if literal {
		return cerr.Error()
	}
	return "invalid connection string: " + cerr.Reason
}
