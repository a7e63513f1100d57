package spec

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/apply-cli/apply/schemas"
)

// connectionSpec is a connection spec document prepared for checking the
// auth params of manifests.
type connectionSpec struct {
	id        string
	name      string
	version   string
	authSpecs []*authSpec
}

// authSpec is one entry of a connection spec's authSpec list.
type authSpec struct {
	name      string
	validator *schemaValidator
	params    map[string]paramSpec
}

// paramSpec is the part of one auth param's schema that apply reads.
type paramSpec struct {
	password     bool     // "format": "password": the value is secret
	types        []string // the schema's "type", nil when absent
	connString   bool     // "x-connectionString" is present
	requiredKeys []string // "x-connectionString": {"requiredKeys": [...]}, lower-cased
}

// specDocument is the part of a connection spec document that apply reads:
// one item of GET /connectionSpecs, or a response containing one item.
type specDocument struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	AuthSpec []struct {
		Name string          `json:"name"`
		Spec json.RawMessage `json:"spec"`
	} `json:"authSpec"`
	Items []json.RawMessage `json:"items"`
}

// parseConnectionSpec reads a connection spec document and compiles the
// schema of each of its auth specs.
func parseConnectionSpec(doc []byte) (*connectionSpec, error) {
	var d specDocument
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("decode connection spec: %v", err)
	}
	if d.ID == "" && len(d.Items) == 1 {
		return parseConnectionSpec(d.Items[0])
	}
	if d.ID == "" {
		return nil, errors.New("decode connection spec: no id")
	}
	cs := &connectionSpec{id: d.ID, name: d.Name, version: d.Version}
	for _, a := range d.AuthSpec {
		as, err := newAuthSpec(a.Name, a.Spec)
		if err != nil {
			return nil, fmt.Errorf("compile the schema of auth spec %q: %v", a.Name, err)
		}
		cs.authSpecs = append(cs.authSpecs, as)
	}
	return cs, nil
}

func newAuthSpec(name string, spec json.RawMessage) (*authSpec, error) {
	if len(spec) == 0 {
		spec = json.RawMessage(`{}`)
	}
	v, err := compileSchema(spec)
	if err != nil {
		return nil, err
	}
	as := &authSpec{name: name, validator: v, params: map[string]paramSpec{}}
	root, _ := v.raw.(map[string]any)
	props, _ := root["properties"].(map[string]any)
	for param, raw := range props {
		prop, _ := raw.(map[string]any)
		p := paramSpec{password: prop["format"] == "password", types: stringList(prop["type"])}
		if t, ok := prop["type"].(string); ok {
			p.types = []string{t}
		}
		if ext, ok := prop["x-connectionString"].(map[string]any); ok {
			p.connString = true
			for _, k := range stringList(ext["requiredKeys"]) {
				p.requiredKeys = append(p.requiredKeys, strings.ToLower(k))
			}
		}
		as.params[param] = p
	}
	return as, nil
}

func (cs *connectionSpec) authSpecNames() []string {
	names := make([]string, len(cs.authSpecs))
	for i, a := range cs.authSpecs {
		names[i] = a.name
	}
	return names
}

func (cs *connectionSpec) findAuthSpec(name string) *authSpec {
	for _, a := range cs.authSpecs {
		if a.name == name {
			return a
		}
	}
	return nil
}

// embeddedSpecs returns the connection specs embedded in the binary, by
// lower-cased id, compiled once.
var embeddedSpecs = sync.OnceValue(func() map[string]*connectionSpec {
	specs := map[string]*connectionSpec{}
	for _, doc := range schemas.ConnectionSpecs() {
		cs, err := parseConnectionSpec(doc)
		if err != nil {
			panic("spec: embedded connection spec: " + err.Error()) // a test loads every one
		}
		specs[strings.ToLower(cs.id)] = cs
	}
	return specs
})

// knownSpec returns the embedded connection spec with the given id.
func knownSpec(id string) (*connectionSpec, bool) {
	cs, ok := embeddedSpecs()[strings.ToLower(id)]
	return cs, ok
}

// fetchedSpecs caches compiled connection spec documents by their SHA-256,
// so that checking many manifests against one fetched spec compiles it once.
var fetchedSpecs = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*connectionSpec
}{m: map[[sha256.Size]byte]*connectionSpec{}}

// maxFetchedSpecs bounds the cache. One run uses a handful of specs.
const maxFetchedSpecs = 64

func cachedConnectionSpec(doc []byte) (*connectionSpec, error) {
	sum := sha256.Sum256(doc)
	fetchedSpecs.Lock()
	cs, ok := fetchedSpecs.m[sum]
	fetchedSpecs.Unlock()
	if ok {
		return cs, nil
	}
	cs, err := parseConnectionSpec(doc)
	if err != nil {
		return nil, err
	}
	fetchedSpecs.Lock()
	if len(fetchedSpecs.m) >= maxFetchedSpecs {
		clear(fetchedSpecs.m)
	}
	fetchedSpecs.m[sum] = cs
	fetchedSpecs.Unlock()
	return cs, nil
}

// CheckAuth checks the auth params of m against a connection spec document,
// as GET /connectionSpecs/{id} returns it: one item, or a response whose
// items list contains one. It marks the params whose schema has "format":
// "password" as sensitive, makes plain again the literal params that Load
// hid only because their spec was unknown, checks connection strings, and
// sets m.AuthChecked. Load runs the same check with the embedded connection
// specs. The returned errors are sorted and name no sensitive value. A
// document that cannot be read or compiled gives one error at
// connectionSpec.id. [CheckAuthWithWarnings] returns the warnings too.
func CheckAuth(m *Manifest, connectionSpec []byte) ErrorList {
	errs, _ := CheckAuthWithWarnings(m, connectionSpec)
	return errs
}

// CheckAuthWithWarnings runs [CheckAuth] and also returns the problems that
// do not stop a run, sorted, such as a connection string left unchecked
// because the variable that contains it is unset.
func CheckAuthWithWarnings(m *Manifest, connectionSpec []byte) (ErrorList, []*Error) {
	cs, err := cachedConnectionSpec(connectionSpec)
	if err != nil {
		return ErrorList{newError(m.Fields["connectionSpec.id"], "connectionSpec.id", "cannot check auth params: %v", err)}, nil
	}
	errs, warnings := checkAuth(m, cs, nil)
	if len(errs) > 0 {
		return ErrorList(errs), warnings
	}
	return nil, warnings
}

const paramsField = "auth.params"

// hideUncheckedParams marks every param of m sensitive, for a manifest whose
// connection spec is not known offline. Until the spec is fetched, which
// params have "format": "password" is unknown, and no name is a safe guess:
// accountKey and sasUri are secrets too. CheckAuth makes the params that are
// neither passwords nor from the environment plain again.
func hideUncheckedParams(m *Manifest) {
	for name, v := range m.Auth.Params {
		m.Auth.Params[name] = v.hideUntilChecked()
	}
}

// checkAuth checks the auth params of m against cs and returns the errors
// and warnings, each sorted. The values of the params in skip, by field
// path, are not checked, and neither are unresolved values.
func checkAuth(m *Manifest, cs *connectionSpec, skip map[string]bool) (errs, warnings []*Error) {
	if !strings.EqualFold(cs.id, m.ConnectionSpec.ID) {
		return []*Error{newError(m.Fields["connectionSpec.id"], "connectionSpec.id",
			"cannot check auth params: the connection spec document describes %s, not this id", quote(cs.id))}, nil
	}
	as := cs.findAuthSpec(m.Auth.SpecName)
	if as == nil {
		return []*Error{newError(m.Fields["auth.specName"], "auth.specName",
			"expected one of %s (the auth specs of connection spec %s); found %s",
			quoteList(cs.authSpecNames()), specLabel(cs), quote(m.Auth.SpecName))}, nil
	}
	if m.Auth.Params == nil {
		m.Auth.Params = map[string]Value{}
	}
	for name, v := range m.Auth.Params {
		m.Auth.Params[name] = v.checked(as.params[name].password)
	}
	m.AuthChecked = true

	instance := map[string]any{}
	unresolved := map[string]bool{}
	for name, v := range m.Auth.Params {
		if len(v.Unresolved()) > 0 || skip[joinField(paramsField, name)] {
			unresolved[name] = true
			instance[name] = ""
			continue
		}
		instance[name] = typedValue(v.Reveal(), as.params[name].types)
	}
	// An unresolved value has no text to check. An error about its key,
	// such as an unknown param, sits at the params object and still counts.
	errs = as.validator.validate(instance, paramLocator(m), func(tokens []string) bool {
		return len(tokens) > 0 && unresolved[tokens[0]]
	})
	for _, name := range sortedKeys(m.Auth.Params) {
		p := as.params[name]
		field := joinField(paramsField, name)
		if p.password && !skip[field] && isLiteralSecret(m.Auth.Params[name]) {
			warnings = append(warnings, newError(m.Fields[field], field, "a literal secret in a manifest ends up in git; use ${VAR}"))
		}
		if !p.connString || skip[field] && len(m.Auth.Params[name].Unresolved()) == 0 {
			continue
		}
		connErrs, connWarnings := checkConnString(m.Auth.Params[name], p, field, m.Fields[field])
		errs = append(errs, connErrs...)
		warnings = append(warnings, connWarnings...)
	}
	return sortErrors(errs), sortErrors(warnings)
}

// isLiteralSecret reports whether v is non-empty text written in the
// manifest, without any variable reference.
func isLiteralSecret(v Value) bool {
	return v.segments == nil && len(v.Unresolved()) == 0 && v.Reveal() != ""
}

func specLabel(cs *connectionSpec) string {
	if cs.name == "" {
		return cs.id
	}
	return cs.id + " (" + cs.name + ")"
}

// paramLocator locates the tokens of a JSON pointer into the params instance
// built by checkAuth.
func paramLocator(m *Manifest) locateFunc {
	return func(tokens []string) target {
		if len(tokens) == 0 {
			return target{field: paramsField, pos: m.Fields[paramsField], keyPos: m.Keys[paramsField]}
		}
		field := joinField(paramsField, tokens[0])
		v, ok := m.Auth.Params[tokens[0]]
		return target{
			field:     field,
			pos:       m.Fields[field],
			keyPos:    m.Keys[field],
			sensitive: !ok || v.Sensitive(),
		}
	}
}

// typedValue returns the JSON value to validate for a param's text. Params
// are sent as strings, as every documented request does. A schema may still
// declare a param an integer, a number or a boolean, so text written in that
// JSON form, such as 3306 or true, is converted for validation.
//
// NOTE: the API's handling of such a param is not documented, and apply
// still sends the text as a string.
func typedValue(text string, types []string) any {
	if len(types) == 0 || slices.Contains(types, "string") {
		return text
	}
	for _, t := range types {
		switch t {
		case "boolean":
			if text == "true" || text == "false" {
				return text == "true"
			}
		case "integer", "number":
			var n json.Number
			if json.Unmarshal([]byte(text), &n) == nil && text == n.String() {
				return n
			}
		}
	}
	return text
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
