package flowservice_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// mysqlInput is the documented MySQL create example as a ConnectionInput.
var mysqlInput = flowservice.ConnectionInput{
	Name:        "MySQL Base Connection to Experience Platform",
	Description: "Via Basic Authentication",
	ConnectionSpec: flowservice.SpecRef{
		ID:      "26d738e0-8963-47ea-aadf-c60de735468a",
		Version: "1.0",
	},
	AuthSpecName: "Basic Authentication",
	Params: map[string]string{
		"server": "localhost", "port": "443", "database": "mysql-acme",
		"username": "acme", "password": "xxxx", "sslMode": "DISABLED",
	},
}

func TestCreateConnectionDocumentedExample(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Location", apiBase+"/connections/025d4158-4113-403b-b551-e81724d3880c")
		writeJSON(w, http.StatusCreated, fixture(t, "create-response.json"))
	})
	c := newClient(t, srv.URL)

	ref, err := c.CreateConnection(context.Background(), mysqlInput)
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	want := flowservice.Ref{
		ID:   "025d4158-4113-403b-b551-e81724d3880c",
		Etag: `"ae004437-0000-0200-0000-67ee107e0000"`,
	}
	if ref != want {
		t.Errorf("CreateConnection = %+v, want %+v", ref, want)
	}

	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Path != apiBase+"/connections" {
		t.Errorf("request = %s %s, want POST %s/connections", got.Method, got.Path, apiBase)
	}
	sameJSON(t, "request body", fixture(t, "create-request-mysql.json"), got.Body)
}

func TestCreateConnectionIDFromLocation(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Location", apiBase+"/connections/abc-123")
		writeJSON(w, http.StatusCreated, []byte(`{"etag":"\"e1\""}`))
	})
	c := newClient(t, srv.URL)

	ref, err := c.CreateConnection(context.Background(), mysqlInput)
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if ref.ID != "abc-123" {
		t.Errorf("ID = %q, want abc-123 from the Location header", ref.ID)
	}
}

func TestCreateConnectionUnreadableSuccess(t *testing.T) {
	tests := []struct {
		name    string
		respond func(t *testing.T, w http.ResponseWriter, r *http.Request)
	}{
		{"not JSON", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusCreated, []byte("<html>created</html>"))
		}},
		{"without id", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusCreated, []byte(`{"etag":"\"e1\""}`))
		}},
		{"body cut short", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n" +
				"Content-Length: 100\r\n\r\n{\"id\":")
			buf.Flush()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				tc.respond(t, w, r)
			})
			c := newClient(t, srv.URL)

			_, err := c.CreateConnection(context.Background(), mysqlInput)
			if !errors.Is(err, flowservice.ErrCreatedIDUnknown) {
				t.Errorf("CreateConnection error = %v, want ErrCreatedIDUnknown: the connection exists", err)
			}
			if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
				t.Errorf("CreateConnection error = %v, want ErrOutcomeUnknown too", err)
			}
			if got := len(srv.requests()); got != 1 {
				t.Errorf("server got %d requests, want 1", got)
			}
		})
	}
}

func TestCreatedIDUnknownImpliesOutcomeUnknown(t *testing.T) {
	if !errors.Is(flowservice.ErrCreatedIDUnknown, flowservice.ErrOutcomeUnknown) {
		t.Error("ErrCreatedIDUnknown does not match ErrOutcomeUnknown")
	}
	if errors.Is(flowservice.ErrOutcomeUnknown, flowservice.ErrCreatedIDUnknown) {
		t.Error("ErrOutcomeUnknown matches ErrCreatedIDUnknown")
	}
	if got, want := flowservice.ErrCreatedIDUnknown.Error(), "connection created, but its id could not be read"; got != want {
		t.Errorf("ErrCreatedIDUnknown.Error() = %q, want %q", got, want)
	}
}

func TestCreateConnectionDefaultsSpecVersion(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusCreated, fixture(t, "create-response.json"))
	})
	c := newClient(t, srv.URL)
	in := mysqlInput
	in.ConnectionSpec.Version = ""

	if _, err := c.CreateConnection(context.Background(), in); err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	sameJSON(t, "request body", fixture(t, "create-request-mysql.json"), srv.requests()[0].Body)
}

func TestCreateConnectionRejectsInvalidInput(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	})
	c := newClient(t, srv.URL)
	tests := map[string]flowservice.ConnectionInput{
		"missing name":    {ConnectionSpec: flowservice.SpecRef{ID: "x"}},
		"missing spec id": {Name: "orders"},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := c.CreateConnection(context.Background(), in); err == nil {
				t.Error("CreateConnection succeeded, want an error")
			}
		})
	}
}

func TestGetConnectionDocumentedExample(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "get-connection.json"))
	})
	c := newClient(t, srv.URL)

	got, err := c.GetConnection(context.Background(), "139f6a5f-a78b-4744-9f6a-5fa78bd74431")
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	want := &flowservice.Connection{
		ID:          "139f6a5f-a78b-4744-9f6a-5fa78bd74431",
		Name:        "Test salesforce connection",
		Description: "A test salesforce connection",
		ConnectionSpec: flowservice.SpecRef{
			ID:      "cfc0fee1-7dc0-40ef-b73e-d8b134c436f5",
			Version: "1.0",
		},
		Auth: &flowservice.ConnectionAuth{
			SpecName: "Basic Authentication",
			Params: map[string]any{
				"username": "...", "password": "{PASSWORD}", "securityToken": "...",
			},
		},
		State:       "enabled",
		Etag:        `"3600e378-0000-0200-0000-5f40212f0000"`,
		Version:     `"3600e378-0000-0200-0000-5f40212f0000"`,
		CreatedAt:   1597973312000,
		UpdatedAt:   1598038319627,
		SandboxName: "prod",
		IMSOrgID:    "5C1328435BF324E90A49402A@AdobeOrg",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetConnection mismatch (-want +got):\n%s", diff)
	}
	if p := srv.requests()[0].Path; p != apiBase+"/connections/139f6a5f-a78b-4744-9f6a-5fa78bd74431" {
		t.Errorf("path = %s", p)
	}
}

func TestGetConnectionEmptyItemsIsNotFound(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"items":[]}`))
	})
	c := newClient(t, srv.URL)

	_, err := c.GetConnection(context.Background(), "gone")
	if !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("GetConnection error = %v, want ErrNotFound", err)
	}
}

func TestGetConnectionEscapesID(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"a/b?c"}]}`))
	})
	c := newClient(t, srv.URL)

	if _, err := c.GetConnection(context.Background(), "a/b?c"); err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	got := srv.requests()[0]
	if got.Path != apiBase+"/connections/a/b?c" || got.Query != "" {
		t.Errorf("server decoded path %q query %q, want the id as one escaped segment", got.Path, got.Query)
	}
}

func TestListConnectionsFollowsNextLink(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			writeJSON(w, http.StatusOK, fixture(t, "list-page-1.json"))
		default:
			writeJSON(w, http.StatusOK, fixture(t, "list-page-2.json"))
		}
	})
	c := newClient(t, srv.URL)

	got, err := c.ListConnections(context.Background(), flowservice.ListOptions{
		Properties: []string{"state==enabled", `name=="orders"`},
		OrderBy:    "-name",
		Limit:      1,
	})
	if err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	var ids []string
	for _, conn := range got {
		ids = append(ids, conn.ID)
	}
	wantIDs := []string{"139f6a5f-a78b-4744-9f6a-5fa78bd74431", "025d4158-4113-403b-b551-e81724d3880c"}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("ids mismatch (-want +got):\n%s", diff)
	}

	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("server got %d requests, want 2", len(reqs))
	}
	first, _ := url.ParseQuery(reqs[0].Query)
	wantFirst := url.Values{
		"property": {"state==enabled", `name=="orders"`},
		"orderby":  {"-name"},
		"limit":    {"1"},
	}
	if diff := cmp.Diff(wantFirst, first); diff != "" {
		t.Errorf("first page query mismatch (-want +got):\n%s", diff)
	}
	if reqs[1].Path != apiBase+"/connections" {
		t.Errorf("second page path = %s, want %s/connections", reqs[1].Path, apiBase)
	}
	second, _ := url.ParseQuery(reqs[1].Query)
	wantSecond := url.Values{
		"continuationToken": {"abcdefghijkLMNOPqrstupWXKYZ"},
		"property":          {"state==enabled", `name=="orders"`},
		"orderby":           {"-name"},
		"limit":             {"1"},
	}
	if diff := cmp.Diff(wantSecond, second); diff != "" {
		t.Errorf("second page query mismatch (-want +got):\n%s", diff)
	}
}

func TestCountConnectionsDocumentedExample(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "count.json"))
	})
	c := newClient(t, srv.URL)

	n, err := c.CountConnections(context.Background(), "state==enabled")
	if err != nil {
		t.Fatalf("CountConnections: %v", err)
	}
	if n != 95 {
		t.Errorf("CountConnections = %d, want 95", n)
	}
	query, _ := url.ParseQuery(srv.requests()[0].Query)
	want := url.Values{"count": {"true"}, "property": {"state==enabled"}}
	if diff := cmp.Diff(want, query); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

func TestPatchConnectionDocumentedExample(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "patch-response.json"))
	})
	c := newClient(t, srv.URL)
	ops := []flowservice.PatchOp{
		{Op: "replace", Path: "/auth/params", Value: map[string]string{
			"username": "u", "password": "{NEW_PASSWORD}", "securityToken": "{NEW_SECURITY_TOKEN}",
		}},
		{Op: "replace", Path: "/name", Value: "Test salesforce connection"},
		{Op: "add", Path: "/description", Value: "A test salesforce connection"},
	}
	const etag = `"1400dd53-0000-0200-0000-5f3f23450000"`

	ref, err := c.PatchConnection(context.Background(), "139f6a5f-a78b-4744-9f6a-5fa78bd74431", etag, ops)
	if err != nil {
		t.Fatalf("PatchConnection: %v", err)
	}
	wantRef := flowservice.Ref{
		ID:   "139f6a5f-a78b-4744-9f6a-5fa78bd74431",
		Etag: `"3600e378-0000-0200-0000-5f40212f0000"`,
	}
	if ref != wantRef {
		t.Errorf("PatchConnection = %+v, want %+v", ref, wantRef)
	}

	got := srv.requests()[0]
	if got.Method != http.MethodPatch {
		t.Errorf("method = %s, want PATCH", got.Method)
	}
	if got.Path != apiBase+"/connections/139f6a5f-a78b-4744-9f6a-5fa78bd74431" {
		t.Errorf("path = %s, want no trailing slash", got.Path)
	}
	if h := got.Header.Get("If-Match"); h != etag {
		t.Errorf("If-Match = %q, want the etag verbatim %q", h, etag)
	}
	if h := got.Header.Get("Content-Type"); h != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", h)
	}
	sameJSON(t, "request body", fixture(t, "patch-request.json"), got.Body)
}

func TestPatchConnectionRemoveOmitsValue(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "patch-response.json"))
	})
	c := newClient(t, srv.URL)
	ops := []flowservice.PatchOp{
		{Op: "remove", Path: "/description"},
		{Op: "replace", Path: "/description", Value: ""},
	}

	if _, err := c.PatchConnection(context.Background(), "id1", `"e"`, ops); err != nil {
		t.Fatalf("PatchConnection: %v", err)
	}
	want := `[{"op":"remove","path":"/description"},{"op":"replace","path":"/description","value":""}]`
	sameJSON(t, "request body", []byte(want), srv.requests()[0].Body)
}

func TestDeleteConnectionNoContent(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv.URL)

	if err := c.DeleteConnection(context.Background(), "139f6a5f-a78b-4744-9f6a-5fa78bd74431"); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	got := srv.requests()[0]
	if got.Method != http.MethodDelete || got.Path != apiBase+"/connections/139f6a5f-a78b-4744-9f6a-5fa78bd74431" {
		t.Errorf("request = %s %s", got.Method, got.Path)
	}
	if len(got.Body) != 0 {
		t.Errorf("DELETE sent a body: %q", got.Body)
	}
}

func TestGetConnectionSpecKeepsRawJSON(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "connection-spec-mysql.json"))
	})
	c := newClient(t, srv.URL)

	spec, err := c.GetConnectionSpec(context.Background(), "26d738e0-8963-47ea-aadf-c60de735468a")
	if err != nil {
		t.Fatalf("GetConnectionSpec: %v", err)
	}
	if p := srv.requests()[0].Path; p != apiBase+"/connectionSpecs/26d738e0-8963-47ea-aadf-c60de735468a" {
		t.Errorf("path = %s", p)
	}
	if spec.ID != "26d738e0-8963-47ea-aadf-c60de735468a" || spec.Name != "mysql" || spec.Version != "1.0" {
		t.Errorf("spec = %s %s %s", spec.ID, spec.Name, spec.Version)
	}

	var doc struct {
		Items    []json.RawMessage `json:"items"`
		AuthSpec []struct {
			Spec json.RawMessage `json:"spec"`
		}
	}
	if err := json.Unmarshal(fixture(t, "connection-spec-mysql.json"), &doc); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "Raw", doc.Items[0], spec.Raw)
	if err := json.Unmarshal(doc.Items[0], &doc); err != nil {
		t.Fatal(err)
	}
	if len(spec.AuthSpec) != 1 {
		t.Fatalf("got %d auth specs, want 1", len(spec.AuthSpec))
	}
	a := spec.AuthSpec[0]
	if a.Name != "Connection String Based Authentication" || a.Type != "connectionStringAuth" {
		t.Errorf("auth spec = %q %q", a.Name, a.Type)
	}
	sameJSON(t, "AuthSpec[0].Spec", doc.AuthSpec[0].Spec, a.Spec)
}

func TestListConnectionSpecs(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "connection-spec-list.json"))
	})
	c := newClient(t, srv.URL)

	specs, err := c.ListConnectionSpecs(context.Background(), "name==mysql,dynamics-online")
	if err != nil {
		t.Fatalf("ListConnectionSpecs: %v", err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name+"/"+s.AuthSpec[0].Name)
	}
	want := []string{
		"mysql/Connection String Based Authentication",
		"dynamics-online/Basic Authentication for Dynamics-Online",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("specs mismatch (-want +got):\n%s", diff)
	}
	query, _ := url.ParseQuery(srv.requests()[0].Query)
	if got := query["property"]; len(got) != 1 || got[0] != "name==mysql,dynamics-online" {
		t.Errorf("property = %q", got)
	}
}

func TestTestConnectionResult(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "test-result.json"))
	})
	c := newClient(t, srv.URL)

	ok, err := c.TestConnection(context.Background(), "id1")
	if err != nil {
		t.Fatalf("TestConnection: %v", err)
	}
	if !ok {
		t.Error("TestConnection = false, want true")
	}
	if p := srv.requests()[0].Path; p != apiBase+"/connections/id1/test" {
		t.Errorf("path = %s", p)
	}
}

func TestExploreConnectionQuery(t *testing.T) {
	const body = `{"items":[{"type":"table","name":"orders"}]}`
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(body))
	})
	c := newClient(t, srv.URL)

	got, err := c.ExploreConnection(context.Background(), "id1", "table", "shop.orders")
	if err != nil {
		t.Fatalf("ExploreConnection: %v", err)
	}
	if string(got) != body {
		t.Errorf("ExploreConnection = %s, want the response verbatim", got)
	}
	req := srv.requests()[0]
	query, _ := url.ParseQuery(req.Query)
	want := url.Values{"objectType": {"table"}, "object": {"shop.orders"}}
	if req.Path != apiBase+"/connections/id1/explore" {
		t.Errorf("path = %s", req.Path)
	}
	if diff := cmp.Diff(want, query); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// TestHeadersOnEveryCall checks the documented headers on each method of
// the client.
func TestHeadersOnEveryCall(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case r.Method == http.MethodPost:
			writeJSON(w, http.StatusCreated, fixture(t, "create-response.json"))
		case r.Method == http.MethodPatch:
			writeJSON(w, http.StatusOK, fixture(t, "patch-response.json"))
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Query().Get("count") == "true":
			writeJSON(w, http.StatusOK, fixture(t, "count.json"))
		case r.URL.Path == apiBase+"/connections/x/test":
			writeJSON(w, http.StatusOK, fixture(t, "test-result.json"))
		case r.URL.Path == apiBase+"/connectionSpecs/26d738e0-8963-47ea-aadf-c60de735468a":
			writeJSON(w, http.StatusOK, fixture(t, "connection-spec-mysql.json"))
		default:
			writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"x"}]}`))
		}
	})
	c := newClient(t, srv.URL)
	ctx := context.Background()
	calls := []struct {
		name     string
		hasBody  bool
		call     func() error
		wantPath string
	}{
		{"create", true, func() error { _, err := c.CreateConnection(ctx, mysqlInput); return err }, "/connections"},
		{"get", false, func() error { _, err := c.GetConnection(ctx, "x"); return err }, "/connections/x"},
		{"list", false, func() error { _, err := c.ListConnections(ctx, flowservice.ListOptions{}); return err }, "/connections"},
		{"find", false, func() error { _, err := c.FindConnectionsByName(ctx, "x"); return err }, "/connections"},
		{"count", false, func() error { _, err := c.CountConnections(ctx); return err }, "/connections"},
		{"patch", true, func() error {
			_, err := c.PatchConnection(ctx, "x", `"e"`, []flowservice.PatchOp{{Op: "replace", Path: "/name", Value: "n"}})
			return err
		}, "/connections/x"},
		{"delete", false, func() error { return c.DeleteConnection(ctx, "x") }, "/connections/x"},
		{"test", false, func() error { _, err := c.TestConnection(ctx, "x"); return err }, "/connections/x/test"},
		{"explore", false, func() error { _, err := c.ExploreConnection(ctx, "x", "", ""); return err }, "/connections/x/explore"},
		{"get spec", false, func() error {
			_, err := c.GetConnectionSpec(ctx, "26d738e0-8963-47ea-aadf-c60de735468a")
			return err
		}, "/connectionSpecs/26d738e0-8963-47ea-aadf-c60de735468a"},
		{"list specs", false, func() error { _, err := c.ListConnectionSpecs(ctx); return err }, "/connectionSpecs"},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.requests())
			if err := tc.call(); err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := srv.requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			req := reqs[0]
			if req.Path != apiBase+tc.wantPath {
				t.Errorf("path = %s, want %s%s", req.Path, apiBase, tc.wantPath)
			}
			want := map[string]string{
				"Authorization":   "Bearer " + testToken,
				"X-Api-Key":       testAPIKey,
				"X-Gw-Ims-Org-Id": testOrgID,
				"X-Sandbox-Name":  testSandbox,
				"Accept":          "application/json",
			}
			if tc.hasBody {
				want["Content-Type"] = "application/json"
			}
			for name, value := range want {
				if got := req.Header.Values(name); len(got) != 1 || got[0] != value {
					t.Errorf("header %s = %q, want %q", name, got, value)
				}
			}
			if !tc.hasBody && req.Header.Get("Content-Type") != "" {
				t.Errorf("Content-Type %q sent without a body", req.Header.Get("Content-Type"))
			}
		})
	}
}

func TestSandboxDefaultsToProd(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"items":[]}`))
	})
	c := newClient(t, srv.URL, func(cfg *flowservice.Config) { cfg.Sandbox = "" })

	if _, err := c.ListConnections(context.Background(), flowservice.ListOptions{}); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	if got := srv.requests()[0].Header.Get("x-sandbox-name"); got != "prod" {
		t.Errorf("x-sandbox-name = %q, want prod", got)
	}
}

func TestInvalidIDsSendNothing(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	})
	c := newClient(t, srv.URL)
	ctx := context.Background()
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetConnection(ctx, id); err == nil {
			t.Errorf("GetConnection(%q) succeeded", id)
		}
		if err := c.DeleteConnection(ctx, id); err == nil {
			t.Errorf("DeleteConnection(%q) succeeded", id)
		}
		if _, err := c.PatchConnection(ctx, id, `"e"`, []flowservice.PatchOp{{Op: "remove", Path: "/description"}}); err == nil {
			t.Errorf("PatchConnection(%q) succeeded", id)
		}
		if _, err := c.GetConnectionSpec(ctx, id); err == nil {
			t.Errorf("GetConnectionSpec(%q) succeeded", id)
		}
	}
}
