package emulator_test

import (
	"net/http"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

func TestHeaderChecksInOrder(t *testing.T) {
	tests := []struct {
		name     string
		opts     emulator.Options
		method   string
		edit     func(h http.Header)
		status   int
		code     string
		wantBody string // exact body, when the documentation gives one
	}{
		{
			name:     "no headers at all",
			method:   "GET",
			edit:     func(h http.Header) { clear(h) },
			status:   403,
			code:     "403010",
			wantBody: `{"error_code":"403010","message":"Oauth token is missing."}`,
		},
		{
			name:     "missing token before missing key",
			method:   "GET",
			edit:     func(h http.Header) { h.Del("Authorization"); h.Del("x-api-key") },
			status:   403,
			code:     "403010",
			wantBody: `{"error_code":"403010","message":"Oauth token is missing."}`,
		},
		{
			name:     "not a bearer token",
			method:   "GET",
			edit:     func(h http.Header) { h.Set("Authorization", "Basic dXNlcjpwYXNz") },
			status:   401,
			code:     "401013",
			wantBody: `{"error_code":"401013","message":"Oauth token is not valid"}`,
		},
		{
			name:   "unknown token in strict mode before missing key",
			opts:   emulator.Options{Token: "the-only-token"},
			method: "GET",
			edit:   func(h http.Header) { h.Del("x-api-key") },
			status: 401,
			code:   "401013",
		},
		{
			name:     "missing api key before missing org",
			method:   "GET",
			edit:     func(h http.Header) { h.Del("x-api-key"); h.Del("x-gw-ims-org-id") },
			status:   403,
			code:     "403000",
			wantBody: `{"error_code":"403000","message":"Api Key is required"}`,
		},
		{
			name:     "wrong api key in strict mode",
			opts:     emulator.Options{APIKey: "expected-key"},
			method:   "GET",
			edit:     func(h http.Header) {},
			status:   403,
			code:     "403003",
			wantBody: `{"error_code":"403003","message":"Api Key is invalid"}`,
		},
		{
			name:     "missing org",
			method:   "GET",
			edit:     func(h http.Header) { h.Del("x-gw-ims-org-id") },
			status:   400,
			code:     "400003",
			wantBody: `{"error_code":"400003","message":"Missing header"}`,
		},
		{
			name:     "post without content type",
			method:   "POST",
			edit:     func(h http.Header) { h.Del("Content-Type") },
			status:   400,
			wantBody: `{"type":"/placeholder/type/uri","status":400,"title":"BadRequestError","detail":"A valid content-type must be specified"}`,
		},
		{
			name:     "post with text content type",
			method:   "POST",
			edit:     func(h http.Header) { h.Set("Content-Type", "text/plain") },
			status:   400,
			wantBody: `{"type":"/placeholder/type/uri","status":400,"title":"BadRequestError","detail":"A valid content-type must be specified"}`,
		},
		{
			name:   "missing sandbox in strict mode",
			opts:   emulator.Options{StrictSandbox: true},
			method: "GET",
			edit:   func(h http.Header) { h.Del("x-sandbox-name") },
			status: 400,
			code:   "2105-400",
		},
		{
			name:   "missing sandbox defaults to prod",
			method: "GET",
			edit:   func(h http.Header) { h.Del("x-sandbox-name") },
			status: 200,
		},
		{
			name:   "get without content type",
			method: "GET",
			edit:   func(h http.Header) { h.Del("Content-Type") },
			status: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t, tt.opts)
			h := apiHeaders()
			tt.edit(h)
			var body any
			if tt.method == "POST" {
				body = mysqlBody("orders")
			}
			res := do(t, srv, tt.method, base+"/connections", h, body)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if tt.code != "" {
				if got := errorCode(t, res); got != tt.code {
					t.Errorf("code = %q, want %q", got, tt.code)
				}
			}
			if tt.wantBody != "" {
				if got := string(res.body); got != tt.wantBody+"\n" {
					t.Errorf("body = %s, want %s", got, tt.wantBody)
				}
			}
			if res.header.Get("x-request-id") == "" {
				t.Error("no x-request-id header")
			}
		})
	}
}

func TestStrictTokenAcceptsOnlyItsToken(t *testing.T) {
	_, srv := start(t, emulator.Options{Token: "the-only-token"})
	h := apiHeaders()
	h.Set("Authorization", "Bearer the-only-token")
	if res := do(t, srv, "GET", base+"/connections", h, nil); res.status != 200 {
		t.Errorf("configured token: status %d, body %s", res.status, res.body)
	}
	h.Set("Authorization", "Bearer another-token")
	if res := do(t, srv, "GET", base+"/connections", h, nil); res.status != 401 {
		t.Errorf("other token: status %d, want 401", res.status)
	}
}

func TestPatchAcceptsJSONPatchContentType(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	id, etag := create(t, srv, mysqlBody("orders"))
	h := apiHeaders()
	h.Set("Content-Type", "application/json-patch+json")
	h.Set("If-Match", etag)
	res := do(t, srv, "PATCH", base+"/connections/"+id, h,
		[]map[string]any{{"op": "replace", "path": "/name", "value": "renamed"}})
	if res.status != 200 {
		t.Errorf("status %d, body %s", res.status, res.body)
	}
}

func TestDataIsScopedByOrgAndSandbox(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	id, _ := create(t, srv, mysqlBody("orders"))

	tests := []struct {
		name    string
		org     string
		sandbox string // "" sends no header
		visible bool
	}{
		{"same org and sandbox", testOrg, "prod", true},
		{"default sandbox is prod", testOrg, "", true},
		{"other sandbox", testOrg, "dev", false},
		{"other org", "0000000000000000000000AA@AdobeOrg", "prod", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := apiHeaders()
			h.Set("x-gw-ims-org-id", tt.org)
			h.Del("x-sandbox-name")
			if tt.sandbox != "" {
				h.Set("x-sandbox-name", tt.sandbox)
			}
			get := do(t, srv, "GET", base+"/connections/"+id, h, nil)
			if got := get.status == 200; got != tt.visible {
				t.Errorf("GET by id: status %d, visible %v, want %v", get.status, got, tt.visible)
			}
			list := do(t, srv, "GET", base+"/connections?count=true", h, nil)
			wantCount := 0.0
			if tt.visible {
				wantCount = 1
			}
			if got := list.object(t)["count"]; got != wantCount {
				t.Errorf("count = %v, want %v", got, wantCount)
			}
			del := do(t, srv, "DELETE", base+"/connections/"+id, h, nil)
			if !tt.visible && del.status != 404 {
				t.Errorf("DELETE from another scope: status %d, want 404", del.status)
			}
			if tt.visible && del.status != 204 {
				t.Errorf("DELETE: status %d, want 204", del.status)
			}
			if tt.visible {
				id, _ = create(t, srv, mysqlBody("orders"))
			}
		})
	}
}
