package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/apply-cli/apply/schemas"
)

// connectionSpec is one embedded connection spec, ready to serve and to
// validate auth params against.
type connectionSpec struct {
	id      string
	name    string
	version string
	served  map[string]any // the document as GET /connectionSpecs returns it
	auth    map[string]*authSpec
}

// authSpec is one entry of a connection spec's authSpec list.
type authSpec struct {
	name    string
	schema  *jsonschema.Schema
	secrets map[string]bool // params whose schema has "format": "password"
}

// specCatalog is the set of connection specs, keyed by id.
type specCatalog struct {
	byID  map[string]*connectionSpec
	order []*connectionSpec // sorted by id, the order GET /connectionSpecs lists
}

// loadSpecs compiles the embedded connection specs once per process. They
// are fixed at build time, so every emulator can share them.
var loadSpecs = sync.OnceValues(func() (*specCatalog, error) {
	cat := &specCatalog{byID: map[string]*connectionSpec{}}
	for _, data := range schemas.ConnectionSpecs() {
		spec, err := parseSpec(data)
		if err != nil {
			return nil, err
		}
		if _, dup := cat.byID[spec.id]; dup {
			return nil, fmt.Errorf("load connection specs: duplicate id %s", spec.id)
		}
		cat.byID[spec.id] = spec
		cat.order = append(cat.order, spec)
	}
	sort.Slice(cat.order, func(i, j int) bool { return cat.order[i].id < cat.order[j].id })
	return cat, nil
})

func parseSpec(data []byte) (*connectionSpec, error) {
	var doc struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		AuthSpec []struct {
			Name string          `json:"name"`
			Spec json.RawMessage `json:"spec"`
		} `json:"authSpec"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("load connection spec: %w", err)
	}
	spec := &connectionSpec{
		id:      doc.ID,
		name:    doc.Name,
		version: doc.Version,
		auth:    map[string]*authSpec{},
	}
	for _, a := range doc.AuthSpec {
		compiled, err := compileAuthSchema(doc.ID, a.Name, a.Spec)
		if err != nil {
			return nil, err
		}
		spec.auth[a.Name] = &authSpec{name: a.Name, schema: compiled, secrets: secretParams(a.Spec)}
	}

	var served map[string]any
	if err := json.Unmarshal(data, &served); err != nil {
		return nil, fmt.Errorf("load connection spec %s: %w", doc.ID, err)
	}
	stripExtensions(served)
	spec.served = served
	return spec, nil
}

func compileAuthSchema(specID, name string, schema json.RawMessage) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	url := "connectionspec:///" + specID + "/" + strings.ReplaceAll(name, " ", "_")
	if err := c.AddResource(url, bytes.NewReader(schema)); err != nil {
		return nil, fmt.Errorf("load connection spec %s: auth spec %q: %w", specID, name, err)
	}
	compiled, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("load connection spec %s: auth spec %q: %w", specID, name, err)
	}
	return compiled, nil
}

// secretParams lists the top-level properties marked "format": "password",
// which connection specs use for every secret field.
func secretParams(schema json.RawMessage) map[string]bool {
	var s struct {
		Properties map[string]struct {
			Format string `json:"format"`
		} `json:"properties"`
	}
	secrets := map[string]bool{}
	if json.Unmarshal(schema, &s) != nil {
		return secrets
	}
	for name, p := range s.Properties {
		if p.Format == "password" {
			secrets[name] = true
		}
	}
	return secrets
}

// stripExtensions removes the x- keywords that this repository adds to the
// embedded specs for its own tools. The real service does not send them.
func stripExtensions(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if strings.HasPrefix(k, "x-") {
				delete(v, k)
				continue
			}
			stripExtensions(child)
		}
	case []any:
		for _, child := range v {
			stripExtensions(child)
		}
	}
}

// validate checks params against the auth spec's schema. The message names
// the failing params and keywords, never their values, since params
// contain secrets.
func (a *authSpec) validate(params map[string]any) error {
	err := a.schema.Validate(map[string]any(params))
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err
	}
	var problems []string
	for _, unit := range ve.BasicOutput().Errors {
		if unit.Error == "" || strings.HasPrefix(unit.Error, "doesn't validate with") {
			continue // wrappers around the leaf errors
		}
		msg := unit.Error
		if strings.HasSuffix(unit.KeywordLocation, "/format") {
			msg = "is not valid" // the library's format message quotes the value
		}
		loc := unit.InstanceLocation
		if loc == "" {
			loc = "/"
		}
		problems = append(problems, "params"+strings.TrimSuffix(loc, "/")+": "+msg)
	}
	sort.Strings(problems)
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}

// maskParams returns params as GET shows them: each secret param replaced by
// a mask, or left out when omit is set.
func (a *authSpec) maskParams(params map[string]any, omit bool) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		// Without its auth spec (a state file written for a spec that
		// has since changed), every param is treated as a secret.
		if a == nil || a.secrets[k] {
			if omit {
				continue
			}
			// NOTE: whether the real service masks, encrypts or omits secret
			// params is undocumented; "***" is a guess.
			out[k] = secretMask
			continue
		}
		out[k] = v
	}
	return out
}

// secretMask replaces the value of a secret param in GET responses.
const secretMask = "***"
