package emulator_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
	"github.com/apply-cli/apply/schemas"
)

func TestConnectionSpecsList(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	res := do(t, srv, "GET", base+"/connectionSpecs", nil, nil)
	if res.status != 200 {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	items := res.object(t)["items"].([]any)
	if len(items) != len(schemas.ConnectionSpecs()) {
		t.Errorf("%d items, want one per embedded spec (%d)", len(items), len(schemas.ConnectionSpecs()))
	}
	if strings.Contains(string(res.body), `"x-`) {
		t.Error("served specs contain x- keywords")
	}
	for _, it := range items {
		spec := it.(map[string]any)
		for _, key := range []string{"id", "name", "providerId", "version", "authSpec"} {
			if _, ok := spec[key]; !ok {
				t.Errorf("spec %v: no %s", spec["id"], key)
			}
		}
		for _, a := range spec["authSpec"].([]any) {
			auth := a.(map[string]any)
			schema, _ := auth["spec"].(map[string]any)
			if auth["name"] == "" || auth["type"] == "" || schema["$schema"] != "http://json-schema.org/draft-07/schema#" {
				t.Errorf("spec %v: auth spec %v lacks name, type or a draft-07 schema", spec["id"], auth["name"])
			}
		}
	}
}

func TestConnectionSpecsFilterAndGet(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	res := do(t, srv, "GET", base+"/connectionSpecs?"+url.Values{"property": {"name==mysql"}}.Encode(), nil, nil)
	items := res.object(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != mysqlSpecID {
		t.Fatalf("filter name==mysql: %s", res.body)
	}

	res = do(t, srv, "GET", base+"/connectionSpecs/"+mysqlSpecID, nil, nil)
	var got struct {
		Items []struct {
			ID       string `json:"id"`
			AuthSpec []struct {
				Name string `json:"name"`
				Spec struct {
					Properties map[string]struct {
						Format string `json:"format"`
					} `json:"properties"`
				} `json:"spec"`
			} `json:"authSpec"`
		} `json:"items"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil || len(got.Items) != 1 {
		t.Fatalf("GET by id: %v, body %s", err, res.body)
	}
	names := map[string]string{}
	for _, a := range got.Items[0].AuthSpec {
		names[a.Name] = a.Spec.Properties["password"].Format
	}
	if f, ok := names["Basic Authentication"]; !ok || f != "password" {
		t.Errorf("Basic Authentication missing or password not format:password: %v", names)
	}
	if _, ok := names["Connection String Based Authentication"]; !ok {
		t.Errorf("Connection String Based Authentication missing: %v", names)
	}

	res = do(t, srv, "GET", base+"/connectionSpecs/00000000-0000-0000-0000-000000000000", nil, nil)
	if res.status != 404 || errorCode(t, res) != "1101-404" {
		t.Errorf("unknown spec: status %d, body %s", res.status, res.body)
	}
	res = do(t, srv, "GET", base+"/connectionSpecs?limit=1", nil, nil)
	if res.status != 400 || errorCode(t, res) != "1451-400" {
		t.Errorf("unknown param: status %d, body %s", res.status, res.body)
	}
}
