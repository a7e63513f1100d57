package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testEnv is the environment the fixtures are loaded with.
var testEnv = map[string]string{
	"ORDERS_PASSWORD": "s3cret;pw=x",
	"ORDERS_USER":     "ingest",
	"BRACE_PASSWORD":  "a}b",
	"ORDERS_DSN":      "Server=db.example.internal;Port=3306;Database=orders;UID=ingest;PWD={s3cret;pw=x}",
	"BASE_DSN":        "Server=db.example.internal;Port=3306;Database=orders;UID=ingest",
	"BAD_DSN":         "Server=db;Port=3306;Database=orders;UID=ingest;hunter2",
	"UNCLOSED_DSN":    "Server=db;Port=3306;Database=orders;UID=ingest;PWD={hunter2",
	"PART_DSN":        "Port=3306;UID=ingest",
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// errorLines returns the lines of an error returned by Load, failing the
// test if it is not an ErrorList.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	list, ok := err.(ErrorList)
	if !ok {
		t.Fatalf("Load error is %T, want ErrorList: %v", err, err)
	}
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = e.Error()
	}
	return lines
}

func warningLines(res *Result) []string {
	if res == nil {
		return nil
	}
	var lines []string
	for _, w := range res.Warnings {
		lines = append(lines, w.Error())
	}
	return lines
}

const (
	mysqlBasicParams = `"database", "password", "port", "server", "sslMode", "username"`
	mysqlSpecs       = `"Connection String Based Authentication", "Basic Authentication"`
	mysqlPattern     = "`^[sS][eE][rR][vV][eE][rR]=(.*); ?[pP][oO][rR][tT]=(.*); ?[dD][aA][tT][aA][bB][aA][sS][eE]=(.*); ?[uU][iI][dD]=(.*); ?[pP][wW][dD]=(.*)$`"
	rootFields       = `"auth", "connectionSpec", "description", "kind", "name", "renamedFrom"`
)

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		env   map[string]string // testEnv when nil
		want  []string
	}{
		{
			name:  "duplicate keys",
			paths: []string{"testdata/load/invalid-duplicate-key.yaml"},
			want: []string{
				`testdata/load/invalid-duplicate-key.yaml:11:5: auth.params.server: duplicate key "server": first defined at line 7, column 5`,
				`testdata/load/invalid-duplicate-key.yaml:12:1: name: duplicate key "name": first defined at line 1, column 1`,
			},
		},
		{
			name:  "unknown fields at their own keys",
			paths: []string{"testdata/load/invalid-unknown-field.yaml"},
			want: []string{
				`testdata/load/invalid-unknown-field.yaml:2:1: nmae: unknown field; expected one of ` + rootFields,
				`testdata/load/invalid-unknown-field.yaml:5:3: connectionSpec.versoin: unknown field; expected one of "id", "version"`,
				`testdata/load/invalid-unknown-field.yaml:12:5: auth.params.pasword: unknown field; expected one of ` + mysqlBasicParams,
			},
		},
		{
			name:  "wrong types",
			paths: []string{"testdata/load/invalid-wrong-types.yaml"},
			want: []string{
				`testdata/load/invalid-wrong-types.yaml:1:7: name: expected a string, found a sequence`,
				`testdata/load/invalid-wrong-types.yaml:3:3: description: expected a string, found a mapping`,
				`testdata/load/invalid-wrong-types.yaml:4:17: connectionSpec: expected a mapping, found "26d738e0-8963-47ea-aadf-c60de735468a"`,
				`testdata/load/invalid-wrong-types.yaml:9:11: auth.params.port: expected a string, found a mapping`,
				`testdata/load/invalid-wrong-types.yaml:10:15: auth.params.database: expected a string, found a sequence`,
				`testdata/load/invalid-wrong-types.yaml:11:14: auth.params.username: expected a string, found null`,
			},
		},
		{
			name:  "missing fields",
			paths: []string{"testdata/load/invalid-missing-fields.yaml"},
			want: []string{
				`testdata/load/invalid-missing-fields.yaml:1:1: name: required field is missing`,
				`testdata/load/invalid-missing-fields.yaml:3:3: connectionSpec.id: required field is missing`,
				`testdata/load/invalid-missing-fields.yaml:5:3: auth.params: required field is missing`,
			},
		},
		{
			name:  "missing auth params",
			paths: []string{"testdata/load/invalid-missing-params.yaml"},
			want: []string{
				`testdata/load/invalid-missing-params.yaml:7:5: auth.params.database: required field is missing`,
				`testdata/load/invalid-missing-params.yaml:7:5: auth.params.password: required field is missing`,
				`testdata/load/invalid-missing-params.yaml:7:5: auth.params.username: required field is missing`,
			},
		},
		{
			name:  "param values",
			paths: []string{"testdata/load/invalid-param-values.yaml"},
			want: []string{
				`testdata/load/invalid-param-values.yaml:7:13: auth.params.server: expected a non-empty string, found an empty string`,
				"testdata/load/invalid-param-values.yaml:8:11: auth.params.port: expected a string matching the pattern `^[0-9]{1,5}$`; found \"33o6\"",
				`testdata/load/invalid-param-values.yaml:12:14: auth.params.sslMode: expected one of "DISABLED", "PREFERRED", "REQUIRED", "Verify-Ca", "Verify Identity", "true", "false"; found "disabled"`,
			},
		},
		{
			name:  "unknown kind",
			paths: []string{"testdata/load/invalid-kind.yaml"},
			want: []string{
				`testdata/load/invalid-kind.yaml:1:7: kind: expected one of "Connection"; found "Dataflow"`,
			},
		},
		{
			name:  "version of a built-in connection spec",
			paths: []string{"testdata/load/invalid-spec-version.yaml"},
			want: []string{
				`testdata/load/invalid-spec-version.yaml:4:12: connectionSpec.version: expected "1.0" (the version of connection spec 26d738e0-8963-47ea-aadf-c60de735468a (mysql) built into apply); found "2.0"`,
				`testdata/load/invalid-spec-version.yaml:17:12: connectionSpec.version: expected "1.0" (the version of connection spec 26d738e0-8963-47ea-aadf-c60de735468a (mysql) built into apply); found "1.10"`,
			},
		},
		{
			name:  "unknown auth spec name",
			paths: []string{"testdata/load/invalid-auth-spec-name.yaml"},
			want: []string{
				`testdata/load/invalid-auth-spec-name.yaml:5:13: auth.specName: expected one of ` + mysqlSpecs + ` (the auth specs of connection spec 26d738e0-8963-47ea-aadf-c60de735468a (mysql)); found "Basic Auth"`,
			},
		},
		{
			name:  "empty strings reported once",
			paths: []string{"testdata/load/invalid-empty-name.yaml"},
			want: []string{
				`testdata/load/invalid-empty-name.yaml:1:7: name: expected a non-empty string, found an empty string`,
				`testdata/load/invalid-empty-name.yaml:7:13: auth.params.server: expected a non-empty string, found an empty string`,
			},
		},
		{
			name:  "name and spec id patterns",
			paths: []string{"testdata/load/invalid-spec-id.yaml"},
			want: []string{
				`testdata/load/invalid-spec-id.yaml:1:7: name: expected a name without leading or trailing spaces and without control characters; found " orders"`,
				`testdata/load/invalid-spec-id.yaml:3:7: connectionSpec.id: expected a UUID such as 26d738e0-8963-47ea-aadf-c60de735468a; found "mysql"`,
			},
		},
		{
			name:  "invalid dollar signs",
			paths: []string{"testdata/load/invalid-dollar.yaml"},
			want: []string{
				`testdata/load/invalid-dollar.yaml:2:20: description: invalid "$": write "$$" for a literal "$", or $NAME or ${NAME} for a variable`,
				`testdata/load/invalid-dollar.yaml:8:13: auth.params.server: invalid "${": expected ${NAME} with a closing "}"; write "$$" for a literal "$"`,
				`testdata/load/invalid-dollar.yaml:9:15: auth.params.database: invalid variable name in "${...}": expected letters, digits and underscores, not starting with a digit`,
				`testdata/load/invalid-dollar.yaml:10:15: auth.params.username: invalid variable name in "${...}": expected letters, digits and underscores, not starting with a digit`,
				`testdata/load/invalid-dollar.yaml:11:39: auth.params.password: invalid "$": write "$$" for a literal "$", or $NAME or ${NAME} for a variable`,
				`testdata/load/invalid-dollar.yaml:12:15: auth.params.sslMode: invalid "$": write "$$" for a literal "$", or $NAME or ${NAME} for a variable`,
			},
		},
		{
			name:  "variables outside auth params",
			paths: []string{"testdata/load/invalid-variable-outside-params.yaml"},
			want: []string{
				`testdata/load/invalid-variable-outside-params.yaml:1:14: name: variables are allowed only in auth.params values; write "$$" for a literal "$"`,
				`testdata/load/invalid-variable-outside-params.yaml:3:7: connectionSpec.id: variables are allowed only in auth.params values; write "$$" for a literal "$"`,
			},
		},
		{
			name:  "unset variables across files",
			paths: []string{"testdata/load/invalid-unset-variables"},
			want: []string{
				`testdata/load/invalid-unset-variables/a.yaml:6:13: auth.params.server: environment variable ORDERS_HOST is not set`,
				`testdata/load/invalid-unset-variables/b.yaml:6:31: auth.params.connectionString: environment variable BILLING_HOST is not set`,
				`testdata/load/invalid-unset-variables/b.yaml:6:90: auth.params.connectionString: environment variable BILLING_PASSWORD is not set`,
			},
		},
		{
			name:  "positions of unset variables",
			paths: []string{"testdata/load/invalid-unset-positions.yaml", "testdata/load/invalid-unset-crlf.yaml"},
			want: []string{
				`testdata/load/invalid-unset-crlf.yaml:6:17: auth.params.password: environment variable UNSET_H is not set`,
				// Columns count characters, not bytes.
				`testdata/load/invalid-unset-positions.yaml:8:22: auth.params.runes: environment variable UNSET_A is not set`,
				// Escapes, block scalars and folded lines: the scalar's position.
				`testdata/load/invalid-unset-positions.yaml:9:13: auth.params.single: environment variable UNSET_B is not set`,
				`testdata/load/invalid-unset-positions.yaml:10:13: auth.params.double: environment variable UNSET_C is not set`,
				`testdata/load/invalid-unset-positions.yaml:11:12: auth.params.block: environment variable UNSET_D is not set`,
				`testdata/load/invalid-unset-positions.yaml:14:13: auth.params.folded: environment variable UNSET_E is not set`,
				`testdata/load/invalid-unset-positions.yaml:16:14: auth.params.plain: environment variable UNSET_F is not set`,
				`testdata/load/invalid-unset-positions.yaml:16:25: auth.params.plain: environment variable UNSET_G is not set`,
			},
		},
		{
			name:  "connection strings",
			paths: []string{"testdata/load/invalid-connection-string.yaml"},
			want: []string{
				`testdata/load/invalid-connection-string.yaml:6:23: auth.params.connectionString: connection string is missing the required key "pwd" (keys are case-insensitive)`,
				`testdata/load/invalid-connection-string.yaml:6:23: auth.params.connectionString: expected a string matching the pattern ` + mysqlPattern + `; found a sensitive value (not shown)`,
				`testdata/load/invalid-connection-string.yaml:6:23: auth.params.connectionString: the value of $ORDERS_PASSWORD changes the structure of the connection string; wrap the reference in braces, as in Pwd={${ORDERS_PASSWORD}}, and double any "}" in the value`,
				`testdata/load/invalid-connection-string.yaml:13:23: auth.params.connectionString: the value of $ORDERS_PASSWORD changes the structure of the connection string; wrap the reference in braces, as in Pwd={${ORDERS_PASSWORD}}, and double any "}" in the value`,
				`testdata/load/invalid-connection-string.yaml:20:23: auth.params.connectionString: the value of $BRACE_PASSWORD changes the structure of the connection string; wrap the reference in braces, as in Pwd={${BRACE_PASSWORD}}, and double any "}" in the value`,
				`testdata/load/invalid-connection-string.yaml:27:23: auth.params.connectionString: invalid connection string: unclosed "{" in a value at offset 68`,
			},
		},
		{
			name:  "connection strings from variables",
			paths: []string{"testdata/load/invalid-connection-string-variables.yaml"},
			want: []string{
				`testdata/load/invalid-connection-string-variables.yaml:6:23: auth.params.connectionString: expected a string matching the pattern ` + mysqlPattern + `; found a sensitive value (not shown)`,
				`testdata/load/invalid-connection-string-variables.yaml:6:23: auth.params.connectionString: invalid connection string in $BAD_DSN: missing "=" after a key`,
				`testdata/load/invalid-connection-string-variables.yaml:13:23: auth.params.connectionString: expected a string matching the pattern ` + mysqlPattern + `; found a sensitive value (not shown)`,
				`testdata/load/invalid-connection-string-variables.yaml:13:23: auth.params.connectionString: the connection string in $BASE_DSN is missing the required key "pwd" (keys are case-insensitive)`,
				`testdata/load/invalid-connection-string-variables.yaml:20:23: auth.params.connectionString: invalid connection string in $UNCLOSED_DSN: unclosed "{" in a value`,
				`testdata/load/invalid-connection-string-variables.yaml:27:23: auth.params.connectionString: invalid connection string after substituting $BASE_DSN: duplicate key (keys are case-insensitive)`,
				`testdata/load/invalid-connection-string-variables.yaml:34:23: auth.params.connectionString: connection string is missing the required key "database" (keys are case-insensitive): neither the manifest nor $PART_DSN sets it`,
				`testdata/load/invalid-connection-string-variables.yaml:34:23: auth.params.connectionString: expected a string matching the pattern ` + mysqlPattern + `; found a sensitive value (not shown)`,
				`testdata/load/invalid-connection-string-variables.yaml:42:23: auth.params.connectionString: the value of $BRACE_PASSWORD changes the structure of the connection string; wrap the reference in braces, as in Pwd={${BRACE_PASSWORD}}, and double any "}" in the value`,
			},
		},
		{
			name:  "duplicate names across files",
			paths: []string{"testdata/load/invalid-duplicate-name"},
			want: []string{
				`testdata/load/invalid-duplicate-name/b.yaml:5:7: name: duplicate name "orders": also used at testdata/load/invalid-duplicate-name/a.yaml:1:7`,
			},
		},
		{
			name:  "renamedFrom in use",
			paths: []string{"testdata/load/invalid-renamed-from"},
			want: []string{
				`testdata/load/invalid-renamed-from/a.yaml:2:14: renamedFrom: expected a name that is no longer in use, found the name of the manifest at testdata/load/invalid-renamed-from/b.yaml:1:7`,
				`testdata/load/invalid-renamed-from/a.yaml:7:14: renamedFrom: expected a previous name, found the manifest's own name`,
				`testdata/load/invalid-renamed-from/b.yaml:11:14: renamedFrom: "old-payments" is also the previous name of the manifest at testdata/load/invalid-renamed-from/b.yaml:5:7; only one manifest can take over a name`,
			},
		},
		{
			name:  "yaml syntax",
			paths: []string{"testdata/load/invalid-yaml-syntax.yaml"},
			want: []string{
				// yaml.v3 reports the line where the enclosing mapping starts.
				`testdata/load/invalid-yaml-syntax.yaml:3: invalid YAML: did not find expected key`,
			},
		},
		{
			name:  "tab in the indentation",
			paths: []string{"testdata/load/invalid-tab-indent.yaml"},
			want: []string{
				`testdata/load/invalid-tab-indent.yaml:5:1: invalid YAML: found character that cannot start any token (YAML does not allow tabs for indentation; use spaces)`,
			},
		},
		{
			name:  "tab after spaces in the indentation",
			paths: []string{"testdata/load/invalid-tab-after-spaces.yaml"},
			want: []string{
				// yaml.v3 reports line 7, where the enclosing value starts.
				`testdata/load/invalid-tab-after-spaces.yaml:8:3: invalid YAML: found a tab character that violates indentation (YAML does not allow tabs for indentation; use spaces)`,
			},
		},
		{
			name:  "tab that violates indentation",
			paths: []string{"testdata/load/invalid-tab-violates-indentation.yaml"},
			want: []string{
				`testdata/load/invalid-tab-violates-indentation.yaml:6:1: invalid YAML: found a tab character that violates indentation (YAML does not allow tabs for indentation; use spaces)`,
			},
		},
		{
			name:  "tab on the first line",
			paths: []string{"testdata/load/invalid-tab-first-line.yaml"},
			want: []string{
				`testdata/load/invalid-tab-first-line.yaml:1:1: invalid YAML: found character that cannot start any token (YAML does not allow tabs for indentation; use spaces)`,
			},
		},
		{
			name:  "tab with CRLF line endings",
			paths: []string{"testdata/load/invalid-tab-crlf.yaml"},
			want: []string{
				`testdata/load/invalid-tab-crlf.yaml:3:1: invalid YAML: found character that cannot start any token (YAML does not allow tabs for indentation; use spaces)`,
			},
		},
		{
			name:  "invalid token without a tab",
			paths: []string{"testdata/load/invalid-token-not-tab.yaml"},
			want: []string{
				`testdata/load/invalid-token-not-tab.yaml:2: invalid YAML: found character that cannot start any token`,
			},
		},
		{
			name:  "alias bomb",
			paths: []string{"testdata/load/invalid-alias-bomb.yaml"},
			want: []string{
				`testdata/load/invalid-alias-bomb.yaml:5:8: e[0]: aliases expand to more than 10000 values; the limit protects against alias bombs`,
			},
		},
		{
			name:  "alias cycle",
			paths: []string{"testdata/load/invalid-alias-cycle.yaml"},
			want: []string{
				`testdata/load/invalid-alias-cycle.yaml:4:9: connectionSpec.self: alias *spec refers to a value that contains the alias itself`,
			},
		},
		{
			name:  "tags",
			paths: []string{"testdata/load/invalid-tags.yaml"},
			want: []string{
				`testdata/load/invalid-tags.yaml:2:14: description: unsupported YAML tag !vault: expected an untagged value`,
				`testdata/load/invalid-tags.yaml:11:15: auth.params.password: unsupported YAML tag !!binary: expected an untagged value`,
			},
		},
		{
			name:  "document not a mapping",
			paths: []string{"testdata/load/invalid-not-mapping.yaml"},
			want: []string{
				`testdata/load/invalid-not-mapping.yaml:1:1: expected a mapping, found a sequence`,
			},
		},
		{
			name:  "keys that are not strings and a bad merge",
			paths: []string{"testdata/load/invalid-keys.yaml"},
			want: []string{
				`testdata/load/invalid-keys.yaml:2:3: expected a string key, found a sequence`,
				`testdata/load/invalid-keys.yaml:4:1: expected a string key, found null`,
				`testdata/load/invalid-keys.yaml:6:7: connectionSpec: merge key "<<": expected a mapping or a sequence of mappings, found a string`,
			},
		},
		{
			name:  "only empty documents",
			paths: []string{"testdata/load/invalid-empty-documents.yaml"},
			want: []string{
				`testdata/load/invalid-empty-documents.yaml: no manifests found: every document is empty`,
			},
		},
		{
			name:  "not UTF-8",
			paths: []string{"testdata/load/invalid-not-utf8.yaml"},
			want: []string{
				`testdata/load/invalid-not-utf8.yaml:1:10: file is not UTF-8: found an invalid byte sequence; save the file as UTF-8`,
			},
		},
		{
			name:  "UTF-16",
			paths: []string{"testdata/load/invalid-utf16.yaml"},
			want: []string{
				`testdata/load/invalid-utf16.yaml: file is not UTF-8: found a UTF-16 byte order mark; save the file as UTF-8`,
			},
		},
		{
			name:  "missing path",
			paths: []string{"testdata/load/does-not-exist"},
			want: []string{
				`testdata/load/does-not-exist: cannot read: file or directory not found`,
			},
		},
		{
			name: "no paths",
			want: []string{`no manifest files or directories given`},
		},
		{
			name: "errors from several paths sorted by file",
			paths: []string{
				"testdata/load/invalid-kind.yaml",
				"testdata/load/invalid-duplicate-key.yaml",
			},
			want: []string{
				`testdata/load/invalid-duplicate-key.yaml:11:5: auth.params.server: duplicate key "server": first defined at line 7, column 5`,
				`testdata/load/invalid-duplicate-key.yaml:12:1: name: duplicate key "name": first defined at line 1, column 1`,
				`testdata/load/invalid-kind.yaml:1:7: kind: expected one of "Connection"; found "Dataflow"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = testEnv
			}
			res, err := Load(tt.paths, LoadOptions{LookupEnv: lookupIn(env)})
			if diff := cmp.Diff(tt.want, errorLines(t, err)); diff != "" {
				t.Errorf("Load(%q) errors (-want +got):\n%s", tt.paths, diff)
			}
			if res == nil {
				t.Fatalf("Load(%q) returned a nil Result", tt.paths)
			}
			if len(res.Manifests) != 0 {
				t.Errorf("Load(%q) returned %d manifests with errors, want none", tt.paths, len(res.Manifests))
			}
		})
	}
}

func TestLoadGeneratedFiles(t *testing.T) {
	dir := t.TempDir()
	emptyDir := filepath.Join(dir, "empty")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	onlyHidden := filepath.Join(dir, "only-hidden")
	writeFile(t, filepath.Join(onlyHidden, ".draft.yaml"), "name: x\n")
	large := filepath.Join(dir, "large.yaml")
	writeFile(t, large, "# "+strings.Repeat("x", maxFileSize)+"\n")

	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{
			name:  "empty directory",
			paths: []string{emptyDir},
			want:  []string{emptyDir + ": no *.yaml or *.yml files found in the directory (hidden files and directories are skipped)"},
		},
		{
			name:  "directory with hidden files only",
			paths: []string{onlyHidden},
			want:  []string{onlyHidden + ": no *.yaml or *.yml files found in the directory (hidden files and directories are skipped)"},
		},
		{
			name:  "file too large",
			paths: []string{large},
			want:  []string{large + ": file is too large: expected at most 4 MiB, found 4194307 bytes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.paths, LoadOptions{LookupEnv: lookupIn(testEnv)})
			if diff := cmp.Diff(tt.want, errorLines(t, err)); diff != "" {
				t.Errorf("Load(%q) errors (-want +got):\n%s", tt.paths, diff)
			}
		})
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// summary is the comparable content of a loaded manifest.
type summary struct {
	Pos            string
	Kind           string
	Name           string
	Description    string
	HasDescription bool
	RenamedFrom    string
	Spec           SpecRef
	SpecName       string
	AuthChecked    bool
	Params         map[string]string // String() of each value: text or redaction marker
	Revealed       map[string]string // Reveal() of each sensitive value
}

func summarize(m *Manifest) summary {
	s := summary{
		Pos:            m.Pos.String(),
		Kind:           m.Kind,
		Name:           m.Name,
		Description:    m.Description,
		HasDescription: m.HasDescription,
		RenamedFrom:    m.RenamedFrom,
		Spec:           m.ConnectionSpec,
		SpecName:       m.Auth.SpecName,
		AuthChecked:    m.AuthChecked,
		Params:         map[string]string{},
		Revealed:       map[string]string{},
	}
	for name, v := range m.Auth.Params {
		s.Params[name] = v.String()
		if v.Sensitive() {
			s.Revealed[name] = v.Reveal()
		}
	}
	return s
}

var mysqlSpec = SpecRef{ID: "26d738e0-8963-47ea-aadf-c60de735468a", Version: "1.0"}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name     string
		paths    []string
		want     []summary
		warnings []string
	}{
		{
			name:  "minimal manifest",
			paths: []string{"testdata/load/valid-minimal.yaml"},
			want: []summary{{
				Pos: "testdata/load/valid-minimal.yaml:1:1", Kind: "Connection", Name: "orders-mysql",
				Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
				Params: map[string]string{
					"server": "db.example.internal", "database": "orders", "username": "ingest",
					"password": "(sensitive: ORDERS_PASSWORD)",
				},
				Revealed: map[string]string{"password": "s3cret;pw=x"},
			}},
		},
		{
			name:  "scalars as written",
			paths: []string{"testdata/load/valid-scalars-as-written.yaml"},
			want: []summary{{
				Pos: "testdata/load/valid-scalars-as-written.yaml:4:1", Kind: "Connection", Name: "2024-01-01",
				Description: "NO", HasDescription: true,
				Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
				Params: map[string]string{
					"server": "10.0.0.1", "port": "03306", "database": "1e3", "username": "NO",
					"password": "(sensitive: ORDERS_PASSWORD)", "sslMode": "false",
				},
				Revealed: map[string]string{"password": "s3cret;pw=x"},
			}},
		},
		{
			name:  "anchors, aliases and merge keys",
			paths: []string{"testdata/load/valid-anchors-and-merge.yaml"},
			want: []summary{
				{
					Pos: "testdata/load/valid-anchors-and-merge.yaml:2:1", Kind: "Connection", Name: "orders-primary",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "primary.example.internal", "port": "3306", "database": "orders",
						"username": "ingest", "password": "(sensitive: ORDERS_PASSWORD)",
					},
					Revealed: map[string]string{"password": "s3cret;pw=x"},
				},
				{
					Pos: "testdata/load/valid-anchors-and-merge.yaml:16:1", Kind: "Connection", Name: "orders-replica",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "replica.example.internal", "port": "3307", "database": "orders",
						"username": "ingest", "password": "(sensitive: ORDERS_PASSWORD)",
					},
					Revealed: map[string]string{"password": "s3cret;pw=x"},
				},
			},
		},
		{
			name:  "byte order mark and CRLF",
			paths: []string{"testdata/load/valid-bom-crlf.yaml"},
			want: []summary{{
				Pos: "testdata/load/valid-bom-crlf.yaml:2:1", Kind: "Connection", Name: "orders-crlf",
				Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
				Params: map[string]string{
					"server": "db.example.internal", "database": "orders", "username": "ingest",
					"password": "(sensitive: ORDERS_PASSWORD)",
				},
				Revealed: map[string]string{"password": "s3cret;pw=x"},
			}},
		},
		{
			name:  "several documents with empty ones",
			paths: []string{"testdata/load/valid-multi-document.yaml"},
			want: []summary{
				{
					Pos: "testdata/load/valid-multi-document.yaml:4:1", Kind: "Connection", Name: "orders-a",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "a", "database": "orders", "username": "ingest",
						"password": "(sensitive: ORDERS_PASSWORD)",
					},
					Revealed: map[string]string{"password": "s3cret;pw=x"},
				},
				{
					Pos: "testdata/load/valid-multi-document.yaml:9:1", Kind: "Connection", Name: "orders-b",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "b", "database": "orders", "username": "ingest",
						"password": "(sensitive: ORDERS_PASSWORD)",
					},
					Revealed: map[string]string{"password": "s3cret;pw=x"},
				},
			},
		},
		{
			name:  "connection strings from variables",
			paths: []string{"testdata/load/valid-connection-string-variables.yaml"},
			want: []summary{
				{
					Pos: "testdata/load/valid-connection-string-variables.yaml:2:1", Kind: "Connection", Name: "cs-whole",
					Spec: mysqlSpec, SpecName: "Connection String Based Authentication", AuthChecked: true,
					Params:   map[string]string{"connectionString": "(sensitive: ORDERS_DSN)"},
					Revealed: map[string]string{"connectionString": testEnv["ORDERS_DSN"]},
				},
				{
					Pos: "testdata/load/valid-connection-string-variables.yaml:10:1", Kind: "Connection", Name: "cs-base-and-password",
					Spec: mysqlSpec, SpecName: "Connection String Based Authentication", AuthChecked: true,
					Params:   map[string]string{"connectionString": "(sensitive: BASE_DSN, ORDERS_PASSWORD)"},
					Revealed: map[string]string{"connectionString": testEnv["BASE_DSN"] + "; PWD={s3cret;pw=x}"},
				},
			},
		},
		{
			name:  "dollar escapes",
			paths: []string{"testdata/load/valid-dollar-escapes.yaml"},
			want: []summary{{
				Pos: "testdata/load/valid-dollar-escapes.yaml:1:1", Kind: "Connection", Name: "costs-$5",
				Description: "$ is a literal dollar: $HOME stays as written", HasDescription: true,
				Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
				Params: map[string]string{
					"server": "db.example.internal", "database": "price$list", "username": "ingest",
					"password": "(sensitive: ORDERS_PASSWORD, ORDERS_USER)",
				},
				Revealed: map[string]string{"password": "pre-s3cret;pw=x-ingest-$"},
			}},
		},
		{
			name:  "hidden files and other extensions skipped",
			paths: []string{"testdata/load/dir-with-hidden"},
			want: []summary{
				{
					Pos: "testdata/load/dir-with-hidden/ok.yaml:1:1", Kind: "Connection", Name: "orders",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "a", "database": "orders", "username": "ingest", "password": "(sensitive)",
					},
					Revealed: map[string]string{"password": "x"},
				},
				{
					Pos: "testdata/load/dir-with-hidden/sub/other.YML:1:1", Kind: "Connection", Name: "other",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "a", "database": "orders", "username": "ingest", "password": "(sensitive)",
					},
					Revealed: map[string]string{"password": "x"},
				},
			},
			warnings: []string{
				"testdata/load/dir-with-hidden/ok.yaml:3:106: auth.params.password: a literal secret in a manifest ends up in git; use ${VAR}",
				"testdata/load/dir-with-hidden/sub/other.YML:3:106: auth.params.password: a literal secret in a manifest ends up in git; use ${VAR}",
			},
		},
		{
			name:  "literal secrets",
			paths: []string{"testdata/load/warning-literal-secrets.yaml"},
			want: []summary{
				{
					Pos: "testdata/load/warning-literal-secrets.yaml:1:1", Kind: "Connection", Name: "literal-password",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "db.example.internal", "database": "orders", "username": "ingest", "password": "(sensitive)",
					},
					Revealed: map[string]string{"password": "CANARY-literal-55"},
				},
				{
					Pos: "testdata/load/warning-literal-secrets.yaml:11:1", Kind: "Connection", Name: "escaped-dollar-password",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "db.example.internal", "database": "orders", "username": "ingest", "password": "(sensitive)",
					},
					Revealed: map[string]string{"password": "pa$word"},
				},
				{
					Pos: "testdata/load/warning-literal-secrets.yaml:21:1", Kind: "Connection", Name: "empty-password",
					Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
					Params: map[string]string{
						"server": "db.example.internal", "database": "orders", "username": "ingest", "password": "(sensitive)",
					},
					Revealed: map[string]string{"password": ""},
				},
				{
					Pos: "testdata/load/warning-literal-secrets.yaml:31:1", Kind: "Connection", Name: "literal-connection-string",
					Spec: mysqlSpec, SpecName: "Connection String Based Authentication", AuthChecked: true,
					Params:   map[string]string{"connectionString": "(sensitive)"},
					Revealed: map[string]string{"connectionString": "Server=db;Port=3306;Database=orders;UID=ingest;PWD=pw"},
				},
				{
					Pos: "testdata/load/warning-literal-secrets.yaml:38:1", Kind: "Connection", Name: "password-from-variable",
					Spec: mysqlSpec, SpecName: "Connection String Based Authentication", AuthChecked: true,
					Params:   map[string]string{"connectionString": "(sensitive: ORDERS_PASSWORD)"},
					Revealed: map[string]string{"connectionString": "Server=db;Port=3306;Database=orders;UID=ingest;PWD={s3cret;pw=x}"},
				},
			},
			warnings: []string{
				"testdata/load/warning-literal-secrets.yaml:9:15: auth.params.password: a literal secret in a manifest ends up in git; use ${VAR}",
				"testdata/load/warning-literal-secrets.yaml:19:15: auth.params.password: a literal secret in a manifest ends up in git; use ${VAR}",
				"testdata/load/warning-literal-secrets.yaml:36:23: auth.params.connectionString: a literal secret in a manifest ends up in git; use ${VAR}",
			},
		},
		{
			name:  "same file twice loads once",
			paths: []string{"testdata/load/valid-minimal.yaml", "testdata/load/./valid-minimal.yaml"},
			want: []summary{{
				Pos: "testdata/load/valid-minimal.yaml:1:1", Kind: "Connection", Name: "orders-mysql",
				Spec: mysqlSpec, SpecName: "Basic Authentication", AuthChecked: true,
				Params: map[string]string{
					"server": "db.example.internal", "database": "orders", "username": "ingest",
					"password": "(sensitive: ORDERS_PASSWORD)",
				},
				Revealed: map[string]string{"password": "s3cret;pw=x"},
			}},
		},
		{
			name:  "unknown connection spec",
			paths: []string{"testdata/load/warning-unknown-spec.yaml"},
			want: []summary{{
				Pos: "testdata/load/warning-unknown-spec.yaml:1:1", Kind: "Connection", Name: "orders-unknown",
				Spec:     SpecRef{ID: "00000000-0000-4000-8000-000000000000", Version: "1.0"},
				SpecName: "Basic Authentication",
				Params:   map[string]string{"anything": "(sensitive)", "password": "(sensitive: ORDERS_PASSWORD)"},
				Revealed: map[string]string{"anything": "goes", "password": "s3cret;pw=x"},
			}},
			warnings: []string{
				"testdata/load/warning-unknown-spec.yaml:3:7: connectionSpec.id: auth params not checked: connection spec 00000000-0000-4000-8000-000000000000 version 1.0 is not known offline; their values are hidden until they are checked",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Load(tt.paths, LoadOptions{LookupEnv: lookupIn(testEnv)})
			if err != nil {
				t.Fatalf("Load(%q): %v", tt.paths, err)
			}
			var got []summary
			for _, m := range res.Manifests {
				got = append(got, summarize(m))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load(%q) manifests (-want +got):\n%s", tt.paths, diff)
			}
			if diff := cmp.Diff(tt.warnings, warningLines(res)); diff != "" {
				t.Errorf("Load(%q) warnings (-want +got):\n%s", tt.paths, diff)
			}
		})
	}
}

func TestLoadFieldPositions(t *testing.T) {
	res, err := Load([]string{"testdata/load/valid-anchors-and-merge.yaml"}, LoadOptions{LookupEnv: lookupIn(testEnv)})
	if err != nil {
		t.Fatal(err)
	}
	replica := res.Manifests[1]
	tests := []struct {
		field string
		value string
		key   string
	}{
		// An explicit key overrides the merged one and keeps its own position.
		{field: "auth.params.port", value: "testdata/load/valid-anchors-and-merge.yaml:28:11", key: "testdata/load/valid-anchors-and-merge.yaml:28:5"},
		// A merged key points where the anchored mapping wrote it.
		{field: "auth.params.database", value: "testdata/load/valid-anchors-and-merge.yaml:24:17", key: "testdata/load/valid-anchors-and-merge.yaml:24:7"},
		{field: "auth.params", value: "testdata/load/valid-anchors-and-merge.yaml:22:5", key: "testdata/load/valid-anchors-and-merge.yaml:21:3"},
		{field: "name", value: "testdata/load/valid-anchors-and-merge.yaml:16:7", key: "testdata/load/valid-anchors-and-merge.yaml:16:1"},
	}
	for _, tt := range tests {
		if got := replica.Fields[tt.field].String(); got != tt.value {
			t.Errorf("Fields[%q] = %s, want %s", tt.field, got, tt.value)
		}
		if got := replica.Keys[tt.field].String(); got != tt.key {
			t.Errorf("Keys[%q] = %s, want %s", tt.field, got, tt.key)
		}
	}
}

func TestLoadAllowUnresolved(t *testing.T) {
	res, err := Load([]string{"testdata/load/invalid-unset-variables"}, LoadOptions{
		LookupEnv:       lookupIn(map[string]string{"BILLING_HOST": "billing.example.internal"}),
		AllowUnresolved: true,
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantWarnings := []string{
		"testdata/load/invalid-unset-variables/a.yaml:6:13: auth.params.server: environment variable ORDERS_HOST is not set; the value stays unresolved",
		"testdata/load/invalid-unset-variables/a.yaml:9:15: auth.params.password: environment variable ORDERS_PASSWORD is not set; the value stays unresolved",
		"testdata/load/invalid-unset-variables/b.yaml:6:90: auth.params.connectionString: environment variable BILLING_PASSWORD is not set; the value stays unresolved",
	}
	if diff := cmp.Diff(wantWarnings, warningLines(res)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	got := map[string][]string{}
	for _, m := range res.Manifests {
		for name, v := range m.Auth.Params {
			if len(v.Unresolved()) > 0 {
				got[m.Name+"."+name] = v.Unresolved()
				if !v.Sensitive() || v.Reveal() != "" {
					t.Errorf("%s.%s: unresolved value is not sensitive and empty: sensitive=%v", m.Name, name, v.Sensitive())
				}
			}
		}
	}
	want := map[string][]string{
		"orders.server":            {"ORDERS_HOST"},
		"orders.password":          {"ORDERS_PASSWORD"},
		"billing.connectionString": {"BILLING_PASSWORD"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unresolved variables (-want +got):\n%s", diff)
	}
}

func TestLoadUnresolvedConnectionStrings(t *testing.T) {
	const file = "testdata/load/warning-unset-connection-string.yaml"
	tests := []struct {
		name     string
		env      map[string]string
		warnings []string
		errs     []string
	}{
		{
			name: "unset",
			env:  map[string]string{"ORDERS_PASSWORD": "pw"},
			warnings: []string{
				file + `:6:23: auth.params.connectionString: environment variable UNSET_DSN is not set; the value stays unresolved`,
				file + `:6:23: auth.params.connectionString: the connection string in $UNSET_DSN is not checked; it is checked once the variable is set`,
				file + `:13:23: auth.params.connectionString: environment variable UNSET_BASE is not set; the value stays unresolved`,
				file + `:13:23: auth.params.connectionString: the pairs in $UNSET_BASE are not checked; they are checked once the variable is set`,
			},
		},
		{
			name: "set",
			env: map[string]string{
				"ORDERS_PASSWORD": "pw",
				"UNSET_DSN":       "Server=db;Port=3306;Database=orders;UID=ingest;PWD=pw",
				"UNSET_BASE":      "Server=db;Port=3306;Database=orders",
			},
			errs: []string{
				file + `:13:23: auth.params.connectionString: connection string is missing the required key "uid" (keys are case-insensitive): neither the manifest nor $UNSET_BASE sets it`,
				file + `:13:23: auth.params.connectionString: expected a string matching the pattern ` + mysqlPattern + `; found a sensitive value (not shown)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Load([]string{file}, LoadOptions{LookupEnv: lookupIn(tt.env), AllowUnresolved: true})
			if diff := cmp.Diff(tt.errs, errorLines(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warnings, warningLines(res)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadUnresolvedStillChecksConnectionStringKeys shows that a connection
// string with an unset variable is still checked for its required keys.
func TestLoadUnresolvedStillChecksConnectionStringKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cs.yaml")
	writeFile(t, path, `name: cs
connectionSpec: {id: 26d738e0-8963-47ea-aadf-c60de735468a}
auth:
  specName: Connection String Based Authentication
  params:
    connectionString: Server=db;Port=3306;Database=orders;UID=ingest;PWD=${UNSET_PASSWORD}
    extra: value
`)
	_, err := Load([]string{path}, LoadOptions{LookupEnv: lookupIn(nil), AllowUnresolved: true})
	want := []string{
		path + `:7:5: auth.params.extra: unknown field; expected one of "connectionString"`,
	}
	if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestLoadExamples(t *testing.T) {
	env := map[string]string{
		"MYSQL_ORDERS_PASSWORD":         "orders;pw=1",
		"MYSQL_INVENTORY_PASSWORD":      "inventory-pw",
		"MYSQL_BILLING_PASSWORD":        "billing-pw",
		"POSTGRESQL_CUSTOMERS_PASSWORD": "customers-pw",
	}
	// Every file in examples/connections must load: the test names each one,
	// so a new example cannot be skipped.
	files, err := filepath.Glob("../../examples/connections/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d examples, want at least 4", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "# yaml-language-server: $schema=../../schemas/manifest.schema.json\n") {
				t.Errorf("%s does not start with the yaml-language-server schema line", f)
			}
			res, err := Load([]string{f}, LoadOptions{LookupEnv: lookupIn(env)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("warnings: %v", res.Warnings)
			}
			for _, m := range res.Manifests {
				if !m.AuthChecked {
					t.Errorf("%s: auth params not checked", m.Name)
				}
			}
		})
	}
	res, err := Load([]string{"../../examples/connections"}, LoadOptions{LookupEnv: lookupIn(env)})
	if err != nil {
		t.Fatalf("Load(examples/connections): %v", err)
	}
	if len(res.Manifests) != len(files) {
		t.Errorf("loaded %d manifests from %d files", len(res.Manifests), len(files))
	}
}
