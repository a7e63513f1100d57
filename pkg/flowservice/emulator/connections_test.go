package emulator_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

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
