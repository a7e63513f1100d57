package flowservice

import "strings"

// SpecRef identifies a connection spec and its version.
type SpecRef struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
}

// Connection is a base connection as GET /connections returns it. Auth
// params are whatever the service returns, which never includes secrets in
// clear; callers must not rely on reading secrets back.
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

// ConnectionInput is the body of POST /connections. Params hold secrets in
// clear; the String method and the client's logging never show them.
type ConnectionInput struct {
	Name           string
	Description    string
	ConnectionSpec SpecRef
	AuthSpecName   string
	Params         map[string]string
}

// String describes the input without its params.
func (in ConnectionInput) String() string {
	return "connection " + in.Name + " (spec " + in.ConnectionSpec.ID + ", auth " + in.AuthSpecName + ", params redacted)"
}

// Ref is what a create or patch returns: the id and the new etag.
type Ref struct {
	ID   string `json:"id"`
	Etag string `json:"etag"`
}

// PatchOp is one JSON Patch operation of PATCH /connections/{id}.
type PatchOp struct {
	Op    string `json:"op"` // "add", "replace" or "remove"
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// sensitive reports whether op's value may hold auth params, which can be
// secrets. The name, the description and the auth spec name are not
// secret, since GET returns them in clear.
func (op PatchOp) sensitive() bool {
	return (op.Path == "/auth" || strings.HasPrefix(op.Path, "/auth/")) && op.Path != "/auth/specName"
}

// ListOptions filters and sorts GET /connections.
type ListOptions struct {
	Properties []string // each a filter such as `name=="orders"`; several are ANDed
	OrderBy    string   // "name", "-name", "+createdAt"
	Limit      int      // page size; 0 leaves the server default
}

// ConnectionSpec is one connection spec. Raw holds the whole document as
// returned, for validating auth params against its schemas.
type ConnectionSpec struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Version  string     `json:"version"`
	AuthSpec []AuthSpec `json:"authSpec"`
	Raw      []byte     `json:"-"`
}

// AuthSpec is one entry of a connection spec's authSpec list; Spec is a
// draft-07 JSON Schema of the params.
type AuthSpec struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Spec []byte `json:"-"`
}
