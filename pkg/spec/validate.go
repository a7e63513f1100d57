package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaValidator is a compiled JSON Schema together with its source
// document. Error messages are built from the failing keyword and the
// source document, never from the library's message, which can echo the
// value (a connection string that fails a pattern contains a password).
type schemaValidator struct {
	schema *jsonschema.Schema
	raw    any // the schema document, decoded with json.Number
}

// schemaURL names every compiled schema. Each schema is compiled by its own
// compiler, so the name only has to be absolute. The .invalid domain never
// resolves.
const schemaURL = "https://apply.invalid/schema.json"

// compileSchema compiles a draft-07 JSON Schema. References to other
// documents are rejected rather than loaded, because a connection spec
// fetched from the network must not make apply read local files or other
// URLs.
func compileSchema(doc []byte) (*schemaValidator, error) {
	raw, err := decodeJSON(doc)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.LoadURL = func(url string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema refers to %s: references to other documents are not supported", url)
	}
	if err := c.AddResource(schemaURL, bytes.NewReader(doc)); err != nil {
		return nil, err
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, err
	}
	return &schemaValidator{schema: s, raw: raw}, nil
}

func decodeJSON(doc []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("unexpected data after the JSON document")
	}
	return v, nil
}

// target is the place in a manifest of an instance location of a validated
// document.
type target struct {
	field     string
	pos       Position // of the value
	keyPos    Position // of the key, or of the value for the document root
	sensitive bool     // the value must not appear in messages
}

// locateFunc maps the tokens of a JSON pointer into the validated instance
// to the place in the manifest.
type locateFunc func(tokens []string) target

// validate checks instance against the schema and returns one error per
// problem, located with locate. Failures at the instance locations for
// which ignore returns true are dropped. ignore may be nil.
func (v *schemaValidator) validate(instance any, locate locateFunc, ignore func(tokens []string) bool) []*Error {
	err := v.schema.Validate(instance)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		// Validate returns other errors only for Go values that are not JSON
		// values, which the callers never build.
		return []*Error{newError(locate(nil).pos, "", "cannot validate: %v", err)}
	}
	leaves := leafErrors(verr, nil)

	// An empty string that fails minLength often fails a pattern or a
	// format too, so only the minLength error is reported for it.
	empty := map[string]bool{}
	for _, leaf := range leaves {
		if failsMinLength(leaf) {
			value, _ := valueAt(instance, splitPointer(leaf.InstanceLocation))
			empty[leaf.InstanceLocation] = value == ""
		}
	}
	var errs []*Error
	for _, leaf := range leaves {
		if ignore != nil && ignore(splitPointer(leaf.InstanceLocation)) {
			continue
		}
		if empty[leaf.InstanceLocation] && !failsMinLength(leaf) {
			continue
		}
		errs = append(errs, v.describe(leaf, instance, locate)...)
	}
	return errs
}

func failsMinLength(e *jsonschema.ValidationError) bool {
	return strings.HasSuffix(e.KeywordLocation, "/minLength")
}

func leafErrors(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leafErrors(c, out)
	}
	return out
}

// describe turns one failed keyword into errors. The message names what the
// schema expects and what was found, and never shows a sensitive value.
func (v *schemaValidator) describe(e *jsonschema.ValidationError, instance any, locate locateFunc) []*Error {
	tokens := splitPointer(e.InstanceLocation)
	kwTokens := splitPointer(e.KeywordLocation)
	value, _ := valueAt(instance, tokens)
	t := locate(tokens)
	single := func(format string, args ...any) []*Error {
		return []*Error{newError(t.pos, t.field, format, args...)}
	}
	if len(kwTokens) == 0 {
		return single("expected a value that satisfies the schema; found %s", describeValue(value, t.sensitive))
	}
	keyword := kwTokens[len(kwTokens)-1]
	parent, _ := v.schemaAt(kwTokens[:len(kwTokens)-1])
	schema, _ := parent.(map[string]any)
	rule := schema[keyword]
	found := describeValue(value, t.sensitive)

	switch keyword {
	case "required":
		return missingFields(schema, value, t)
	case "additionalProperties":
		return unknownFields(schema, tokens, value, locate)
	}
	if sub, ok := v.schemaAt(kwTokens); ok && sub == false {
		// A "false" schema, such as "properties": {"legacy": false}.
		return []*Error{newError(t.keyPos, t.field, "field is not allowed")}
	}
	switch keyword {
	case "type":
		return single("expected %s, found %s", describeTypes(rule), found)
	case "enum":
		return single("expected one of %s; found %s", jsonList(rule), found)
	case "const":
		return single("expected %s; found %s", jsonText(rule), found)
	case "pattern":
		// The manifest schema describes its patterns for people in this
		// extension keyword, which editors ignore.
		if desc, ok := schema["x-patternDescription"].(string); ok {
			return single("expected %s; found %s", desc, found)
		}
		return single("expected a string matching the pattern `%v`; found %s", rule, found)
	case "minLength":
		return single("%s", describeLength("at least", rule, value, t.sensitive, "fewer"))
	case "maxLength":
		return single("%s", describeLength("at most", rule, value, t.sensitive, "more"))
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
		bound := map[string]string{
			"minimum":          "at least",
			"maximum":          "at most",
			"exclusiveMinimum": "greater than",
			"exclusiveMaximum": "less than",
			"multipleOf":       "a multiple of",
		}[keyword]
		return single("expected a number %s %s; found %s", bound, jsonText(rule), found)
	case "format":
		return single("expected a string in the %s format; found %s", jsonText(rule), found)
	}
	if rule != nil {
		return single("expected a value that satisfies %q: %s; found %s", keyword, jsonText(rule), found)
	}
	return single("expected a value that satisfies the schema's %q rule; found %s", keyword, found)
}

func missingFields(schema map[string]any, value any, t target) []*Error {
	obj, _ := value.(map[string]any)
	var errs []*Error
	for _, name := range stringList(schema["required"]) {
		if _, ok := obj[name]; ok {
			continue
		}
		field := joinField(t.field, name)
		errs = append(errs, newError(t.pos, field, "required field is missing"))
	}
	return errs
}

// unknownFields reports each key that the schema's properties and
// patternProperties do not allow, at the key's own position. The library
// reports them all at once, at the parent object.
func unknownFields(schema map[string]any, tokens []string, value any, locate locateFunc) []*Error {
	obj, _ := value.(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	var patterns []*regexp.Regexp
	if pp, ok := schema["patternProperties"].(map[string]any); ok {
		for p := range pp {
			if re, err := regexp.Compile(p); err == nil {
				patterns = append(patterns, re)
			}
		}
	}
	known := make([]string, 0, len(props))
	for name := range props {
		known = append(known, name)
	}
	slices.Sort(known)
	var errs []*Error
	for key := range obj {
		if _, ok := props[key]; ok || matchesAny(patterns, key) {
			continue
		}
		t := locate(append(slices.Clip(tokens), key))
		msg := "unknown field"
		if len(known) > 0 {
			msg += "; expected one of " + quoteList(known)
		}
		errs = append(errs, newError(t.keyPos, t.field, "%s", msg))
	}
	return errs
}

func matchesAny(patterns []*regexp.Regexp, s string) bool {
	for _, re := range patterns {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func describeLength(bound string, rule, value any, sensitive bool, hidden string) string {
	n, _ := strconv.Atoi(fmt.Sprint(rule))
	s, _ := value.(string)
	if bound == "at least" && n == 1 && s == "" {
		return "expected a non-empty string, found an empty string"
	}
	found := strconv.Itoa(utf8.RuneCountInString(s))
	if sensitive {
		found = hidden
	}
	return fmt.Sprintf("expected %s %d characters, found %s", bound, n, found)
}

// describeValue names a found value for a message: its text when it is a
// plain string, its kind otherwise.
func describeValue(v any, sensitive bool) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a sequence"
	case string:
		switch {
		case v == "":
			return "an empty string"
		case sensitive:
			return "a sensitive value (not shown)"
		}
		return quote(v)
	}
	if sensitive {
		return "a sensitive value (not shown)"
	}
	return jsonText(v)
}

// describeTypes names the JSON Schema types of a "type" keyword in YAML
// terms. Scalars are text to apply, so a schema that accepts strings
// accepts any scalar, and is described as expecting a string.
func describeTypes(rule any) string {
	types := stringList(rule)
	if s, ok := rule.(string); ok {
		types = []string{s}
	}
	if slices.Contains(types, "string") {
		return "a string"
	}
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = map[string]string{
			"object":  "a mapping",
			"array":   "a sequence",
			"integer": "an integer",
			"number":  "a number",
			"boolean": "a boolean",
			"null":    "null",
		}[t]
		if names[i] == "" {
			names[i] = t
		}
	}
	return strings.Join(names, " or ")
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func jsonList(v any) string {
	list, _ := v.([]any)
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = jsonText(x)
	}
	return strings.Join(parts, ", ")
}

// schemaAt returns the part of the schema document at the tokens of a
// keyword location, following local "$ref"s as the validator did.
func (v *schemaValidator) schemaAt(tokens []string) (any, bool) {
	cur := v.raw
	for _, tok := range tokens {
		if tok == "$ref" {
			m, _ := cur.(map[string]any)
			ref, _ := m["$ref"].(string)
			if !strings.HasPrefix(ref, "#") {
				return nil, false
			}
			target, ok := valueAt(v.raw, splitPointer(ref[1:]))
			if !ok {
				return nil, false
			}
			cur = target
			continue
		}
		next, ok := valueAt(cur, []string{tok})
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

// valueAt returns the value at the tokens of a JSON pointer.
func valueAt(v any, tokens []string) (any, bool) {
	for _, tok := range tokens {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// splitPointer splits a JSON pointer such as "/auth/params/a~1b" into its
// unescaped tokens.
func splitPointer(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts
}
