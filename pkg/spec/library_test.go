package spec

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"go.yaml.in/yaml/v3"
)

// These tests pin the library behaviour that the loader works around. If
// one fails after an upgrade, the workaround may be unneeded or wrong.

func TestYAMLNodeTreeAcceptsDuplicateKeys(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("a: 1\na: 2\n"), &n); err != nil {
		t.Fatalf("yaml.v3 rejected duplicate keys in a node tree (%v); the loader's own check may be redundant", err)
	}
}

func TestYAMLDecodingChangesScalars(t *testing.T) {
	var decoded map[string]any
	src := "port: 03306\nversion: 1.10\nssl: false\nname: 2024-01-01\nhex: 0x1F\n"
	if err := yaml.Unmarshal([]byte(src), &decoded); err != nil {
		t.Fatal(err)
	}
	// Each of these differs from the source text, which is why the loader
	// keeps yaml.Node.Value instead of decoding.
	for key, written := range map[string]string{"port": "03306", "version": "1.10", "ssl": "false", "hex": "0x1F"} {
		if s, ok := decoded[key].(string); ok && s == written {
			t.Errorf("yaml.v3 now decodes %s: %s as the string %q", key, written, s)
		}
	}
}

func TestYAMLNodeTreeDoesNotBoundAliases(t *testing.T) {
	src, err := os.ReadFile("testdata/load/invalid-alias-bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		t.Fatalf("yaml.v3 rejected the alias bomb in a node tree (%v); the loader's own limit may be redundant", err)
	}
	var decoded any
	if err := yaml.Unmarshal(src, &decoded); err == nil || !strings.Contains(err.Error(), "excessive aliasing") {
		t.Errorf("yaml.v3 decoding into Go values no longer reports excessive aliasing: %v", err)
	}
}

func TestJSONSchemaMessagesEchoValues(t *testing.T) {
	c := jsonschema.NewCompiler()
	schema := `{"type": "object", "properties": {"pw": {"type": "string", "format": "email"}}, "additionalProperties": false}`
	if err := c.AddResource("s.json", strings.NewReader(schema)); err != nil {
		t.Fatal(err)
	}
	s := c.MustCompile("s.json")
	err := s.Validate(map[string]any{"pw": "hunter2", "extra": "v"})
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Validate error is %T", err)
	}
	var format, additional *jsonschema.ValidationError
	for _, leaf := range leafErrors(verr, nil) {
		switch {
		case strings.HasSuffix(leaf.KeywordLocation, "/format"):
			format = leaf
		case strings.HasSuffix(leaf.KeywordLocation, "/additionalProperties"):
			additional = leaf
		}
	}
	if format == nil || !strings.Contains(format.Message, "hunter2") {
		t.Errorf("the format message no longer echoes the value: %+v", format)
	}
	if additional == nil || additional.InstanceLocation != "" {
		t.Errorf("the additionalProperties error no longer points at the parent object: %+v", additional)
	}
}
