package spec

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret is a sensitive string. Every printed form of it (String, GoString,
// Format with any verb, JSON, text and slog) shows a redaction marker and the
// name of its source, never the value. Only Reveal returns the value.
type Secret struct {
	source string // variable or param name, shown in the redaction marker
	value  string
}

// NewSecret returns a Secret containing value. source names where the value
// came from (for example an environment variable) and is safe to print.
func NewSecret(source, value string) Secret { return Secret{source: source, value: value} }

// Reveal returns the secret value. Call it only where the value leaves the
// process for its intended destination, such as an API request body.
func (s Secret) Reveal() string { return s.value }

// Source returns the name the secret came from.
func (s Secret) Source() string { return s.source }

// IsZero reports whether s is the zero Secret, with neither a value nor a
// source.
func (s Secret) IsZero() bool { return s.value == "" && s.source == "" }

func (s Secret) redacted() string {
	if s.source == "" {
		return "(sensitive)"
	}
	return "(sensitive: " + s.source + ")"
}

// String returns the redaction marker.
func (s Secret) String() string { return s.redacted() }

// GoString returns the redaction marker, so %#v does not show the value.
func (s Secret) GoString() string { return "spec.Secret" + s.redacted() }

// Format prints the redaction marker for every verb, including %x and %q.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.redacted())
}

// MarshalJSON encodes the redaction marker as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.redacted()) }

// MarshalText returns the redaction marker, which covers YAML and XML encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// LogValue implements [slog.LogValuer].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }
