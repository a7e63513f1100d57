package flowservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// defaultSpecVersion is sent when a create names no connection spec version.
// The prose of the API reference states that omitting it selects the latest
// version, but its schema marks the field required, and every documented
// connection spec is version 1.0.
const defaultSpecVersion = "1.0"

// createBody is the body of POST /connections, in the documented field order.
type createBody struct {
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	Auth           *authBody `json:"auth,omitempty"`
	ConnectionSpec SpecRef   `json:"connectionSpec"`
}

type authBody struct {
	SpecName string            `json:"specName"`
	Params   map[string]string `json:"params"`
}

// CreateConnection creates a base connection. It is never retried after the
// request may have reached the server, and an ambiguous failure wraps
// [ErrOutcomeUnknown]. A 2xx response that cannot be read wraps
// [ErrCreatedIDUnknown] as well, because the connection then exists. A 429,
// a 401 or a failure to connect is retried, because the request then cannot
// have been processed. The values of the secret params (in.Sensitive) never
// appear in errors or logs.
func (c *Client) CreateConnection(ctx context.Context, in ConnectionInput) (Ref, error) {
	if in.Name == "" {
		return Ref{}, errors.New("create connection: missing name")
	}
	if in.ConnectionSpec.ID == "" {
		return Ref{}, fmt.Errorf("create connection %q: missing connection spec id", in.Name)
	}
	body := createBody{
		Name:           in.Name,
		Description:    in.Description,
		ConnectionSpec: in.ConnectionSpec,
	}
	if body.ConnectionSpec.Version == "" {
		body.ConnectionSpec.Version = defaultSpecVersion
	}
	if in.AuthSpecName != "" || len(in.Params) > 0 {
		params := in.Params
		if params == nil {
			params = map[string]string{}
		}
		body.Auth = &authBody{SpecName: in.AuthSpecName, Params: params}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return Ref{}, fmt.Errorf("create connection %q: encode body: %w", in.Name, err)
	}

	res, err := c.do(ctx, &request{
		method:  http.MethodPost,
		path:    "/connections",
		body:    data,
		secrets: appendSecretParams(nil, in.Params, in.Sensitive),
	})
	if err != nil {
		return Ref{}, err
	}
	ref, err := decodeRef(res)
	if err != nil {
		// The service accepted the create, so the connection exists under
		// an id that the client could not read.
		return Ref{}, fmt.Errorf("POST /connections: %w (status %d): %w; look it up by name instead of creating it again",
			ErrCreatedIDUnknown, res.status, err)
	}
	return ref, nil
}

// decodeRef reads the {id, etag} body of a create or patch response. If the
// body lacks the id, the last segment of the Location header supplies it.
func decodeRef(res *response) (Ref, error) {
	if res.readErr != nil {
		return Ref{}, fmt.Errorf("read response: %w", res.readErr)
	}
	var ref Ref
	if len(res.body) > 0 {
		if err := json.Unmarshal(res.body, &ref); err != nil {
			return Ref{}, fmt.Errorf("decode response: %w", err)
		}
	}
	if ref.ID == "" {
		if loc, err := url.Parse(res.header.Get("Location")); err == nil && loc.Path != "" {
			ref.ID = path.Base(loc.Path)
		}
	}
	if ref.ID == "" || ref.ID == "/" || ref.ID == "." {
		return Ref{}, errors.New("response has no connection id")
	}
	return ref, nil
}

// GetConnection returns one connection. An unknown id wraps [ErrNotFound].
func (c *Client) GetConnection(ctx context.Context, id string) (*Connection, error) {
	if err := checkID("get connection", id); err != nil {
		return nil, err
	}
	p := connectionPath(id)
	res, err := c.do(ctx, &request{method: http.MethodGet, path: p})
	if err != nil {
		return nil, err
	}
	var body struct {
		Items []Connection `json:"items"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		return nil, fmt.Errorf("GET %s: decode response: %w", p, err)
	}
	for i := range body.Items {
		if body.Items[i].ID == id {
			return &body.Items[i], nil
		}
	}
	// NOTE: the documented response for an unknown id is 404. An empty
	// items list is treated the same in case the service returns 200.
	return nil, fmt.Errorf("GET %s: %w: the response lists no connection with that id", p, ErrNotFound)
}

// ListConnections returns every connection matching opts, following
// continuation links across pages. On error it returns no connections, even
// if some pages were read. A listing of more than 1,000,000 items or 256 MiB
// of responses fails, because all of it is held in memory.
func (c *Client) ListConnections(ctx context.Context, opts ListOptions) ([]Connection, error) {
	query := url.Values{}
	for _, p := range opts.Properties {
		query.Add("property", p)
	}
	if opts.OrderBy != "" {
		query.Set("orderby", opts.OrderBy)
	}
	if opts.Limit > 0 {
		query.Set("limit", strconv.Itoa(opts.Limit))
	}
	var out []Connection
	err := c.listPages(ctx, "/connections", query, func(item json.RawMessage) error {
		var conn Connection
		if err := json.Unmarshal(item, &conn); err != nil {
			return fmt.Errorf("decode connection: %w", err)
		}
		out = append(out, conn)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountConnections returns how many connections match the property filters,
// using count=true so that no items are transferred.
func (c *Client) CountConnections(ctx context.Context, properties ...string) (int, error) {
	query := url.Values{"count": {"true"}}
	for _, p := range properties {
		query.Add("property", p)
	}
	res, err := c.do(ctx, &request{method: http.MethodGet, path: "/connections", query: query})
	if err != nil {
		return 0, err
	}
	var body struct {
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		return 0, fmt.Errorf("GET /connections?count=true: decode response: %w", err)
	}
	if body.Count == nil {
		return 0, errors.New("GET /connections?count=true: response has no count")
	}
	return *body.Count, nil
}

// FindConnectionsByName returns the connections whose name is exactly name,
// comparing case and spaces, in the order the service lists them.
//
// The service filters by name first (property=name=="<name>"), and the
// client keeps the exact matches, since how the service compares names is not
// documented.
func (c *Client) FindConnectionsByName(ctx context.Context, name string) ([]Connection, error) {
	var opts ListOptions
	// NOTE: the filter grammar is not documented beyond ==, the comparison
	// operators and commas for alternatives. A name with a quote, a comma, a
	// backslash or an operator character could be misread as syntax and
	// match nothing, which would hide an existing connection, so such names
	// are looked up by listing every connection.
	if !strings.ContainsAny(name, "\",\\=<>!") {
		opts.Properties = []string{`name=="` + name + `"`}
	}
	all, err := c.ListConnections(ctx, opts)
	if err != nil {
		return nil, err
	}
	var out []Connection
	for _, conn := range all {
		if conn.Name == name {
			out = append(out, conn)
		}
	}
	return out, nil
}

// PatchConnection applies ops with the header If-Match: ifMatch. A stale
// etag wraps [ErrPreconditionFailed]. Pass the etag exactly as
// GetConnection returned it.
//
// The request is retried after a failure, because a replay of an update that
// did succeed fails with 412 instead of applying twice. A 412 that follows an
// attempt without a usable response also wraps [ErrOutcomeUnknown], because
// the update may have been applied, so read the connection again. An empty
// ifMatch sends no If-Match header, which the service rejects (1403-400).
func (c *Client) PatchConnection(ctx context.Context, id, ifMatch string, ops []PatchOp) (Ref, error) {
	if err := checkID("patch connection", id); err != nil {
		return Ref{}, err
	}
	if len(ops) == 0 {
		return Ref{}, fmt.Errorf("patch connection %s: no operations", id)
	}

	body := make([]patchOpBody, len(ops))
	for i, op := range ops {
		body[i] = patchOpBody{Op: op.Op, Path: op.Path, Value: op.Value}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return Ref{}, fmt.Errorf("patch connection %s: encode body: %w", id, err)
	}
	var secrets redactor
	for _, op := range ops {
		secrets = op.secretValues(secrets)
	}

	p := connectionPath(id)
	res, err := c.do(ctx, &request{
		method:  http.MethodPatch,
		path:    p,
		body:    data,
		ifMatch: ifMatch,
		secrets: secrets,
	})
	if err != nil {
		return Ref{}, err
	}
	ref, err := decodeRef(res)
	if err != nil {
		return Ref{}, fmt.Errorf("PATCH %s: %w", p, err)
	}
	return ref, nil
}

// DeleteConnection deletes a connection. An unknown id wraps [ErrNotFound].
// If an attempt got no usable response and the retry finds the connection
// gone, the earlier attempt deleted it and DeleteConnection returns nil.
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	if err := checkID("delete connection", id); err != nil {
		return err
	}
	_, err := c.do(ctx, &request{method: http.MethodDelete, path: connectionPath(id)})
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.OutcomeUnknown && apiErr.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// TestConnection has the service connect to the source with a connection's
// credentials and returns whether that succeeded.
func (c *Client) TestConnection(ctx context.Context, id string) (bool, error) {
	if err := checkID("test connection", id); err != nil {
		return false, err
	}
	p := connectionPath(id) + "/test"
	res, err := c.do(ctx, &request{method: http.MethodGet, path: p})
	if err != nil {
		return false, err
	}
	var body struct {
		Result *bool `json:"result"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		return false, fmt.Errorf("GET %s: decode response: %w", p, err)
	}
	if body.Result == nil {
		return false, fmt.Errorf("GET %s: response has no result", p)
	}
	return *body.Result, nil
}

// ExploreConnection lists the objects of the source behind a connection
// (tables, for a database) and returns the response as sent. An empty
// objectType or object is left out of the query.
func (c *Client) ExploreConnection(ctx context.Context, id, objectType, object string) (json.RawMessage, error) {
	if err := checkID("explore connection", id); err != nil {
		return nil, err
	}
	query := url.Values{}
	if objectType != "" {
		query.Set("objectType", objectType)
	}
	if object != "" {
		query.Set("object", object)
	}
	p := connectionPath(id) + "/explore"
	res, err := c.do(ctx, &request{method: http.MethodGet, path: p, query: query})
	if err != nil {
		return nil, err
	}
	if !json.Valid(res.body) {
		return nil, fmt.Errorf("GET %s: response is not JSON", p)
	}
	return json.RawMessage(res.body), nil
}

// checkID rejects ids that would change the meaning of the URL path: an
// empty id would address the collection, and "." or ".." a parent.
func checkID(operation, id string) error {
	switch id {
	case "":
		return fmt.Errorf("%s: missing id", operation)
	case ".", "..":
		return fmt.Errorf("%s: invalid id %q", operation, id)
	}
	return nil
}

func connectionPath(id string) string {
	return "/connections/" + url.PathEscape(id)
}
