package spec

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// Position is a place in a manifest file. Line and Col are 1-based, and Col
// counts characters (runes), as editors do. A zero Line means the whole file.
type Position struct {
	File string
	Line int
	Col  int
}

// String formats the position as "file:line:col", leaving out the parts that
// are unknown.
func (p Position) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// SpecRef identifies a connection spec and its version.
type SpecRef struct {
	ID      string
	Version string // "1.0" when the manifest leaves it out
}

// Auth is the auth block of a manifest: the name of one of the connection
// spec's auth specs and its params.
type Auth struct {
	SpecName string
	Params   map[string]Value
}

// KindConnection is the kind of a manifest that describes a base connection,
// and the kind of a manifest that has no kind field.
const KindConnection = "Connection"

// Manifest is one resolved, validated connection manifest.
type Manifest struct {
	Pos            Position // position of the document's first key
	Kind           string   // "Connection", also when the field is absent
	Name           string
	Description    string
	HasDescription bool   // whether the description field is present, even if empty
	RenamedFrom    string // previous name, empty unless the manifest was renamed
	ConnectionSpec SpecRef
	Auth           Auth

	// AuthChecked is false when the connection spec is not known offline,
	// so the auth params still need a check against GET /connectionSpecs/{id}.
	// Until CheckAuth runs, every param is sensitive.
	AuthChecked bool

	// Fields maps a field path such as "auth.params.port" to the position
	// of its value, for errors found after loading. Mappings have entries
	// too ("auth", "auth.params"), at the position of their first key.
	Fields map[string]Position

	// Keys maps a field path to the position of its key, for errors about
	// the key itself, such as an unknown param.
	Keys map[string]Position
}

// Value is one scalar auth param, as written in the manifest after
// substitution. Text is never re-parsed: "03306" stays "03306".
//
// Every printed form of a sensitive value (fmt verbs, JSON, text, slog)
// shows a redaction marker and the names of the variables it came from.
type Value struct {
	plain      string
	secret     Secret
	sensitive  bool
	unresolved []string // names of unset variables, in a dry run that allows them

	// uncheckedLiteral marks a literal value that is sensitive only because
	// the auth params have not been checked against the connection spec,
	// which defines whether the param is a password.
	uncheckedLiteral bool

	// segments is the scalar split at its variable references, kept so that
	// a connection string can be checked for variables that change its
	// structure. Nil for values without variables.
	segments []segment
}

// PlainValue returns a non-sensitive value.
func PlainValue(s string) Value { return Value{plain: s} }

// SensitiveValue returns a sensitive value.
func SensitiveValue(s Secret) Value { return Value{secret: s, sensitive: true} }

// UnresolvedValue returns a value whose variables are unset, allowed only
// when planning without secrets. Such a value is always sensitive.
func UnresolvedValue(vars ...string) Value {
	return Value{sensitive: true, unresolved: vars, secret: NewSecret(joinVars(vars), "")}
}

// Sensitive reports whether the value must never be shown.
func (v Value) Sensitive() bool { return v.sensitive }

// Unresolved returns the names of the unset variables in the value, if any.
func (v Value) Unresolved() []string { return v.unresolved }

// Reveal returns the text to send to the API. For an unresolved value it
// returns "", so callers must check [Value.Unresolved] before sending.
func (v Value) Reveal() string {
	if v.sensitive {
		return v.secret.Reveal()
	}
	return v.plain
}

// String returns the text of a plain value and a redaction marker for a
// sensitive one.
func (v Value) String() string {
	if v.sensitive {
		return v.secret.String()
	}
	return v.plain
}

// GoString keeps %#v from printing a sensitive value.
func (v Value) GoString() string {
	if v.sensitive {
		return v.secret.GoString()
	}
	return "spec.PlainValue(" + quote(v.plain) + ")"
}

// Format prints a sensitive value as the redaction marker for every verb,
// including %d and %x, which would otherwise print the struct's fields. A
// plain value prints as its text.
func (v Value) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, v.GoString())
	case v.sensitive:
		v.secret.Format(f, verb)
	default:
		fmt.Fprintf(f, fmt.FormatString(f, verb), v.plain)
	}
}

// MarshalJSON encodes a plain value as its text and a sensitive one as the
// redaction marker.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.sensitive {
		return v.secret.MarshalJSON()
	}
	return json.Marshal(v.plain)
}

// MarshalText implements [encoding.TextMarshaler] with the same redaction.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// LogValue implements [slog.LogValuer] with the same redaction.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// markSensitive returns v as a sensitive value, keeping its text. source
// names the value in the redaction marker when no variable does.
func (v Value) markSensitive(source string) Value {
	if v.sensitive {
		return v
	}
	return Value{secret: NewSecret(source, v.plain), sensitive: true}
}

// hideUntilChecked returns v as a sensitive value that [Value.checked] makes
// plain again unless the connection spec marks the param a password.
func (v Value) hideUntilChecked() Value {
	if v.sensitive {
		return v
	}
	hidden := v.markSensitive("")
	hidden.uncheckedLiteral = true
	return hidden
}

// checked returns v once the connection spec is known: sensitive when it
// came from the environment, when password is true, or when a caller built
// it sensitive, and plain when it was hidden only until the check.
func (v Value) checked(password bool) Value {
	switch {
	case password:
		v.uncheckedLiteral = false
		return v.markSensitive("")
	case v.uncheckedLiteral:
		return PlainValue(v.secret.Reveal())
	}
	return v
}
