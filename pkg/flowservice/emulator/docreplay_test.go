package emulator_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// These tests replay the documentation's examples (testdata/README.md names
// each source) and compare the emulator's responses with the documented
// ones by shape.

// documentedEtag matches the etags of the documentation: a JSON string that
// contains the quotes of a Cosmos-style etag.
var documentedEtag = regexp.MustCompile(`^"[0-9a-f]{8}-0000-0200-0000-[0-9a-f]{8}0000"$`)

func readExample(t *testing.T, name string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func readRaw(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// shapeRules relax the comparison of objects at some paths (dotted, with []
// for array elements and * for any key). "params" objects may have other
// keys, all strings, because auth params depend on the connection spec.
// "subset" objects need only contain the documented keys. "open" objects
// may lack documented keys and have others, and only the keys both have
// are compared.
type shapeRules map[string]string

func (r shapeRules) at(path string) string {
	if rule, ok := r[path]; ok {
		return rule
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return r[path[:i]+".*"]
	}
	return ""
}

// compareShape reports every difference that shapeProblems finds.
func compareShape(t *testing.T, doc, got any, rules shapeRules) {
	t.Helper()
	for _, p := range shapeProblems(doc, got, rules) {
		t.Error(p)
	}
}

// shapeProblems lists every difference in keys and JSON types between a
// documented value and the emulator's, and checks the documented formats of
// etags, times and links.
func shapeProblems(doc, got any, rules shapeRules) []string {
	var problems []string
	var walk func(path string, doc, got any)
	walk = func(path string, doc, got any) {
		if jsonType(doc) != jsonType(got) {
			problems = append(problems, fmt.Sprintf("%s: type %s, documented %s", path, jsonType(got), jsonType(doc)))
			return
		}
		switch d := doc.(type) {
		case map[string]any:
			g := got.(map[string]any)
			rule := rules.at(path)
			for k := range d {
				if _, ok := g[k]; !ok && rule != "params" && rule != "open" {
					problems = append(problems, fmt.Sprintf("%s: missing documented key %q", path, k))
				}
			}
			for k, gv := range g {
				dv, ok := d[k]
				switch {
				case ok:
					walk(join(path, k), dv, gv)
				case rule == "params":
					if jsonType(gv) != "string" {
						problems = append(problems, fmt.Sprintf("%s.%s: param of type %s", path, k, jsonType(gv)))
					}
				case rule != "subset" && rule != "open":
					problems = append(problems, fmt.Sprintf("%s: undocumented key %q", path, k))
				}
			}
		case []any:
			g := got.([]any)
			if len(d) > 0 && len(g) == 0 {
				problems = append(problems, path+": empty, documented non-empty")
			}
			for _, gv := range g {
				walk(path+"[]", d[0], gv)
			}
		case string:
			g := got.(string)
			key := path[strings.LastIndex(path, ".")+1:]
			if (key == "etag" || key == "version") && documentedEtag.MatchString(d) && !documentedEtag.MatchString(g) {
				problems = append(problems, fmt.Sprintf("%s: %q is not a quoted etag like %q", path, g, d))
			}
			if key == "href" && strings.HasPrefix(d, "/connections?continuationToken=") &&
				!strings.HasPrefix(g, "/connections?continuationToken=") {
				problems = append(problems, fmt.Sprintf("%s: %q is not relative like %q", path, g, d))
			}
		case float64:
			g := got.(float64)
			if d > 1e12 && (g < 1e12 || g != math.Trunc(g)) {
				problems = append(problems, fmt.Sprintf("%s: %v is not epoch milliseconds like %v", path, g, d))
			}
			if d == math.Trunc(d) && g != math.Trunc(g) {
				problems = append(problems, fmt.Sprintf("%s: %v is not an integer", path, g))
			}
		}
	}
	walk("", doc, got)
	sort.Strings(problems)
	return problems
}

func TestShapeProblemsFindsDifferences(t *testing.T) {
	doc := map[string]any{
		"items": []any{map[string]any{
			"id": "x", "createdAt": 1597973312000.0, "etag": `"3600e378-0000-0200-0000-5f40212f0000"`,
		}},
		"_links": map[string]any{"next": map[string]any{"href": "/connections?continuationToken=abc"}},
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"missing key", `{"items":[{"createdAt":1597973312000,"etag":"\"3600e378-0000-0200-0000-5f40212f0000\""}],"_links":{"next":{"href":"/connections?continuationToken=a"}}}`,
			`items[]: missing documented key "id"`},
		{"extra key", `{"items":[],"_links":{},"count":1}`, `: undocumented key "count"`},
		{"wrong type", `{"items":[{"id":1,"createdAt":1597973312000,"etag":"\"3600e378-0000-0200-0000-5f40212f0000\""}],"_links":{}}`,
			`items[].id: type number, documented string`},
		{"seconds not milliseconds", `{"items":[{"id":"x","createdAt":1597973312,"etag":"\"3600e378-0000-0200-0000-5f40212f0000\""}],"_links":{}}`,
			`items[].createdAt: 1.597973312e+09 is not epoch milliseconds like 1.597973312e+12`},
		{"unquoted etag", `{"items":[{"id":"x","createdAt":1597973312000,"etag":"3600e378-0000-0200-0000-5f40212f0000"}],"_links":{}}`,
			`items[].etag: "3600e378-0000-0200-0000-5f40212f0000" is not a quoted etag like "\"3600e378-0000-0200-0000-5f40212f0000\""`},
		{"absolute link", `{"items":[],"_links":{"next":{"href":"https://platform.adobe.io/data/foundation/flowservice/connections?continuationToken=a"}}}`,
			`_links.next.href: "https://platform.adobe.io/data/foundation/flowservice/connections?continuationToken=a" is not relative like "/connections?continuationToken=abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			if err := json.Unmarshal([]byte(tt.got), &got); err != nil {
				t.Fatal(err)
			}
			problems := shapeProblems(doc, got, nil)
			if !slices.Contains(problems, tt.want) {
				t.Errorf("problems %q lack %q", problems, tt.want)
			}
		})
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func decode(t *testing.T, r response) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

var connectionRules = shapeRules{"items[].auth.params": "params"}

func TestReplayCreateAndGet(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	doc := readExample(t, "create.response.json")
	if !documentedEtag.MatchString(doc.(map[string]any)["etag"].(string)) {
		t.Fatal("the documented etag does not match the etag pattern")
	}

	res := do(t, srv, "POST", base+"/connections", nil, readRaw(t, "create-mysql-basic.request.json"))
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d, body %s", res.status, res.body)
	}
	compareShape(t, doc, decode(t, res), nil)
	id := res.object(t)["id"].(string)

	get := do(t, srv, "GET", base+"/connections/"+id, nil, nil)
	compareShape(t, readExample(t, "get-connection.response.json"), decode(t, get), connectionRules)
	item := getItem(t, srv, id)
	if item["version"] != item["etag"] {
		t.Errorf("version %v != etag %v", item["version"], item["etag"])
	}
	if strings.Contains(string(get.body), `"xxxx"`) {
		t.Error("GET shows the password in clear")
	}
}

func TestReplayUpdate(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	res := do(t, srv, "POST", base+"/connections", nil, readRaw(t, "create-salesforce.request.json"))
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d, body %s", res.status, res.body)
	}
	id, etag := res.object(t)["id"].(string), res.object(t)["etag"].(string)

	// The tutorial sends If-Match unquoted.
	h := apiHeaders()
	h.Set("If-Match", strings.Trim(etag, `"`))
	patch := do(t, srv, "PATCH", base+"/connections/"+id, h, readRaw(t, "patch.request.json"))
	if patch.status != http.StatusOK {
		t.Fatalf("patch: status %d, body %s", patch.status, patch.body)
	}
	compareShape(t, readExample(t, "patch.response.json"), decode(t, patch), nil)

	// After the update, environmentUrl is gone, as in the tutorial's
	// before and after GETs: replace /auth/params replaces the object.
	get := do(t, srv, "GET", base+"/connections/"+id, nil, nil)
	doc := readExample(t, "get-connection.response.json").(map[string]any)
	docItem := doc["items"].([]any)[0].(map[string]any)
	delete(docItem["auth"].(map[string]any)["params"].(map[string]any), "environmentUrl")
	compareShape(t, doc, decode(t, get), nil)
}

func TestReplayList(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	for range 3 {
		do(t, srv, "POST", base+"/connections", nil, readRaw(t, "create-salesforce.request.json"))
	}
	first := do(t, srv, "GET", base+"/connections?limit=2", nil, nil)
	compareShape(t, readExample(t, "list.response.json"), decode(t, first), connectionRules)

	href := first.object(t)["_links"].(map[string]any)["next"].(map[string]any)["href"].(string)
	last := do(t, srv, "GET", base+href, nil, nil)
	doc := readExample(t, "list.response.json").(map[string]any)
	doc["_links"] = map[string]any{}
	compareShape(t, doc, decode(t, last), connectionRules)

	count := do(t, srv, "GET", base+"/connections?count=true", nil, nil)
	compareShape(t, readExample(t, "count.response.json"), decode(t, count), nil)
}

func TestReplayErrors(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	notFound := do(t, srv, "GET", base+"/connections/84224def-0000-4000-8000-000000000000", nil, nil)
	compareShape(t, readExample(t, "error-not-found.response.json"), decode(t, notFound), nil)

	// Errors about a request rather than a resource have the report of the
	// documented 403 body.
	id, _ := create(t, srv, mysqlBody("orders"))
	noIfMatch := do(t, srv, "PATCH", base+"/connections/"+id, nil, `[{"op":"remove","path":"/description"}]`)
	compareShape(t, readExample(t, "error-forbidden.response.json"), decode(t, noIfMatch), nil)

	for _, r := range []response{notFound, noIfMatch} {
		body := r.object(t)
		status := body["status"].(float64)
		if float64(r.status) != status || !strings.HasSuffix(body["type"].(string), fmt.Sprintf("-%d", r.status)) {
			t.Errorf("HTTP %d, body status %v, type %v", r.status, status, body["type"])
		}
		if body["report"].(map[string]any)["request-id"] != r.header.Get("x-request-id") {
			t.Errorf("report.request-id differs from the x-request-id header")
		}
	}
}

func TestReplayConnectionSpec(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	res := do(t, srv, "GET", base+"/connectionSpecs/"+mysqlSpecID, nil, nil)
	compareShape(t, readExample(t, "connection-spec.response.json"), decode(t, res), shapeRules{
		"items[]":                              "subset",
		"items[].authSpec[].spec":              "subset",
		"items[].authSpec[].spec.properties":   "open",
		"items[].authSpec[].spec.properties.*": "subset",
	})
}

func TestReplayTokenResponse(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	res := do(t, srv, "POST", emulator.TokenPath, formHeaders(), tokenForm("client", "secret"))
	compareShape(t, readExample(t, "ims-token.response.json"), decode(t, res), nil)
	if got := res.object(t)["expires_in"]; got != 86399.0 {
		t.Errorf("expires_in = %v, want the documented 86399 seconds", got)
	}
}
