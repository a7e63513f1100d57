package flowservice

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// SpecRef identifies a connection spec and its version.
type SpecRef struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
}

// Connection is a base connection as GET /connections returns it. Auth
// params are whatever the service returns, which never includes secrets in
// clear. Callers must not rely on reading secrets back.
type Connection struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Description    string          `json:"description,omitempty"`
	ConnectionSpec SpecRef         `json:"connectionSpec"`
	Auth           *ConnectionAuth `json:"auth,omitempty"`
	State          string          `json:"state,omitempty"`
	Etag           string          `json:"etag,omitempty"`
	Version        string          `json:"version,omitempty"`
	CreatedAt      int64           `json:"createdAt,omitempty"` // epoch milliseconds
	UpdatedAt      int64           `json:"updatedAt,omitempty"` // epoch milliseconds
	SandboxName    string          `json:"sandboxName,omitempty"`
	IMSOrgID       string          `json:"imsOrgId,omitempty"`
}

// ConnectionAuth is the auth block of a connection as read back.
type ConnectionAuth struct {
	SpecName string         `json:"specName"`
	Params   map[string]any `json:"params,omitempty"`
}

// ConnectionInput is the body of POST /connections. Params contain secrets in
// clear. Its printed forms (fmt with any verb, JSON, slog) and the client's
// logging show the param names but never their values.
type ConnectionInput struct {
	Name           string
	Description    string
	ConnectionSpec SpecRef
	AuthSpecName   string
	Params         map[string]string

	// Sensitive names the params whose values are secret. Only their
	// values are redacted from the server's message of a failed create,
	// and only one shorter than 4 characters makes the client withhold
	// that message. Nil treats every param as secret, and an empty map
	// treats none as secret.
	Sensitive map[string]bool `json:"-"`
}

// String describes the input without its params.
func (in ConnectionInput) String() string {
	return "connection " + in.Name + " (spec " + in.ConnectionSpec.ID + ", auth " + in.AuthSpecName + ", params redacted)"
}

// GoString shows the fields for %#v, with every param value redacted.
func (in ConnectionInput) GoString() string {
	return fmt.Sprintf("flowservice.ConnectionInput{Name: %q, Description: %q, ConnectionSpec: %#v, AuthSpecName: %q, Params: %s}",
		in.Name, in.Description, in.ConnectionSpec, in.AuthSpecName, redactedParamsText(in.Params))
}

// Format prints String for every verb but %#v, which prints GoString.
func (in ConnectionInput) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, in.String(), in.GoString())
}

// LogValue keeps the params out of structured logs.
func (in ConnectionInput) LogValue() slog.Value { return slog.StringValue(in.String()) }

// MarshalJSON encodes the fields under their Go names, with every param
// value replaced by [REDACTED]. It is not the request body of a create.
func (in ConnectionInput) MarshalJSON() ([]byte, error) {
	type fields ConnectionInput // drops the methods, so Marshal does not recurse
	out := fields(in)
	out.Params = redactedParams(in.Params)
	return json.Marshal(out)
}

// Ref is the result of a create or patch: the connection id and the new
// etag.
type Ref struct {
	ID   string `json:"id"`
	Etag string `json:"etag"`
}

// PatchOp is one JSON Patch operation of PATCH /connections/{id}.
type PatchOp struct {
	Op    string `json:"op"` // "add", "replace" or "remove"
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`

	// Sensitive names the secret params of an operation on /auth whose
	// Value is a map of params, as for ConnectionInput.Sensitive: nil
	// treats every param as secret. The Value of any other operation on
	// /auth, except /auth/specName, is always treated as secret.
	Sensitive map[string]bool `json:"-"`
}

// String describes the operation, with the value redacted if it may contain
// auth params.
func (op PatchOp) String() string {
	if op.Value == nil {
		return op.Op + " " + op.Path
	}
	return fmt.Sprintf("%s %s %v", op.Op, op.Path, op.redactedValue())
}

// GoString shows the fields for %#v, with the value redacted if it may
// contain auth params.
func (op PatchOp) GoString() string {
	return fmt.Sprintf("flowservice.PatchOp{Op: %q, Path: %q, Value: %#v}", op.Op, op.Path, op.redactedValue())
}

// Format prints String for every verb but %#v, which prints GoString.
func (op PatchOp) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, op.String(), op.GoString())
}

// LogValue keeps auth params out of structured logs.
func (op PatchOp) LogValue() slog.Value { return slog.StringValue(op.String()) }

// MarshalJSON encodes the operation as JSON Patch, with the value redacted
// if it may contain auth params. PatchConnection sends the values themselves.
func (op PatchOp) MarshalJSON() ([]byte, error) {
	out := patchOpBody{Op: op.Op, Path: op.Path, Value: op.redactedValue()}
	return json.Marshal(out)
}

// patchOpBody is a PatchOp as the request body carries it.
type patchOpBody struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// redactedValue returns op's value, or a redacted copy if it may contain
// auth params: a map keeps its keys, and anything else becomes [REDACTED].
func (op PatchOp) redactedValue() any {
	if !op.sensitive() || op.Value == nil {
		return op.Value
	}
	switch v := op.Value.(type) {
	case map[string]string:
		return redactedParams(v)
	case map[string]any:
		out := make(map[string]string, len(v))
		for name := range v {
			out[name] = redactedText
		}
		return out
	}
	return redactedText
}

// secretValues appends the values of op that PatchConnection keeps out of
// error messages: none for an operation outside /auth, the params named by
// op.Sensitive for a map of params, and every string of the value
// otherwise.
func (op PatchOp) secretValues(dst redactor) redactor {
	if !op.sensitive() {
		return dst
	}
	if op.Sensitive != nil {
		switch v := op.Value.(type) {
		case map[string]string:
			return appendSecretParams(dst, v, op.Sensitive)
		case map[string]any:
			for name, value := range v {
				if op.Sensitive[name] {
					dst = collectStrings(dst, value)
				}
			}
			return dst
		}
	}
	return collectStrings(dst, op.Value)
}

// appendSecretParams appends the values of the params that sensitive
// names, or of every param when sensitive is nil.
func appendSecretParams(dst redactor, params map[string]string, sensitive map[string]bool) redactor {
	for name, value := range params {
		if sensitive == nil || sensitive[name] {
			dst = append(dst, value)
		}
	}
	return dst
}

// sensitive reports whether op's value may contain auth params, which can be
// secrets. The name, the description and the auth spec name are not
// secret, since GET returns them in clear.
func (op PatchOp) sensitive() bool {
	return (op.Path == "/auth" || strings.HasPrefix(op.Path, "/auth/")) && op.Path != "/auth/specName"
}

// ListOptions filters and sorts GET /connections.
type ListOptions struct {
	Properties []string // each a filter such as `name=="orders"`, several are ANDed
	OrderBy    string   // "name", "-name", "+createdAt"
	Limit      int      // page size, 0 for the server default
}

// ConnectionSpec is one connection spec. Raw contains the whole document as
// returned, for validating auth params against its schemas.
type ConnectionSpec struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Version  string     `json:"version"`
	AuthSpec []AuthSpec `json:"authSpec"`
	Raw      []byte     `json:"-"`
}

// AuthSpec is one entry of a connection spec's authSpec list. Spec is a
// draft-07 JSON Schema of the params.
type AuthSpec struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Spec []byte `json:"-"`
}
