package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

const (
	base        = emulator.BasePath
	testOrg     = "5C1328435BF324E90A49402A@AdobeOrg"
	testAPIKey  = "apply-test-client"
	testToken   = "test-access-token"
	mysqlSpecID = "26d738e0-8963-47ea-aadf-c60de735468a"
	canary      = "canary-Secret-9f3b1c"
)

// start runs an emulator behind an httptest server on loopback.
func start(t *testing.T, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	e, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e, srv
}

// apiHeaders returns the headers every documented request sends.
func apiHeaders() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+testToken)
	h.Set("x-api-key", testAPIKey)
	h.Set("x-gw-ims-org-id", testOrg)
	h.Set("x-sandbox-name", "prod")
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	return h
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// object decodes the body as a JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode body %q: %v", r.body, err)
	}
	return m
}

// do sends a request. The body is sent as is when it is a string, and as
// JSON otherwise. A nil header means apiHeaders.
func do(t *testing.T, srv *httptest.Server, method, path string, header http.Header, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}

	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if header == nil {
		header = apiHeaders()
	}
	req.Header = header.Clone()

	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// mysqlBody returns a create body for a MySQL basic-auth connection.
func mysqlBody(name string) map[string]any {
	return map[string]any{
		"name":        name,
		"description": "Via Basic Authentication",
		"auth": map[string]any{
			"specName": "Basic Authentication",
			"params": map[string]any{
				"server": "127.0.0.1", "port": "3306", "database": "acme",
				"username": "acme", "password": canary, "sslMode": "DISABLED",
			},
		},
		"connectionSpec": map[string]any{"id": mysqlSpecID, "version": "1.0"},
	}
}

// create creates a connection and returns its id and etag.
func create(t *testing.T, srv *httptest.Server, body any) (id, etag string) {
	t.Helper()
	res := do(t, srv, "POST", base+"/connections", nil, body)
	if res.status != http.StatusCreated {
		t.Fatalf("POST /connections: status %d, body %s", res.status, res.body)
	}
	m := res.object(t)
	return m["id"].(string), m["etag"].(string)
}

// getItem returns the single item of GET /connections/{id}.
func getItem(t *testing.T, srv *httptest.Server, id string) map[string]any {
	t.Helper()
	res := do(t, srv, "GET", base+"/connections/"+id, nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET /connections/%s: status %d, body %s", id, res.status, res.body)
	}
	items := res.object(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("GET /connections/%s: %d items, want 1", id, len(items))
	}
	return items[0].(map[string]any)
}

// errorCode returns the catalog code of a Flow Service error body, such as
// "1404-412", or the error_code of a gateway error body.
func errorCode(t *testing.T, r response) string {
	t.Helper()
	m := r.object(t)
	if code, ok := m["error_code"].(string); ok {
		return code
	}
	typ, _ := m["type"].(string)
	return strings.TrimPrefix(typ, "https://ns.adobe.com/aep/errors/FLOW-")
}

// send is do for requests that may fail at the transport level: it returns
// the error instead of failing the test.
func send(t *testing.T, srv *httptest.Server, method, path string, header http.Header, body any) (response, error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}

	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if header == nil {
		header = apiHeaders()
	}
	req.Header = header.Clone()

	res, err := srv.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: data}, err
}

// serve runs e behind an httptest server that the test closes. The caller
// closes e.
func serve(t *testing.T, e *emulator.Emulator) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
