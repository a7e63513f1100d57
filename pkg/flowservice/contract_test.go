package flowservice_test

// The contract suite drives the client against the emulator over real
// loopback HTTP: every endpoint, every error code the emulator returns,
// paging with filters, token fetching and refresh, and the client's retries
// under each fault the emulator injects.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
	"github.com/apply-cli/apply/schemas"
)

const (
	mysqlSpecID      = "26d738e0-8963-47ea-aadf-c60de735468a"
	salesforceSpecID = "cfc0fee1-7dc0-40ef-b73e-d8b134c436f5"
	contractPassword = "CANARY-contract-pw-4b7e"
)

// startEmulator serves a new emulator on loopback and returns it with its
// URL. tokenRequests counts the calls of the IMS token endpoint.
func startEmulator(t *testing.T, opts emulator.Options) (*emulator.Emulator, string, *atomic.Int64) {
	t.Helper()
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	var tokenRequests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == emulator.TokenPath {
			tokenRequests.Add(1)
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		if err := emu.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return emu, srv.URL, &tokenRequests
}

// mysqlConnection returns a valid MySQL create input named name whose
// database is a closed loopback port, so that a test of it fails fast.
func mysqlConnection(name string) flowservice.ConnectionInput {
	return flowservice.ConnectionInput{
		Name:           name,
		Description:    "contract test",
		ConnectionSpec: flowservice.SpecRef{ID: mysqlSpecID, Version: "1.0"},
		AuthSpecName:   "Basic Authentication",
		Params: map[string]string{
			"server": "127.0.0.1", "port": "1", "database": "shop",
			"username": "apply", "password": contractPassword, "sslMode": "DISABLED",
		},
	}
}

// redactableConnection is mysqlConnection with every param at least four
// characters long. The client withholds the server's message of a request
// that carried a shorter value, which no search can redact reliably.
func redactableConnection(name string) flowservice.ConnectionInput {
	in := mysqlConnection(name)
	in.Params["port"] = "3306"
	return in
}

func salesforceConnection(name string) flowservice.ConnectionInput {
	return flowservice.ConnectionInput{
		Name:           name,
		ConnectionSpec: flowservice.SpecRef{ID: salesforceSpecID, Version: "1.0"},
		AuthSpecName:   "Basic Authentication",
		Params:         map[string]string{"username": "u", "password": contractPassword},
	}
}

// mustCreate creates in and fails the test on error.
func mustCreate(t *testing.T, c *flowservice.Client, in flowservice.ConnectionInput) flowservice.Ref {
	t.Helper()
	ref, err := c.CreateConnection(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateConnection(%s): %v", in.Name, err)
	}
	return ref
}

func TestContractConnectionLifecycle(t *testing.T) {
	_, url, _ := startEmulator(t, emulator.Options{})
	c := newClient(t, url)
	ctx := context.Background()
	before := time.Now().UnixMilli()

	// Create: 201 with an id and a quoted etag.
	ref := mustCreate(t, c, mysqlConnection("orders"))
	if ref.ID == "" {
		t.Fatal("create returned no id")
	}
	if !strings.HasPrefix(ref.Etag, `"`) || !strings.HasSuffix(ref.Etag, `"`) {
		t.Errorf("etag %s is not quoted", ref.Etag)
	}

	// Get: the documented fields, version equal to etag, secrets masked.
	conn, err := c.GetConnection(ctx, ref.ID)
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if conn.ID != ref.ID || conn.Name != "orders" || conn.Description != "contract test" {
		t.Errorf("connection = %s %q %q", conn.ID, conn.Name, conn.Description)
	}
	if conn.ConnectionSpec != (flowservice.SpecRef{ID: mysqlSpecID, Version: "1.0"}) {
		t.Errorf("connectionSpec = %+v", conn.ConnectionSpec)
	}
	if conn.Etag != ref.Etag || conn.Version != ref.Etag {
		t.Errorf("etag %s version %s, want both %s", conn.Etag, conn.Version, ref.Etag)
	}
	if conn.State != "enabled" || conn.SandboxName != testSandbox || conn.IMSOrgID != testOrgID {
		t.Errorf("state %q sandbox %q org %q", conn.State, conn.SandboxName, conn.IMSOrgID)
	}
	if conn.CreatedAt < before || conn.CreatedAt > time.Now().UnixMilli() || conn.UpdatedAt != conn.CreatedAt {
		t.Errorf("createdAt %d updatedAt %d, want epoch milliseconds of now", conn.CreatedAt, conn.UpdatedAt)
	}
	if conn.Auth == nil || conn.Auth.SpecName != "Basic Authentication" {
		t.Fatalf("auth = %+v", conn.Auth)
	}
	if pw := conn.Auth.Params["password"]; pw == contractPassword {
		t.Error("GET returned the password in clear")
	}
	if server := conn.Auth.Params["server"]; server != "127.0.0.1" {
		t.Errorf("server param = %v, want 127.0.0.1", server)
	}

	// Find and count.
	found, err := c.FindConnectionsByName(ctx, "orders")
	if err != nil || len(found) != 1 || found[0].ID != ref.ID {
		t.Errorf("FindConnectionsByName = %v, %v; want the one connection", found, err)
	}
	if n, err := c.CountConnections(ctx, `name=="orders"`); err != nil || n != 1 {
		t.Errorf("CountConnections = %d, %v; want 1", n, err)
	}

	// Patch with the quoted etag, then with the new one unquoted.
	renamed, err := c.PatchConnection(ctx, ref.ID, ref.Etag, []flowservice.PatchOp{
		{Op: "replace", Path: "/name", Value: "orders-renamed"},
		{Op: "add", Path: "/description", Value: "patched"},
	})
	if err != nil {
		t.Fatalf("PatchConnection (quoted etag): %v", err)
	}
	if renamed.ID != ref.ID || renamed.Etag == ref.Etag {
		t.Errorf("patch ref = %+v, want the same id and a new etag", renamed)
	}
	unquoted := strings.Trim(renamed.Etag, `"`)
	params, err := c.PatchConnection(ctx, ref.ID, unquoted, []flowservice.PatchOp{
		{Op: "replace", Path: "/auth/params", Value: map[string]string{
			"server": "127.0.0.2", "database": "shop", "username": "apply", "password": "new-" + contractPassword,
		}},
	})
	if err != nil {
		t.Fatalf("PatchConnection (unquoted etag): %v", err)
	}
	conn, err = c.GetConnection(ctx, ref.ID)
	if err != nil {
		t.Fatal(err)
	}
	if conn.Name != "orders-renamed" || conn.Description != "patched" || conn.Etag != params.Etag {
		t.Errorf("after patch: name %q description %q etag %s (want %s)", conn.Name, conn.Description, conn.Etag, params.Etag)
	}
	if _, ok := conn.Auth.Params["port"]; ok || conn.Auth.Params["server"] != "127.0.0.2" {
		t.Errorf("params after replacing /auth/params = %v, want the new object only", conn.Auth.Params)
	}
	if conn.UpdatedAt < conn.CreatedAt {
		t.Errorf("updatedAt %d before createdAt %d", conn.UpdatedAt, conn.CreatedAt)
	}

	// Delete, then the connection is gone.
	if err := c.DeleteConnection(ctx, ref.ID); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	if _, err := c.GetConnection(ctx, ref.ID); !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("GetConnection after delete = %v, want ErrNotFound", err)
	}
	if err := c.DeleteConnection(ctx, ref.ID); !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("second DeleteConnection = %v, want ErrNotFound", err)
	}
}

func TestContractTestAndExplore(t *testing.T) {
	_, url, _ := startEmulator(t, emulator.Options{VerifyTimeout: 2 * time.Second})
	c := newClient(t, url)
	ctx := context.Background()
	mysql := mustCreate(t, c, mysqlConnection("unreachable"))
	salesforce := mustCreate(t, c, salesforceConnection("crm"))

	if ok, err := c.TestConnection(ctx, mysql.ID); err != nil || ok {
		t.Errorf("TestConnection(MySQL on a closed port) = %v, %v; want false", ok, err)
	}
	if ok, err := c.TestConnection(ctx, salesforce.ID); err != nil || !ok {
		t.Errorf("TestConnection(Salesforce) = %v, %v; want true", ok, err)
	}
	if _, err := c.TestConnection(ctx, "no-such-id"); !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("TestConnection(unknown) = %v, want ErrNotFound", err)
	}

	got, err := c.ExploreConnection(ctx, salesforce.ID, "root", "")
	if err != nil {
		t.Fatalf("ExploreConnection: %v", err)
	}
	if strings.TrimSpace(string(got)) != "[]" {
		t.Errorf("ExploreConnection(Salesforce) = %s, want []", got)
	}
	if _, err := c.ExploreConnection(ctx, salesforce.ID, "bogus", ""); err == nil {
		t.Error("ExploreConnection with an unknown object type succeeded")
	}
}

func TestContractConnectionSpecs(t *testing.T) {
	_, url, _ := startEmulator(t, emulator.Options{})
	c := newClient(t, url)
	ctx := context.Background()

	embedded := map[string]struct {
		Name     string `json:"name"`
		AuthSpec []struct {
			Name string `json:"name"`
		} `json:"authSpec"`
	}{}
	for _, data := range schemas.ConnectionSpecs() {
		var doc struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		entry := embedded[doc.ID]
		if err := json.Unmarshal(data, &entry); err != nil {
			t.Fatal(err)
		}
		embedded[doc.ID] = entry
	}

	specs, err := c.ListConnectionSpecs(ctx)
	if err != nil {
		t.Fatalf("ListConnectionSpecs: %v", err)
	}
	if len(specs) != len(embedded) {
		t.Errorf("listed %d specs, want the %d embedded ones", len(specs), len(embedded))
	}
	for _, s := range specs {
		want, ok := embedded[s.ID]
		if !ok {
			t.Errorf("listed unknown spec %s", s.ID)
			continue
		}
		if s.Name != want.Name || len(s.AuthSpec) != len(want.AuthSpec) {
			t.Errorf("spec %s: name %q with %d auth specs, want %q with %d",
				s.ID, s.Name, len(s.AuthSpec), want.Name, len(want.AuthSpec))
		}
		for i, a := range s.AuthSpec {
			var schema struct {
				Properties map[string]any `json:"properties"`
			}
			if err := json.Unmarshal(a.Spec, &schema); err != nil || len(schema.Properties) == 0 {
				t.Errorf("spec %s auth spec %q: schema without properties (%v)", s.ID, a.Name, err)
			}
			if i < len(want.AuthSpec) && a.Name != want.AuthSpec[i].Name {
				t.Errorf("spec %s auth spec %d = %q, want %q", s.ID, i, a.Name, want.AuthSpec[i].Name)
			}
		}
		if !json.Valid(s.Raw) {
			t.Errorf("spec %s: Raw is not JSON", s.ID)
		}
	}

	filtered, err := c.ListConnectionSpecs(ctx, "name==mysql")
	if err != nil || len(filtered) != 1 || filtered[0].ID != mysqlSpecID {
		t.Errorf("ListConnectionSpecs(name==mysql) = %v, %v; want only MySQL", filtered, err)
	}

	mysql, err := c.GetConnectionSpec(ctx, mysqlSpecID)
	if err != nil {
		t.Fatalf("GetConnectionSpec: %v", err)
	}
	var raw struct {
		ID         string `json:"id"`
		ProviderID string `json:"providerId"`
	}
	if err := json.Unmarshal(mysql.Raw, &raw); err != nil || raw.ID != mysqlSpecID || raw.ProviderID == "" {
		t.Errorf("Raw = %s, want the whole MySQL spec item", mysql.Raw)
	}
	var names []string
	for _, a := range mysql.AuthSpec {
		names = append(names, a.Name)
	}
	if !slices.Contains(names, "Basic Authentication") || !slices.Contains(names, "Connection String Based Authentication") {
		t.Errorf("MySQL auth specs = %q", names)
	}

	if _, err := c.GetConnectionSpec(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("GetConnectionSpec(unknown) = %v, want ErrNotFound", err)
	}
}

// headerRewriter changes one request header before it leaves the client,
// to reach the emulator's checks of headers that the client always sends.
type headerRewriter struct {
	name, value string // an empty value removes the header
}

func (h headerRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if h.value == "" {
		req.Header.Del(h.name)
	} else {
		req.Header.Set(h.name, h.value)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestContractErrorCodes checks that the client turns each error the
// emulator returns into an *Error with the right code, status and sentinel.
func TestContractErrorCodes(t *testing.T) {
	ctx := context.Background()
	replaceName := []flowservice.PatchOp{{Op: "replace", Path: "/name", Value: "x"}}
	tests := []struct {
		name     string
		opts     emulator.Options
		edit     func(*flowservice.Config)
		call     func(t *testing.T, c *flowservice.Client, existing flowservice.Ref) error
		status   int
		code     string
		sentinel error
	}{
		{
			name: "missing token",
			edit: func(cfg *flowservice.Config) {
				cfg.HTTPClient = &http.Client{Transport: headerRewriter{name: "Authorization"}}
			},
			call:     getExisting,
			status:   403,
			code:     "403010",
			sentinel: flowservice.ErrUnauthorized,
		},
		{
			name:     "unknown token",
			opts:     emulator.Options{Token: "the-only-token"},
			call:     getExisting,
			status:   401,
			code:     "401013",
			sentinel: flowservice.ErrUnauthorized,
		},
		{
			name: "missing API key",
			edit: func(cfg *flowservice.Config) {
				cfg.HTTPClient = &http.Client{Transport: headerRewriter{name: "x-api-key"}}
			},
			call:     getExisting,
			status:   403,
			code:     "403000",
			sentinel: flowservice.ErrUnauthorized,
		},
		{
			name:     "invalid API key",
			opts:     emulator.Options{APIKey: "the-only-key"},
			call:     getExisting,
			status:   403,
			code:     "403003",
			sentinel: flowservice.ErrUnauthorized,
		},
		{
			name: "missing org",
			edit: func(cfg *flowservice.Config) {
				cfg.HTTPClient = &http.Client{Transport: headerRewriter{name: "x-gw-ims-org-id"}}
			},
			call:   getExisting,
			status: 400,
			code:   "400003",
		},
		{
			name: "missing sandbox in strict mode",
			opts: emulator.Options{StrictSandbox: true},
			edit: func(cfg *flowservice.Config) {
				cfg.HTTPClient = &http.Client{Transport: headerRewriter{name: "x-sandbox-name"}}
			},
			call:   getExisting,
			status: 400,
			code:   "2105-400",
		},
		{
			name: "create without content type",
			edit: func(cfg *flowservice.Config) {
				cfg.HTTPClient = &http.Client{Transport: headerRewriter{name: "Content-Type"}}
			},
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				_, err := c.CreateConnection(ctx, redactableConnection("no-content-type"))
				return err
			},
			status: 400,
		},
		{
			name: "unknown connection spec",
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				in := redactableConnection("bad-spec")
				in.ConnectionSpec.ID = "00000000-0000-0000-0000-000000000000"
				_, err := c.CreateConnection(ctx, in)
				return err
			},
			status: 400,
			code:   "1413-400",
		},
		{
			name: "unknown auth spec",
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				in := redactableConnection("bad-auth")
				in.AuthSpecName = "Kerberos"
				_, err := c.CreateConnection(ctx, in)
				return err
			},
			status: 400,
			code:   "1415-400",
		},
		{
			name: "params failing the auth schema",
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				in := redactableConnection("bad-params")
				delete(in.Params, "server")
				in.Params["sslMode"] = "MAYBE"
				_, err := c.CreateConnection(ctx, in)
				return err
			},
			status: 400,
			code:   "1100-400",
		},
		{
			name: "patch without If-Match",
			call: func(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
				_, err := c.PatchConnection(ctx, ref.ID, "", replaceName)
				return err
			},
			status: 400,
			code:   "1403-400",
		},
		{
			name: "patch with a stale quoted etag",
			call: func(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
				_, err := c.PatchConnection(ctx, ref.ID, `"0000dead-0000-0200-0000-000000000000"`, replaceName)
				return err
			},
			status:   412,
			code:     "1404-412",
			sentinel: flowservice.ErrPreconditionFailed,
		},
		{
			name: "patch with a stale unquoted etag",
			call: func(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
				_, err := c.PatchConnection(ctx, ref.ID, "0000dead-0000-0200-0000-000000000000", replaceName)
				return err
			},
			status:   412,
			code:     "1404-412",
			sentinel: flowservice.ErrPreconditionFailed,
		},
		{
			name: "unsupported patch operation",
			call: func(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
				_, err := c.PatchConnection(ctx, ref.ID, ref.Etag, []flowservice.PatchOp{{Op: "move", Path: "/name", Value: "x"}})
				return err
			},
			status: 400,
			code:   "1434-400",
		},
		{
			name: "changing the connection spec",
			call: func(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
				ops := []flowservice.PatchOp{{Op: "replace", Path: "/connectionSpec", Value: map[string]string{"id": salesforceSpecID}}}
				_, err := c.PatchConnection(ctx, ref.ID, ref.Etag, ops)
				return err
			},
			status: 400,
			code:   "1414-400",
		},
		{
			name: "patching a missing field",
			call: func(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
				ops := []flowservice.PatchOp{{Op: "replace", Path: "/keyWhichDoesNotExist", Value: "x"}}
				_, err := c.PatchConnection(ctx, ref.ID, ref.Etag, ops)
				return err
			},
			status: 400,
			code:   "1455-400",
		},
		{
			name: "get unknown id",
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				_, err := c.GetConnection(ctx, "6d1c4b0e-0000-4000-8000-000000000000")
				return err
			},
			status:   404,
			code:     "1101-404",
			sentinel: flowservice.ErrNotFound,
		},
		{
			name: "patch unknown id",
			call: func(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
				_, err := c.PatchConnection(ctx, "6d1c4b0e-0000-4000-8000-000000000000", ref.Etag, replaceName)
				return err
			},
			status:   404,
			code:     "1101-404",
			sentinel: flowservice.ErrNotFound,
		},
		{
			name: "delete unknown id",
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				return c.DeleteConnection(ctx, "6d1c4b0e-0000-4000-8000-000000000000")
			},
			status:   404,
			code:     "1101-404",
			sentinel: flowservice.ErrNotFound,
		},
		{
			name: "filter on an unknown field",
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				_, err := c.ListConnections(ctx, flowservice.ListOptions{Properties: []string{"colour==red"}})
				return err
			},
			status: 400,
			code:   "1449-400",
		},
		{
			name: "orderby an unknown field",
			call: func(t *testing.T, c *flowservice.Client, _ flowservice.Ref) error {
				_, err := c.ListConnections(ctx, flowservice.ListOptions{OrderBy: "-colour"})
				return err
			},
			status: 400,
			code:   "1433-400",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, url, _ := startEmulator(t, tc.opts)
			// The connection to patch is created with a plain client, so
			// that the case's header rewrite does not break the setup.
			setup := newClient(t, url, func(cfg *flowservice.Config) {
				if tc.opts.Token != "" {
					cfg.Token = flowservice.StaticToken(tc.opts.Token)
				}
				if tc.opts.APIKey != "" {
					cfg.APIKey = tc.opts.APIKey
				}
			})
			existing := mustCreate(t, setup, mysqlConnection("existing"))
			c := newClient(t, url, func(cfg *flowservice.Config) {
				cfg.MaxRetries = -1
				if tc.edit != nil {
					tc.edit(cfg)
				}
			})

			err := tc.call(t, c, existing)
			var apiErr *flowservice.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want *flowservice.Error", err, err)
			}
			if apiErr.Status != tc.status || apiErr.Code != tc.code {
				t.Errorf("status %d code %q, want %d %q (%v)", apiErr.Status, apiErr.Code, tc.status, tc.code, err)
			}
			if apiErr.Detail == "" {
				t.Errorf("error has no detail: %v", err)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not match %v", err, tc.sentinel)
			}
			if strings.Contains(err.Error(), contractPassword) {
				t.Errorf("error shows the password: %v", err)
			}
			if apiErr.RequestID == "" {
				t.Errorf("error has no request id: %v", err)
			}
		})
	}
}

func getExisting(t *testing.T, c *flowservice.Client, ref flowservice.Ref) error {
	_, err := c.GetConnection(context.Background(), ref.ID)
	return err
}

func TestContractPagingWithFilters(t *testing.T) {
	emu, url, _ := startEmulator(t, emulator.Options{PageSize: 7})
	c := newClient(t, url)
	ctx := context.Background()
	for i := range 25 {
		in := mysqlConnection(fmt.Sprintf("page-%02d", i))
		if i%2 == 0 {
			in.Description = "even"
		} else {
			in.Description = "odd"
		}
		mustCreate(t, c, in)
	}
	mustCreate(t, c, salesforceConnection("crm"))
	// A connection in another sandbox is invisible from this one.
	other := newClient(t, url, func(cfg *flowservice.Config) { cfg.Sandbox = "other" })
	mustCreate(t, other, mysqlConnection("page-99"))

	names := func(conns []flowservice.Connection) []string {
		var out []string
		for _, conn := range conns {
			out = append(out, conn.Name)
		}
		return out
	}

	t.Run("filter, descending order, small pages", func(t *testing.T) {
		emu.ResetStats()
		got, err := c.ListConnections(ctx, flowservice.ListOptions{
			Properties: []string{"description==even", "connectionSpec.id==" + mysqlSpecID},
			OrderBy:    "-name",
			Limit:      4,
		})
		if err != nil {
			t.Fatalf("ListConnections: %v", err)
		}
		var want []string
		for i := 24; i >= 0; i -= 2 {
			want = append(want, fmt.Sprintf("page-%02d", i))
		}
		if diff := cmp.Diff(want, names(got)); diff != "" {
			t.Errorf("names mismatch (-want +got):\n%s", diff)
		}
		// 13 matches in pages of 4.
		if pages := emu.Stats().Requests; pages != 4 {
			t.Errorf("listing took %d requests, want 4 pages", pages)
		}
	})

	t.Run("server default page size", func(t *testing.T) {
		emu.ResetStats()
		got, err := c.ListConnections(ctx, flowservice.ListOptions{OrderBy: "name"})
		if err != nil {
			t.Fatalf("ListConnections: %v", err)
		}
		if len(got) != 26 {
			t.Errorf("listed %d connections, want 26 (the other sandbox's left out)", len(got))
		}
		if !slices.IsSortedFunc(got, func(a, b flowservice.Connection) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("names not ascending: %q", names(got))
		}
		if pages := emu.Stats().Requests; pages != 4 {
			t.Errorf("listing took %d requests, want 4 pages of 7", pages)
		}
	})

	t.Run("alternatives and comparison", func(t *testing.T) {
		got, err := c.ListConnections(ctx, flowservice.ListOptions{
			Properties: []string{`name=="page-01","page-02",crm`},
			OrderBy:    "+name",
			Limit:      1,
		})
		if err != nil {
			t.Fatalf("ListConnections: %v", err)
		}
		if diff := cmp.Diff([]string{"crm", "page-01", "page-02"}, names(got)); diff != "" {
			t.Errorf("names mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("count", func(t *testing.T) {
		for _, tc := range []struct {
			properties []string
			want       int
		}{
			{nil, 26},
			{[]string{"description==odd"}, 12},
			{[]string{"description==odd", "name==page-01,page-02"}, 1},
			{[]string{"connectionSpec.id==" + salesforceSpecID}, 1},
		} {
			n, err := c.CountConnections(ctx, tc.properties...)
			if err != nil || n != tc.want {
				t.Errorf("CountConnections(%q) = %d, %v; want %d", tc.properties, n, err, tc.want)
			}
		}
	})

	t.Run("find by name", func(t *testing.T) {
		got, err := c.FindConnectionsByName(ctx, "page-07")
		if err != nil || len(got) != 1 || got[0].Name != "page-07" {
			t.Errorf("FindConnectionsByName = %q, %v", names(got), err)
		}
		got, err = other.FindConnectionsByName(ctx, "page-07")
		if err != nil || len(got) != 0 {
			t.Errorf("FindConnectionsByName in another sandbox = %q, %v; want none", names(got), err)
		}
	})
}

func TestContractTokenFetchAndRefresh(t *testing.T) {
	var clock struct {
		sync.Mutex
		offset time.Duration
	}
	now := func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		return time.Now().Add(clock.offset)
	}
	_, url, tokenRequests := startEmulator(t, emulator.Options{
		Token:        "no-static-token-matches",
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Clock:        now,
	})
	ts := newIMSSource(t, url)
	c := newClient(t, url, func(cfg *flowservice.Config) { cfg.Token = ts })
	ctx := context.Background()

	ref := mustCreate(t, c, mysqlConnection("token-test"))
	if _, err := c.GetConnection(ctx, ref.ID); err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if got := tokenRequests.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1 for two calls", got)
	}

	// The emulator's clock jumps past the token's expiry. The client still
	// has the token cached, gets 401013, and fetches a new one.
	clock.Lock()
	clock.offset = 25 * time.Hour
	clock.Unlock()
	if _, err := c.GetConnection(ctx, ref.ID); err != nil {
		t.Fatalf("GetConnection after expiry: %v", err)
	}
	if got := tokenRequests.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
	if got := c.Stats().TokenRefreshes; got != 1 {
		t.Errorf("Stats().TokenRefreshes = %d, want 1", got)
	}
}

func TestContractTokenRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	_, url, tokenRequests := startEmulator(t, emulator.Options{
		Token:    "no-static-token-matches",
		TokenTTL: 2 * time.Second,
	})
	ts := newIMSSource(t, url)
	c := newClient(t, url, func(cfg *flowservice.Config) { cfg.Token = ts })
	ctx := context.Background()

	ref := mustCreate(t, c, mysqlConnection("short-tokens"))
	// A 2 s token is replaced in its last tenth, so after 1.9 s the client
	// fetches a new one before the server would reject the old one.
	time.Sleep(1900 * time.Millisecond)
	if _, err := c.GetConnection(ctx, ref.ID); err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if got := tokenRequests.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
	if got := c.Stats().TokenRefreshes; got != 0 {
		t.Errorf("Stats().TokenRefreshes = %d, want 0: no request should have met a 401", got)
	}
}

func TestContractTokenRejectedCredentials(t *testing.T) {
	_, url, _ := startEmulator(t, emulator.Options{ClientID: testClientID, ClientSecret: "another-secret"})
	ts := newIMSSource(t, url)
	c := newClient(t, url, func(cfg *flowservice.Config) { cfg.Token = ts })

	_, err := c.GetConnection(context.Background(), "x")
	if !errors.Is(err, flowservice.ErrUnauthorized) {
		t.Errorf("error = %v, want ErrUnauthorized", err)
	}
	if err != nil && strings.Contains(err.Error(), testClientSecret) {
		t.Errorf("error shows the client secret: %v", err)
	}
}

func TestContractRateLimit(t *testing.T) {
	t.Parallel()
	emu, url, _ := startEmulator(t, emulator.Options{RateLimit: 10, RateBurst: 2})
	c := newClient(t, url, func(cfg *flowservice.Config) { cfg.MaxRetries = 10 })

	// Twelve parallel creates against a limit of 10/s: some get 429, and
	// the client resends those, since a 429 has no effect.
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = c.CreateConnection(context.Background(), mysqlConnection(fmt.Sprintf("rl-%02d", i)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d: %v", i, err)
		}
	}
	if got := c.Stats().Throttled; got == 0 {
		t.Error("no 429 seen; the test did not exercise the rate limit")
	}
	if got := emu.Stats().Connections; got != 12 {
		t.Errorf("emulator holds %d connections, want 12", got)
	}
}

func TestContractClientRateLimitAvoids429(t *testing.T) {
	t.Parallel()
	// The client sends at a quarter of the emulator's rate, and the
	// emulator's burst of five absorbs requests that scheduling delays
	// bunch together: a 429 would take six requests, sent over a second,
	// arriving within 50 ms. Without the client's limit, the ten requests
	// arrive together and five of them get 429.
	emu, url, _ := startEmulator(t, emulator.Options{RateLimit: 20, RateBurst: 5})
	c := newClient(t, url, func(cfg *flowservice.Config) { cfg.RateLimit = 5 })

	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, err := c.CountConnections(context.Background()); err != nil {
				t.Errorf("count %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := emu.Stats().RateLimited; got != 0 {
		t.Errorf("emulator answered %d requests with 429, want none below its limit", got)
	}
}

// createResolvingUnknown creates in the way a careful caller must: after an
// unknown outcome it looks the connection up by name and creates it again
// only if it does not exist.
func createResolvingUnknown(ctx context.Context, c *flowservice.Client, in flowservice.ConnectionInput) (unknown int, err error) {
	for {
		_, err := c.CreateConnection(ctx, in)
		if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
			return unknown, err
		}
		unknown++
		found, ferr := c.FindConnectionsByName(ctx, in.Name)
		if ferr != nil {
			return unknown, ferr
		}
		if len(found) > 0 {
			return unknown, nil
		}
	}
}

func TestContractErrorRate(t *testing.T) {
	emu, url, _ := startEmulator(t, emulator.Options{ErrorRate: 0.3, Seed: 7})
	c := newClient(t, url, func(cfg *flowservice.Config) { cfg.MaxRetries = 20 })
	ctx := context.Background()

	unknown := 0
	for i := range 20 {
		n, err := createResolvingUnknown(ctx, c, mysqlConnection(fmt.Sprintf("er-%02d", i)))
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		unknown += n
	}
	if unknown == 0 {
		t.Error("no create met an injected 500 or 503; the test exercised nothing")
	}
	// Injected errors strike before any effect, so every lookup found
	// nothing and no connection exists twice.
	if got := emu.Stats().Connections; got != 20 {
		t.Errorf("emulator holds %d connections, want 20", got)
	}

	// Reads, updates and deletes are retried through the errors.
	conns, err := c.ListConnections(ctx, flowservice.ListOptions{Limit: 3})
	if err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	for _, conn := range conns {
		ops := []flowservice.PatchOp{{Op: "replace", Path: "/description", Value: "patched"}}
		if _, err := c.PatchConnection(ctx, conn.ID, conn.Etag, ops); err != nil {
			t.Errorf("PatchConnection(%s): %v", conn.Name, err)
		}
		if err := c.DeleteConnection(ctx, conn.ID); err != nil {
			t.Errorf("DeleteConnection(%s): %v", conn.Name, err)
		}
	}
	if got := c.Stats().Retries; got == 0 {
		t.Error("no retry happened")
	}
	if got := emu.Stats().Connections; got != 0 {
		t.Errorf("emulator holds %d connections after deleting all, want 0", got)
	}
}

func TestContractLostResponses(t *testing.T) {
	emu, url, _ := startEmulator(t, emulator.Options{LostResponseRate: 0.4, Seed: 11})
	c := newClient(t, url, func(cfg *flowservice.Config) { cfg.MaxRetries = 20 })
	ctx := context.Background()

	// Creates: a lost response leaves the outcome unknown, and the lookup
	// finds the connection that was committed.
	unknown := 0
	for i := range 15 {
		n, err := createResolvingUnknown(ctx, c, mysqlConnection(fmt.Sprintf("lost-%02d", i)))
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		unknown += n
	}
	if unknown == 0 {
		t.Error("no create response was lost; the test exercised nothing")
	}
	if got := emu.Stats().Connections; got != 15 {
		t.Errorf("emulator holds %d connections, want 15: a lost create was repeated", got)
	}

	// Patches: a replay after a lost success fails with 412 and reports an
	// unknown outcome, and reading the connection shows the change applied.
	conns, err := c.ListConnections(ctx, flowservice.ListOptions{})
	if err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	replays := 0
	for _, conn := range conns {
		ops := []flowservice.PatchOp{{Op: "replace", Path: "/description", Value: "patched " + conn.Name}}
		_, err := c.PatchConnection(ctx, conn.ID, conn.Etag, ops)
		switch {
		case err == nil:
		case errors.Is(err, flowservice.ErrOutcomeUnknown) && errors.Is(err, flowservice.ErrPreconditionFailed):
			replays++
		default:
			t.Errorf("PatchConnection(%s): %v", conn.Name, err)
			continue
		}
		got, err := c.GetConnection(ctx, conn.ID)
		if err != nil || got.Description != "patched "+conn.Name {
			t.Errorf("after patching %s: description %q, %v", conn.Name, got.Description, err)
		}
	}
	if replays == 0 {
		t.Error("no patch response was lost; the test exercised nothing")
	}

	// Deletes: a retry that finds the connection gone counts as success.
	for _, conn := range conns {
		if err := c.DeleteConnection(ctx, conn.ID); err != nil {
			t.Errorf("DeleteConnection(%s): %v", conn.Name, err)
		}
	}
	if got := emu.Stats().Connections; got != 0 {
		t.Errorf("emulator holds %d connections after deleting all, want 0", got)
	}
	if got := emu.Stats().LostResponses; got == 0 {
		t.Error("emulator dropped no response")
	}
}

func TestContractLatency(t *testing.T) {
	t.Parallel()
	_, url, _ := startEmulator(t, emulator.Options{Latency: 20 * time.Millisecond, LatencyJitter: 20 * time.Millisecond})
	ctx := context.Background()

	t.Run("within the timeout", func(t *testing.T) {
		c := newClient(t, url)
		ref := mustCreate(t, c, mysqlConnection("slow"))
		if _, err := c.GetConnection(ctx, ref.ID); err != nil {
			t.Errorf("GetConnection: %v", err)
		}
	})

	// The timeout cases give the client 200 ms, enough to connect over
	// loopback even on a loaded machine, and the emulator 1 s, so that
	// every request that reaches it times out.
	const timeout, latency = 200 * time.Millisecond, time.Second

	t.Run("read past the timeout is retried then fails", func(t *testing.T) {
		emu, srv := serveEmulator(t, emulator.Options{Latency: latency})
		c := newClient(t, srv.URL, func(cfg *flowservice.Config) {
			cfg.HTTPClient = &http.Client{Timeout: timeout}
			cfg.MaxRetries = 2
		})
		_, err := c.ListConnections(ctx, flowservice.ListOptions{})
		if err == nil {
			t.Fatal("ListConnections succeeded despite the timeout")
		}
		if errors.Is(err, flowservice.ErrOutcomeUnknown) {
			t.Errorf("error = %v: a read has no outcome to be unknown", err)
		}
		if got := c.Stats().Requests; got != 3 {
			t.Errorf("Stats().Requests = %d, want 3", got)
		}
		srv.Close() // waits for the emulator to finish every request
		if got := emu.Stats().ByMethod[http.MethodGet]; got == 0 {
			t.Error("no GET reached the emulator; the test timed out connecting, not reading")
		}
	})

	t.Run("create past the timeout is outcome unknown", func(t *testing.T) {
		emu, srv := serveEmulator(t, emulator.Options{Latency: latency})
		c := newClient(t, srv.URL, func(cfg *flowservice.Config) {
			cfg.HTTPClient = &http.Client{Timeout: timeout}
		})
		_, err := c.CreateConnection(ctx, mysqlConnection("timed-out"))
		if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
			t.Errorf("error = %v, want ErrOutcomeUnknown", err)
		}
		// The client may resend a create whose attempt failed before
		// connecting, so the invariant is on what reached the server.
		srv.Close() // waits for the emulator to finish every request
		if got := emu.Stats().ByMethod[http.MethodPost]; got != 1 {
			t.Errorf("emulator got %d creates, want 1: a create that reached it must not be resent", got)
		}
	})

	t.Run("context deadline", func(t *testing.T) {
		c := newClient(t, url)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		_, err := c.CountConnections(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want context.DeadlineExceeded", err)
		}
	})
}

// serveEmulator serves a new emulator on loopback and returns it with its
// server, which a test may close early to wait for requests in flight.
func serveEmulator(t *testing.T, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		if err := emu.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return emu, srv
}
