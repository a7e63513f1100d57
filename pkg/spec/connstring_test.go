package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		keys []string
		get  map[string]string // lookups, by any case
	}{
		{
			name: "documented MySQL form",
			in:   "Server=db.example.com;Port=3306;Database=orders;UID=ingest;PWD=pw",
			keys: []string{"Server", "Port", "Database", "UID", "PWD"},
			get:  map[string]string{"server": "db.example.com", "PORT": "3306", "uid": "ingest", "Pwd": "pw"},
		},
		{
			name: "spaces around pairs and a trailing semicolon",
			in:   " Server = db ; Port=3306; Database=orders ; ",
			keys: []string{"Server", "Port", "Database"},
			get:  map[string]string{"server": "db", "port": "3306", "database": "orders"},
		},
		{
			name: "keys with spaces",
			in:   "Data Source=db;Initial Catalog=orders;User ID=ingest;Password=pw;",
			keys: []string{"Data Source", "Initial Catalog", "User ID", "Password"},
			get:  map[string]string{"user id": "ingest", "data source": "db"},
		},
		{
			name: "braced value with semicolon, equals and doubled brace",
			in:   "UID=ingest;PWD={a;b=c}}d} ;Server=db",
			keys: []string{"UID", "PWD", "Server"},
			get:  map[string]string{"pwd": "a;b=c}d", "server": "db"},
		},
		{
			name: "braced value keeps its spaces",
			in:   "PWD={ pw }",
			keys: []string{"PWD"},
			get:  map[string]string{"pwd": " pw "},
		},
		{
			name: "unbraced value with equals and braces inside",
			in:   "PWD=a=b}c{",
			keys: []string{"PWD"},
			get:  map[string]string{"pwd": "a=b}c{"},
		},
		{
			name: "empty values",
			in:   "A=;B={}",
			keys: []string{"A", "B"},
			get:  map[string]string{"a": "", "b": ""},
		},
		{
			name: "empty string",
			in:   "",
			keys: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := ParseConnectionString(tt.in)
			if err != nil {
				t.Fatalf("ParseConnectionString(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.keys, cs.Keys()); diff != "" {
				t.Errorf("Keys() (-want +got):\n%s", diff)
			}
			for key, want := range tt.get {
				got, ok := cs.Get(key)
				if !ok || got != want {
					t.Errorf("Get(%q) = %q, %v; want %q, true", key, got, ok, want)
				}
			}
			if _, ok := cs.Get("missing"); ok {
				t.Errorf("Get(%q) found a value", "missing")
			}
		})
	}
}

func TestParseConnectionStringErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"missing equals", "Server=db;hunter2", `invalid connection string: missing "=" after a key at offset 10`},
		{"missing equals before semicolon", "Server;PWD=x", `invalid connection string: missing "=" after a key at offset 0`},
		{"empty key", "Server=db; =hunter2", `invalid connection string: empty key at offset 11`},
		{"brace in key", "{Server}=db", `invalid connection string: "{" or "}" in a key at offset 0`},
		{"duplicate key", "PWD=a;pwd=hunter2", `invalid connection string: duplicate key (keys are case-insensitive) at offset 6`},
		{"unclosed brace", "Server=db;PWD={hunter2", `invalid connection string: unclosed "{" in a value at offset 14`},
		{"text after brace", "PWD={hunter2}x;Server=db", `invalid connection string: unexpected text after the closing "}" of a value at offset 13`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConnectionString(tt.in)
			if err == nil {
				t.Fatalf("ParseConnectionString(%q) succeeded", tt.in)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseConnectionString(%q) error = %q, want %q", tt.in, err, tt.want)
			}
			var cerr *ConnStringError
			if !errors.As(err, &cerr) {
				t.Errorf("error is %T, want *ConnStringError", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q contains a value of the string", err)
			}
		})
	}
}

func TestConnStringPrintsNoValues(t *testing.T) {
	cs, err := ParseConnectionString("Server=db;PWD={hunter2}")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{string(data)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, cs))
	}
	for _, out := range outputs {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "6875") {
			t.Errorf("printed connection string %q shows a value", out)
		}
	}
	if got, want := cs.String(), "ConnString(Server=(sensitive);PWD=(sensitive))"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// formatConnString writes pairs back in a form that ParseConnectionString
// reads as the same pairs, bracing every value.
func formatConnString(cs ConnString) string {
	var b strings.Builder
	for _, key := range cs.Keys() {
		value, _ := cs.Get(key)
		fmt.Fprintf(&b, "%s={%s};", key, strings.ReplaceAll(value, "}", "}}"))
	}
	return b.String()
}

var connStringErrorText = regexp.MustCompile(`^invalid connection string: (missing "=" after a key|empty key|"\{" or "\}" in a key|duplicate key \(keys are case-insensitive\)|unclosed "\{" in a value|unexpected text after the closing "\}" of a value) at offset \d+$`)

func FuzzParseConnectionString(f *testing.F) {
	f.Add("Server=db;Port=3306;Database=orders;UID=ingest;PWD={a;b}}c}")
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseConnectionString(s)
		if err != nil {
			var cerr *ConnStringError
			if !errors.As(err, &cerr) {
				t.Fatalf("error is %T, want *ConnStringError", err)
			}
			if cerr.Offset < 0 || cerr.Offset > len(s) {
				t.Fatalf("offset %d outside a string of %d bytes", cerr.Offset, len(s))
			}
			// The message is one of a fixed set, so it cannot contain s.
			if !connStringErrorText.MatchString(err.Error()) {
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, key := range cs.Keys() {
			lower := strings.ToLower(key)
			if key == "" || seen[lower] || strings.Trim(key, " \t") != key {
				t.Fatalf("key %q is empty, repeated or not trimmed", key)
			}
			seen[lower] = true
		}
		again, err := ParseConnectionString(formatConnString(cs))
		if err != nil {
			t.Fatalf("reparse of the formatted string: %v", err)
		}
		if diff := cmp.Diff(cs.pairs, again.pairs, cmp.AllowUnexported(connPair{}), cmp.Comparer(func(a, b connPair) bool {
			return a.key == b.key && a.value == b.value
		})); diff != "" {
			t.Fatalf("formatted string parses differently (-first +second):\n%s", diff)
		}
	})
}

func TestConnTemplateVariables(t *testing.T) {
	tests := []struct {
		template string
		pairs    []string // variables that supply whole pairs
		values   []string // variables inside pairs
	}{
		{template: "${A}", pairs: []string{"A"}},
		{template: " ${A} ", pairs: []string{"A"}},
		{template: "${A};${B}", pairs: []string{"A", "B"}},
		{template: "${A}${B}", pairs: []string{"A", "B"}},
		{template: "X=1; ${A} ;Y=2", pairs: []string{"A"}},
		{template: "X={v};${A}", pairs: []string{"A"}},
		{template: "x=1;${A}", pairs: []string{"A"}},
		{template: "${A};PWD={${B}}", pairs: []string{"A"}, values: []string{"B"}},
		{template: "Server=${A};Port=1", values: []string{"A"}},
		{template: "PWD={a;${A};b}", values: []string{"A"}},
		{template: "X={v} ${A}", values: []string{"A"}},
		{template: "${A}=1", values: []string{"A"}},
		{template: "${A} ${B}", values: []string{"A", "B"}},
		{template: "Server=db;${A}x", values: []string{"A"}},
	}
	for _, tt := range tests {
		segs, errs := parseRefs(tt.template)
		if len(errs) > 0 {
			t.Fatalf("parseRefs(%q): %v", tt.template, errs)
		}
		tmpl := newConnTemplate(segs)
		if diff := cmp.Diff(tt.pairs, tmpl.pairVariables()); diff != "" {
			t.Errorf("%q: variables that supply pairs (-want +got):\n%s", tt.template, diff)
		}
		if diff := cmp.Diff(tt.values, tmpl.valueVariables()); diff != "" {
			t.Errorf("%q: variables inside pairs (-want +got):\n%s", tt.template, diff)
		}
	}
}

// FuzzCheckConnString checks that the connection string check never panics
// and that no error or warning shows a variable's value. Every value starts
// with "§", which no message text, variable name or required key contains.
func FuzzCheckConnString(f *testing.F) {
	f.Add("${DSN}", "Server=db;PWD=pw;x")
	f.Add("${BASE};PWD={${PW}}", "Server=db;UID={a}}b}")
	f.Add("Server=db;PWD=${PW}", "a;b=c")
	f.Add("PWD={a;${PW};b}", "}")
	p := paramSpec{connString: true, requiredKeys: []string{"server", "pwd"}}
	f.Fuzz(func(t *testing.T, template, value string) {
		if strings.Contains(template, "§") {
			return
		}
		segs, errs := parseRefs(template)
		if len(errs) > 0 || !hasVariables(segs) {
			return
		}
		for i := range segs {
			if segs[i].variable != "" {
				segs[i].text = "§" + value
			}
		}
		resolved := SensitiveValue(NewSecret(joinVars(variableNames(segs)), joinSegments(segs, nil)))
		resolved.segments = segs
		unresolved := UnresolvedValue(variableNames(segs)[0])
		unresolved.segments = segs
		for _, v := range []Value{resolved, unresolved} {
			errs, warnings := checkConnString(v, p, "auth.params.dsn", Position{})
			for _, e := range append(errs, warnings...) {
				if strings.Contains(e.Msg, "§") {
					t.Fatalf("message shows a value: %s", e.Msg)
				}
			}
		}
	})
}
