package emulator_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

var etagPattern = regexp.MustCompile(`^"[0-9a-f]{8}-0000-0200-0000-[0-9a-f]{8}0000"$`)

func TestConnectionLifecycle(t *testing.T) {
	_, srv := start(t, emulator.Options{})

	res := do(t, srv, "POST", base+"/connections", nil, mysqlBody("orders"))
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d, body %s", res.status, res.body)
	}
	ref := res.object(t)
	id, etag := ref["id"].(string), ref["etag"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("create: id %q is not a UUID v4", id)
	}
	if !etagPattern.MatchString(etag) {
		t.Errorf("create: etag %q is not a quoted Cosmos-style etag", etag)
	}
	if got, want := res.header.Get("Location"), base+"/connections/"+id; got != want {
		t.Errorf("create: Location = %q, want %q", got, want)
	}
	if res.header.Get("x-request-id") == "" {
		t.Error("create: no x-request-id header")
	}

	item := getItem(t, srv, id)
	for key, want := range map[string]any{
		"id": id, "name": "orders", "description": "Via Basic Authentication",
		"state": "enabled", "etag": etag, "version": etag,
		"sandboxName": "prod", "imsOrgId": testOrg,
		"createdBy": testAPIKey, "createdClient": testAPIKey,
		"updatedBy": testAPIKey, "updatedClient": testAPIKey,
	} {
		if item[key] != want {
			t.Errorf("get: %s = %v, want %v", key, item[key], want)
		}
	}
	params := item["auth"].(map[string]any)["params"].(map[string]any)
	if params["password"] != "***" {
		t.Errorf("get: password = %v, want masked", params["password"])
	}
	if params["username"] != "acme" {
		t.Errorf("get: username = %v, want acme", params["username"])
	}

	patch := []map[string]any{
		{"op": "replace", "path": "/name", "value": "orders-2"},
		{"op": "add", "path": "/description", "value": "changed"},
	}
	h := apiHeaders()
	h.Set("If-Match", etag)
	res = do(t, srv, "PATCH", base+"/connections/"+id, h, patch)
	if res.status != http.StatusOK {
		t.Fatalf("patch: status %d, body %s", res.status, res.body)
	}
	newEtag := res.object(t)["etag"].(string)
	if newEtag == etag || !etagPattern.MatchString(newEtag) {
		t.Errorf("patch: etag %q, want a new quoted etag (old %q)", newEtag, etag)
	}
	item = getItem(t, srv, id)
	if item["name"] != "orders-2" || item["description"] != "changed" || item["version"] != newEtag {
		t.Errorf("get after patch: name %v, description %v, version %v", item["name"], item["description"], item["version"])
	}

	res = do(t, srv, "DELETE", base+"/connections/"+id, nil, nil)
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("delete: status %d, body %q", res.status, res.body)
	}
	res = do(t, srv, "GET", base+"/connections/"+id, nil, nil)
	if res.status != http.StatusNotFound || errorCode(t, res) != "1101-404" {
		t.Errorf("get after delete: status %d, body %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), canary) {
		t.Error("response contains the secret")
	}
}

func TestCreateRejectsInvalidBodies(t *testing.T) {
	withAuth := func(specName string, params map[string]any) map[string]any {
		b := mysqlBody("orders")
		b["auth"] = map[string]any{"specName": specName, "params": params}
		return b
	}
	basic := func(edit func(p map[string]any)) map[string]any {
		p := map[string]any{"server": "db", "port": "3306", "database": "d", "username": "u", "password": canary}
		edit(p)
		return withAuth("Basic Authentication", p)
	}
	tests := []struct {
		name string
		body any
		code string
	}{
		{"empty body", "", "1405-400"},
		{"null body", "null", "1405-400"},
		{"malformed JSON", `{"name":`, "1100-400"},
		{"wrong field type", `{"name": 5}`, "1100-400"},
		{"no connection spec", `{"name":"x"}`, "1413-400"},
		{"unknown connection spec", func() any {
			b := mysqlBody("orders")
			b["connectionSpec"] = map[string]any{"id": "00000000-0000-0000-0000-000000000000", "version": "1.0"}
			return b
		}(), "1413-400"},
		{"unknown spec version", func() any {
			b := mysqlBody("orders")
			b["connectionSpec"] = map[string]any{"id": mysqlSpecID, "version": "9.9"}
			return b
		}(), "1413-400"},
		{"missing name", func() any { b := mysqlBody(""); return b }(), "1100-400"},
		{"missing auth", func() any { b := mysqlBody("orders"); delete(b, "auth"); return b }(), "1100-400"},
		{"unknown auth spec", withAuth("OAuth 2", map[string]any{}), "1415-400"},
		{"missing password", basic(func(p map[string]any) { delete(p, "password") }), "1100-400"},
		{"numeric port", basic(func(p map[string]any) { p["port"] = 3306 }), "1100-400"},
		{"bad ssl mode", basic(func(p map[string]any) { p["sslMode"] = "sometimes" }), "1100-400"},
		{"unknown param", basic(func(p map[string]any) { p["pasword"] = canary }), "1100-400"},
		{"connection string without pwd", withAuth("Connection String Based Authentication",
			map[string]any{"connectionString": "Server=db;Port=3306;Database=d;Uid=u;Secret=" + canary}), "1100-400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t, emulator.Options{})
			res := do(t, srv, "POST", base+"/connections", nil, tt.body)
			if res.status != 400 {
				t.Fatalf("status = %d, want 400; body %s", res.status, res.body)
			}
			if got := errorCode(t, res); got != tt.code {
				t.Errorf("code = %q, want %q; body %s", got, tt.code, res.body)
			}
			if strings.Contains(string(res.body), canary) {
				t.Errorf("error body shows the secret: %s", res.body)
			}
			if n := do(t, srv, "GET", base+"/connections?count=true", nil, nil).object(t)["count"]; n != 0.0 {
				t.Errorf("count after a rejected create = %v, want 0", n)
			}
		})
	}
}

func TestCreateAcceptsDocumentedVariants(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(b map[string]any)
		params map[string]any // expected params of the GET
	}{
		{
			name:   "connection string is masked",
			edit:   func(b map[string]any) { b["auth"] = connStringAuth() },
			params: map[string]any{"connectionString": "***"},
		},
		{
			name: "aws boolean ssl mode without port",
			edit: func(b map[string]any) {
				p := b["auth"].(map[string]any)["params"].(map[string]any)
				p["sslMode"] = "false"
				delete(p, "port")
			},
			params: map[string]any{"server": "127.0.0.1", "database": "acme", "username": "acme",
				"password": "***", "sslMode": "false"},
		},
		{
			name: "version omitted means the latest",
			edit: func(b map[string]any) { b["connectionSpec"] = map[string]any{"id": mysqlSpecID} },
			params: map[string]any{"server": "127.0.0.1", "port": "3306", "database": "acme", "username": "acme",
				"password": "***", "sslMode": "DISABLED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t, emulator.Options{})
			b := mysqlBody("orders")
			tt.edit(b)
			id, _ := create(t, srv, b)
			item := getItem(t, srv, id)
			got := item["auth"].(map[string]any)["params"]
			if diff := cmp.Diff(tt.params, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			if v := item["connectionSpec"].(map[string]any)["version"]; v != "1.0" {
				t.Errorf("connectionSpec.version = %v, want 1.0", v)
			}
		})
	}
}

func connStringAuth() map[string]any {
	return map[string]any{
		"specName": "Connection String Based Authentication",
		"params": map[string]any{
			"connectionString": "Server=127.0.0.1;Port=3306;Database=acme;UID=acme;PWD=" + canary,
		},
	}
}

func TestOmitSecretsLeavesSecretParamsOut(t *testing.T) {
	_, srv := start(t, emulator.Options{OmitSecrets: true})
	id, _ := create(t, srv, mysqlBody("orders"))
	params := getItem(t, srv, id)["auth"].(map[string]any)["params"].(map[string]any)
	if _, ok := params["password"]; ok {
		t.Errorf("password present: %v", params["password"])
	}
	if params["username"] != "acme" {
		t.Errorf("username = %v, want acme", params["username"])
	}
}

func TestGetUnknownConnection(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	const id = "0a0a0a0a-0000-4000-8000-000000000000"
	res := do(t, srv, "GET", base+"/connections/"+id, nil, nil)
	if res.status != 404 {
		t.Fatalf("status = %d, want 404", res.status)
	}
	body := res.object(t)
	if body["type"] != "https://ns.adobe.com/aep/errors/FLOW-1101-404" || body["status"] != 404.0 {
		t.Errorf("type %v, status %v", body["type"], body["status"])
	}
	report := body["report"].(map[string]any)
	if report["id"] != id || report["request-id"] != res.header.Get("x-request-id") {
		t.Errorf("report = %v, x-request-id %q", report, res.header.Get("x-request-id"))
	}
	if body["errorMessage"] == "" || body["errorMessage"] != report["detailed-message"] {
		t.Errorf("errorMessage %q, detailed-message %q", body["errorMessage"], report["detailed-message"])
	}
}

func TestPatchRejectsInvalidRequests(t *testing.T) {
	tests := []struct {
		name    string
		ifMatch string // "stale", "current" or "" for none
		body    any
		status  int
		code    string
	}{
		{"missing If-Match", "", []map[string]any{{"op": "replace", "path": "/name", "value": "x"}}, 400, "1403-400"},
		{"stale version", "stale", []map[string]any{{"op": "replace", "path": "/name", "value": "x"}}, 412, "1404-412"},
		{"wildcard version", "*", []map[string]any{{"op": "replace", "path": "/name", "value": "x"}}, 412, "1404-412"},
		{"empty body", "current", "", 400, "1405-400"},
		{"empty array", "current", "[]", 400, "1405-400"},
		{"not JSON", "current", "[{", 400, "1100-400"},
		{"move", "current", []map[string]any{{"op": "move", "from": "/name", "path": "/description"}}, 400, "1434-400"},
		{"copy", "current", []map[string]any{{"op": "copy", "from": "/name", "path": "/description"}}, 400, "1434-400"},
		{"test", "current", []map[string]any{{"op": "test", "path": "/name", "value": "orders"}}, 400, "1434-400"},
		{"connection spec", "current", []map[string]any{{"op": "replace", "path": "/connectionSpec",
			"value": map[string]any{"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"}}}, 400, "1414-400"},
		{"connection spec id", "current", []map[string]any{{"op": "replace", "path": "/connectionSpec/id",
			"value": "74a1c565-4e59-48d7-9d67-7c03b8a13137"}}, 400, "1414-400"},
		{"unknown path", "current", []map[string]any{{"op": "replace", "path": "/keyWhichDoesNotExist", "value": "x"}}, 400, "1455-400"},
		{"read-only field", "current", []map[string]any{{"op": "replace", "path": "/state", "value": "disabled"}}, 400, "1455-400"},
		{"remove name", "current", []map[string]any{{"op": "remove", "path": "/name"}}, 400, "1455-400"},
		{"remove missing param", "current", []map[string]any{{"op": "remove", "path": "/auth/params/nope"}}, 400, "1455-400"},
		{"replace without value", "current", []map[string]any{{"op": "replace", "path": "/name"}}, 400, "1455-400"},
		{"params not an object", "current", []map[string]any{{"op": "replace", "path": "/auth/params", "value": "x"}}, 400, "1455-400"},
		{"unknown auth spec", "current", []map[string]any{{"op": "replace", "path": "/auth/specName", "value": "OAuth 2"}}, 400, "1415-400"},
		{"params fail the schema", "current", []map[string]any{{"op": "replace", "path": "/auth/params",
			"value": map[string]any{"server": "db", "username": "u", "password": canary}}}, 400, "1100-400"},
		{"param fails the schema", "current", []map[string]any{{"op": "replace", "path": "/auth/params/sslMode",
			"value": "sometimes"}}, 400, "1100-400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t, emulator.Options{})
			id, etag := create(t, srv, mysqlBody("orders"))
			h := apiHeaders()
			switch tt.ifMatch {
			case "current":
				h.Set("If-Match", etag)
			case "stale":
				h.Set("If-Match", `"00000000-0000-0200-0000-000000000000"`)
			case "":
			default:
				h.Set("If-Match", tt.ifMatch)
			}
			res := do(t, srv, "PATCH", base+"/connections/"+id, h, tt.body)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if got := errorCode(t, res); got != tt.code {
				t.Errorf("code = %q, want %q; body %s", got, tt.code, res.body)
			}
			if strings.Contains(string(res.body), canary) {
				t.Errorf("error body shows the secret: %s", res.body)
			}
			if item := getItem(t, srv, id); item["etag"] != etag || item["name"] != "orders" {
				t.Errorf("rejected patch changed the connection: etag %v, name %v", item["etag"], item["name"])
			}
		})
	}
}

func TestPatchUnknownConnection(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	h := apiHeaders()
	h.Set("If-Match", `"00000000-0000-0200-0000-000000000000"`)
	res := do(t, srv, "PATCH", base+"/connections/0a0a0a0a-0000-4000-8000-000000000000", h,
		[]map[string]any{{"op": "replace", "path": "/name", "value": "x"}})
	if res.status != 404 || errorCode(t, res) != "1101-404" {
		t.Errorf("status %d, body %s", res.status, res.body)
	}
}

func TestPatchAppliesOperations(t *testing.T) {
	tests := []struct {
		name    string
		path    string // URL suffix after the id
		ifMatch func(etag string) string
		ops     any
		check   func(t *testing.T, item map[string]any)
	}{
		{
			name:    "documented update with unquoted If-Match",
			ifMatch: func(etag string) string { return strings.Trim(etag, `"`) },
			ops: []map[string]any{
				{"op": "replace", "path": "/auth/params", "value": map[string]any{
					"server": "db2", "database": "acme", "username": "u2", "password": "new-" + canary}},
				{"op": "replace", "path": "/name", "value": "renamed"},
				{"op": "add", "path": "/description", "value": "new description"},
			},
			check: func(t *testing.T, item map[string]any) {
				want := map[string]any{"server": "db2", "database": "acme", "username": "u2", "password": "***"}
				if diff := cmp.Diff(want, item["auth"].(map[string]any)["params"]); diff != "" {
					t.Errorf("replace /auth/params must replace the whole object (-want +got):\n%s", diff)
				}
				if item["name"] != "renamed" || item["description"] != "new description" {
					t.Errorf("name %v, description %v", item["name"], item["description"])
				}
			},
		},
		{
			name:    "uppercase ops, trailing slash",
			path:    "/",
			ifMatch: func(etag string) string { return etag },
			ops: []map[string]any{
				{"op": "REPLACE", "path": "/name", "value": "renamed"},
				{"op": "REMOVE", "path": "/description"},
			},
			check: func(t *testing.T, item map[string]any) {
				if item["name"] != "renamed" {
					t.Errorf("name = %v", item["name"])
				}
				if _, ok := item["description"]; ok {
					t.Errorf("description = %v, want removed", item["description"])
				}
			},
		},
		{
			name:    "single operation object",
			ifMatch: func(etag string) string { return etag },
			ops:     map[string]any{"op": "ADD", "path": "/description", "value": "one op"},
			check: func(t *testing.T, item map[string]any) {
				if item["description"] != "one op" {
					t.Errorf("description = %v", item["description"])
				}
			},
		},
		{
			name:    "one param",
			ifMatch: func(etag string) string { return etag },
			ops: []map[string]any{
				{"op": "replace", "path": "/auth/params/server", "value": "db3"},
				{"op": "remove", "path": "/auth/params/port"},
			},
			check: func(t *testing.T, item map[string]any) {
				params := item["auth"].(map[string]any)["params"].(map[string]any)
				if params["server"] != "db3" || params["password"] != "***" {
					t.Errorf("params = %v", params)
				}
				if _, ok := params["port"]; ok {
					t.Errorf("port = %v, want removed", params["port"])
				}
			},
		},
		{
			name:    "switch to connection string auth",
			ifMatch: func(etag string) string { return etag },
			ops: []map[string]any{
				{"op": "replace", "path": "/auth/specName", "value": "Connection String Based Authentication"},
				{"op": "replace", "path": "/auth/params", "value": connStringAuth()["params"]},
			},
			check: func(t *testing.T, item map[string]any) {
				auth := item["auth"].(map[string]any)
				if auth["specName"] != "Connection String Based Authentication" {
					t.Errorf("specName = %v", auth["specName"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t, emulator.Options{})
			id, etag := create(t, srv, mysqlBody("orders"))
			before := getItem(t, srv, id)
			h := apiHeaders()
			h.Set("If-Match", tt.ifMatch(etag))
			res := do(t, srv, "PATCH", base+"/connections/"+id+tt.path, h, tt.ops)
			if res.status != 200 {
				t.Fatalf("status %d, body %s", res.status, res.body)
			}
			ref := res.object(t)
			if ref["id"] != id || ref["etag"] == etag || !etagPattern.MatchString(ref["etag"].(string)) {
				t.Errorf("response = %v, old etag %s", ref, etag)
			}
			item := getItem(t, srv, id)
			if item["etag"] != ref["etag"] || item["version"] != ref["etag"] {
				t.Errorf("etag %v, version %v, want %v", item["etag"], item["version"], ref["etag"])
			}
			if item["updatedAt"].(float64) < before["updatedAt"].(float64) || item["createdAt"] != before["createdAt"] {
				t.Errorf("createdAt %v -> %v, updatedAt %v -> %v",
					before["createdAt"], item["createdAt"], before["updatedAt"], item["updatedAt"])
			}
			tt.check(t, item)
			if strings.Contains(string(res.body), canary) {
				t.Error("response shows the secret")
			}
		})
	}
}

func TestPatchWithOldEtagAfterUpdateFails(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	id, etag := create(t, srv, mysqlBody("orders"))
	h := apiHeaders()
	h.Set("If-Match", etag)
	ops := []map[string]any{{"op": "replace", "path": "/name", "value": "once"}}
	if res := do(t, srv, "PATCH", base+"/connections/"+id, h, ops); res.status != 200 {
		t.Fatalf("first patch: status %d", res.status)
	}
	res := do(t, srv, "PATCH", base+"/connections/"+id, h, ops)
	if res.status != 412 || errorCode(t, res) != "1404-412" {
		t.Errorf("second patch with the same etag: status %d, body %s", res.status, res.body)
	}
}

func TestDeleteVariants(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	for _, suffix := range []string{"", "/"} {
		id, _ := create(t, srv, mysqlBody("orders"))
		res := do(t, srv, "DELETE", base+"/connections/"+id+suffix, nil, nil)
		if res.status != 204 || len(res.body) != 0 {
			t.Errorf("DELETE %q: status %d, body %q", suffix, res.status, res.body)
		}
		res = do(t, srv, "DELETE", base+"/connections/"+id+suffix, nil, nil)
		if res.status != 404 || errorCode(t, res) != "1101-404" {
			t.Errorf("second DELETE %q: status %d, body %s", suffix, res.status, res.body)
		}
	}
}

func TestUnsupportedRoutes(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	tests := []struct {
		method, path string
		status       int
	}{
		{"PUT", base + "/connections", 405},
		{"POST", base + "/connections/abc", 405},
		{"POST", base + "/connectionSpecs", 405},
		{"GET", base + "/flows", 404},
		{"GET", "/somewhere/else", 404},
	}
	for _, tt := range tests {
		res := do(t, srv, tt.method, tt.path, nil, "{}")
		if res.status != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, res.status, tt.status)
		}
	}
}
