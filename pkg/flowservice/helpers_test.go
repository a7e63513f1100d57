package flowservice_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice"
)

const (
	testAPIKey  = "test-api-key"
	testOrgID   = "5C1328435BF324E90A49402A@AdobeOrg"
	testSandbox = "dev"
	testToken   = "test-token"
	apiBase     = "/data/foundation/flowservice"
)

// seenRequest is a request as the fake server received it.
type seenRequest struct {
	Method string
	Path   string
	Query  string // raw query
	Header http.Header
	Body   []byte
}

// fakeServer is an httptest server that records every request and passes it
// to a handler. n is the 1-based number of the request.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newFakeServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, n int)) *fakeServer {
	t.Helper()
	fs := &fakeServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		fs.mu.Lock()
		fs.seen = append(fs.seen, seenRequest{
			Method: r.Method,
			Path:   r.URL.Path,
			Query:  r.URL.RawQuery,
			Header: r.Header.Clone(),
			Body:   body,
		})
		n := len(fs.seen)
		fs.mu.Unlock()
		handler(w, r, n)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeServer) requests() []seenRequest {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]seenRequest(nil), fs.seen...)
}

// newClient returns a client for url with fast backoff. edit changes the
// configuration before the client is built.
func newClient(t *testing.T, url string, edit ...func(*flowservice.Config)) *flowservice.Client {
	t.Helper()
	cfg := flowservice.Config{
		Endpoint:   url,
		APIKey:     testAPIKey,
		OrgID:      testOrgID,
		Sandbox:    testSandbox,
		Token:      flowservice.StaticToken(testToken),
		MaxBackoff: 5 * time.Millisecond,
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := flowservice.New(cfg)
	if err != nil {
		t.Fatalf("flowservice.New: %v", err)
	}
	return c
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeJSON writes status and body with the JSON content type.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// dropConnection reads the request and closes the connection without a
// response, as a network failure after the server acted would.
func dropConnection(t *testing.T, w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

// sameJSON fails the test unless got and want contain equal JSON values.
func sameJSON(t *testing.T, what string, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: decode want: %v", what, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: decode got: %v\n%s", what, err, got)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}
