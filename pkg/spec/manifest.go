package spec

// Position is a place in a manifest file. Line and Col are 1-based.
type Position struct {
	File string
	Line int
	Col  int
}

// SpecRef identifies a connection spec and its version.
type SpecRef struct {
	ID      string
	Version string
}

// Auth is the auth block of a manifest: the name of one of the connection
// spec's auth specs and its params.
type Auth struct {
	SpecName string
	Params   map[string]Value
}

// Manifest is one resolved, validated connection manifest.
type Manifest struct {
	Pos            Position // position of the document's first key
	Kind           string   // "Connection"; the default when the field is absent
	Name           string
	Description    string
	RenamedFrom    string // previous name, empty unless the manifest was renamed
	ConnectionSpec SpecRef
	Auth           Auth

	// AuthChecked is false when the connection spec is not known offline,
	// so the auth params still need a check against GET /connectionSpecs/{id}.
	AuthChecked bool

	// Fields maps a field path such as "auth.params.port" to the position
	// of its value, for errors found after loading.
	Fields map[string]Position
}

// Value is one scalar auth param, as written in the manifest after
// substitution. Text is never re-parsed: "03306" stays "03306".
type Value struct {
	plain      string
	secret     Secret
	sensitive  bool
	unresolved []string // names of unset variables, in a dry run that allows them
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

// Reveal returns the text to send to the API.
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

// MarshalJSON encodes a plain value as its text and a sensitive one as the
// redaction marker.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.sensitive {
		return v.secret.MarshalJSON()
	}
	return []byte(quote(v.plain)), nil
}

// MarshalText implements [encoding.TextMarshaler] with the same redaction.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }
