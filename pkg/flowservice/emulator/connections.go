package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// maxBodyBytes bounds a request body. Connection bodies are a few hundred
// bytes.
const maxBodyBytes = 1 << 20

// connectionView is a connection as GET returns it: every field of the
// documented ConnectionItemDTO, with secret params masked.
type connectionView struct {
	ID             string   `json:"id"`
	CreatedAt      int64    `json:"createdAt"`
	UpdatedAt      int64    `json:"updatedAt"`
	CreatedBy      string   `json:"createdBy"`
	UpdatedBy      string   `json:"updatedBy"`
	CreatedClient  string   `json:"createdClient"`
	UpdatedClient  string   `json:"updatedClient"`
	SandboxID      string   `json:"sandboxId"`
	SandboxName    string   `json:"sandboxName"`
	IMSOrgID       string   `json:"imsOrgId"`
	Name           string   `json:"name"`
	Description    string   `json:"description,omitempty"`
	ConnectionSpec specRef  `json:"connectionSpec"`
	State          string   `json:"state"`
	Auth           authView `json:"auth"`
	Version        string   `json:"version"`
	Etag           string   `json:"etag"`
}

type specRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

type authView struct {
	SpecName string         `json:"specName"`
	Params   map[string]any `json:"params"`
}

// refResponse is the body of a successful create or patch.
type refResponse struct {
	ID   string `json:"id"`
	Etag string `json:"etag"`
}

// itemsResponse is the wrapper of every GET response that returns
// resources, a single one included.
type itemsResponse[T any] struct {
	Items []T `json:"items"`
}

// authSpecOf returns the auth spec of c, or nil when a state file names a
// spec that the embedded connection specs no longer have.
func (e *Emulator) authSpecOf(c *connection) *authSpec {
	if spec := e.specs.byID[c.SpecID]; spec != nil {
		return spec.auth[c.AuthSpecName]
	}
	return nil
}

func (e *Emulator) view(c *connection) connectionView {
	auth := e.authSpecOf(c)
	return connectionView{
		ID:             c.ID,
		CreatedAt:      c.CreatedAt,
		UpdatedAt:      c.UpdatedAt,
		CreatedBy:      c.CreatedBy,
		UpdatedBy:      c.UpdatedBy,
		CreatedClient:  c.CreatedClient,
		UpdatedClient:  c.UpdatedClient,
		SandboxID:      sandboxID(c.IMSOrgID, c.SandboxName),
		SandboxName:    c.SandboxName,
		IMSOrgID:       c.IMSOrgID,
		Name:           c.Name,
		Description:    c.Description,
		ConnectionSpec: specRef{ID: c.SpecID, Version: c.SpecVersion},
		State:          c.State,
		Auth:           authView{SpecName: c.AuthSpecName, Params: auth.maskParams(c.Params, e.opts.OmitSecrets)},
		Version:        c.Etag,
		Etag:           c.Etag,
	}
}

// sandboxID derives a stable id for a sandbox. NOTE: real sandbox ids come
// from the Sandbox Management API. A name-based UUID keeps them stable here.
func sandboxID(org, sandbox string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("sandbox:"+org+"/"+sandbox)).String()
}

// newEtag returns a Cosmos-style etag, quotes included, like the documented
// "\"ae004437-0000-0200-0000-67ee107e0000\"": a random first group and the
// Unix time in seconds, in hex, before the final zeros. It differs from prev.
func newEtag(now time.Time, prev string) string {
	for {
		var b [4]byte
		rand.Read(b[:])
		etag := fmt.Sprintf("\"%08x-0000-0200-0000-%08x0000\"", binary.BigEndian.Uint32(b[:]), uint32(now.Unix()))
		if etag != prev {
			return etag
		}
	}
}

// readBody reads a request body. An empty body or a JSON null is error 1405.
func readBody(r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errInvalidRequest("the request body exceeds %d bytes", maxBodyBytes)
	}
	if err != nil {
		return nil, errInvalidRequest("the request body could not be read")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, errEmptyBody()
	}
	return trimmed, nil
}

// decodeJSON decodes body into v. The error names what is wrong without
// quoting the body, which may contain secrets.
func decodeJSON(body []byte, v any) *apiError {
	err := json.Unmarshal(body, v)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntaxErr):
		return errInvalidRequest("the request body is not valid JSON (offset %d)", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		return errInvalidRequest("field %s must be of type %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
	default:
		return errInvalidRequest("the request body is not valid JSON")
	}
}

// createRequest is the body of POST /connections.
type createRequest struct {
	Name           string `json:"name"`
	Description    string `json:"description"`
	ConnectionSpec *struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	} `json:"connectionSpec"`
	Auth *struct {
		SpecName string         `json:"specName"`
		Params   map[string]any `json:"params"`
	} `json:"auth"`
}

// createConnection serves POST /connections. Validation order: empty body
// (1405), JSON, connection spec (1413), name, auth spec (1415), params.
func (e *Emulator) createConnection(w http.ResponseWriter, r *http.Request, rq *request) {
	body, aerr := readBody(r)
	if aerr != nil {
		e.fail(w, rq, aerr)
		return
	}
	var req createRequest
	if aerr := decodeJSON(body, &req); aerr != nil {
		e.fail(w, rq, aerr)
		return
	}

	if req.ConnectionSpec == nil || e.specs.byID[req.ConnectionSpec.ID] == nil {
		e.fail(w, rq, errInvalidSpec())
		return
	}
	spec := e.specs.byID[req.ConnectionSpec.ID]
	// NOTE: the documentation states that an omitted version means the
	// latest one. Rejecting an unknown version with 1413 is a guess.
	version := req.ConnectionSpec.Version
	if version == "" {
		version = spec.version
	}
	if version != spec.version {
		e.fail(w, rq, errInvalidSpec())
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		e.fail(w, rq, errInvalidRequest("field name is required"))
		return
	}
	// NOTE: the OpenAPI schema requires only connectionSpec, while the
	// prose marks auth as required. Every connection spec here has auth
	// specs, so auth is required.
	if req.Auth == nil || req.Auth.SpecName == "" {
		e.fail(w, rq, errInvalidRequest("field auth.specName is required"))
		return
	}
	auth := spec.auth[req.Auth.SpecName]
	if auth == nil {
		e.fail(w, rq, errAuthSpecNotFound(req.Auth.SpecName, spec.id))
		return
	}
	params := req.Auth.Params
	if params == nil {
		params = map[string]any{}
	}
	if err := auth.validate(params); err != nil {
		e.fail(w, rq, errInvalidRequest("invalid auth params for auth spec '%s': %v", auth.name, err))
		return
	}

	now := e.now()
	c := &connection{
		ID:            uuid.NewString(),
		IMSOrgID:      rq.scope.org,
		SandboxName:   rq.scope.sandbox,
		Name:          req.Name,
		Description:   req.Description,
		SpecID:        spec.id,
		SpecVersion:   version,
		AuthSpecName:  auth.name,
		Params:        params,
		State:         "enabled",
		Etag:          newEtag(now, ""),
		CreatedAt:     now.UnixMilli(),
		UpdatedAt:     now.UnixMilli(),
		CreatedBy:     rq.client, // a service token's createdBy equals its createdClient
		UpdatedBy:     rq.client,
		CreatedClient: rq.client,
		UpdatedClient: rq.client,
	}
	seq := e.store.create(c)
	if !e.persist(w, rq, seq) {
		return
	}
	// NOTE: the OpenAPI file documents a Location header without an
	// example, so the full path of the new connection is a guess.
	w.Header().Set("Location", BasePath+"/connections/"+c.ID)
	writeJSON(w, http.StatusCreated, refResponse{ID: c.ID, Etag: c.Etag})
}

// persist saves the state file after change seq. On failure the change
// stays in memory, the request fails with 500 and the caller stops.
func (e *Emulator) persist(w http.ResponseWriter, rq *request, seq uint64) bool {
	if e.state == nil {
		return true
	}
	if err := e.state.save(e.store, seq); err != nil {
		e.log.Error("write state file failed", "error", err, "request_id", rq.id)
		e.fail(w, rq, errInternal())
		return false
	}
	return true
}

// getConnection serves GET /connections/{id}.
func (e *Emulator) getConnection(w http.ResponseWriter, rq *request, id string) {
	c, ok := e.store.get(rq.scope, id)
	if !ok {
		e.fail(w, rq, errNotFound("connections", id))
		return
	}
	writeJSON(w, http.StatusOK, itemsResponse[connectionView]{Items: []connectionView{e.view(c)}})
}

// deleteConnection serves DELETE /connections/{id}. NOTE: the documentation
// does not mention If-Match on DELETE, so it is not required here.
func (e *Emulator) deleteConnection(w http.ResponseWriter, rq *request, id string) {
	seq, ok := e.store.remove(rq.scope, id)
	if !ok {
		e.fail(w, rq, errNotFound("connections", id))
		return
	}
	if !e.persist(w, rq, seq) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
