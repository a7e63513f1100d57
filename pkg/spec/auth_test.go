package spec

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/schemas"
)

// loadCheckAuthManifests loads the manifests whose connection spec is not
// embedded, keyed by name.
func loadCheckAuthManifests(t *testing.T) map[string]*Manifest {
	t.Helper()
	res, err := Load([]string{"testdata/checkauth/manifests.yaml"}, LoadOptions{
		LookupEnv: lookupIn(map[string]string{"TOKEN_DSN_PASSWORD": "p;w"}),
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	byName := map[string]*Manifest{}
	for _, m := range res.Manifests {
		if m.AuthChecked {
			t.Errorf("%s: AuthChecked before CheckAuth", m.Name)
		}
		byName[m.Name] = m
	}
	return byName
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCheckAuth(t *testing.T) {
	const file = "testdata/checkauth/manifests.yaml"
	tests := []struct {
		name     string
		manifest string
		spec     string
		want     []string
	}{
		{
			name:     "valid params",
			manifest: "token-ok",
			spec:     "testdata/checkauth/token-spec.json",
		},
		{
			name:     "valid params against a response with items",
			manifest: "token-ok",
			spec:     "testdata/checkauth/token-spec-response.json",
		},
		{
			name:     "every keyword",
			manifest: "token-bad",
			spec:     "testdata/checkauth/token-spec.json",
			want: []string{
				file + ":17:12: auth.params.token: expected a string matching the pattern `^tok_[a-z0-9]+$`; found a sensitive value (not shown)",
				file + `:18:13: auth.params.region: expected one of "eu", "us"; found "mars"`,
				file + `:19:14: auth.params.retries: expected an integer, found "three"`,
				file + `:20:15: auth.params.compress: expected a boolean, found "yes"`,
				file + `:21:14: auth.params.timeout: expected a number less than 60; found 90.5`,
				file + `:22:12: auth.params.label: expected at most 8 characters, found 13`,
				file + `:23:11: auth.params.host: expected a string in the "hostname" format; found "-bad-.example"`,
				file + `:24:10: auth.params.dsn: connection string is missing the required key "pwd" (keys are case-insensitive)`,
				file + `:25:5: auth.params.extra: unknown field; expected one of "compress", "dsn", "host", "label", "region", "retries", "timeout", "token"`,
			},
		},
		{
			name:     "unknown auth spec name",
			manifest: "token-wrong-spec-name",
			spec:     "testdata/checkauth/token-spec.json",
			want: []string{
				file + `:30:13: auth.specName: expected one of "Token Authentication" (the auth specs of connection spec 11111111-2222-4333-8444-555555555555 (token-source)); found "Basic Authentication"`,
			},
		},
		{
			name:     "spec document for another id",
			manifest: "token-ok",
			spec:     "../../schemas/connectionspecs/mysql.json",
			want: []string{
				file + `:2:22: connectionSpec.id: cannot check auth params: the connection spec document describes "26d738e0-8963-47ea-aadf-c60de735468a", not this id`,
			},
		},
		{
			name:     "reference to a local file is not loaded",
			manifest: "token-ok",
			spec:     "testdata/checkauth/ref-to-file-spec.json",
			want: []string{
				file + `:2:22: connectionSpec.id: cannot check auth params: compile the schema of auth spec "Token Authentication": jsonschema https://apply.invalid/schema.json compilation failed: schema refers to file:///etc/passwd: references to other documents are not supported`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loadCheckAuthManifests(t)[tt.manifest]
			errs := CheckAuth(m, readTestFile(t, tt.spec))
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckAuth(%s, %s) (-want +got):\n%s", tt.manifest, tt.spec, diff)
			}
		})
	}
}

func TestCheckAuthSensitivity(t *testing.T) {
	const file = "testdata/checkauth/blob.yaml"
	res, err := Load([]string{file}, LoadOptions{LookupEnv: lookupIn(map[string]string{"BLOB_ENDPOINT_SUFFIX": "core.windows.net"})})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantWarnings := []string{
		file + ":4:22: connectionSpec.id: auth params not checked: connection spec 22222222-3333-4444-8555-666666666666 version 1.0 is not known offline; their values are hidden until they are checked",
	}
	if diff := cmp.Diff(wantWarnings, warningLines(res)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	m := res.Manifests[0]
	before := map[string]string{}
	for name, v := range m.Auth.Params {
		before[name] = v.String()
	}
	errs, warnings := CheckAuthWithWarnings(m, readTestFile(t, "testdata/checkauth/blob-spec.json"))
	if len(errs) > 0 {
		t.Fatalf("CheckAuth: %v", errs)
	}
	var gotWarnings []string
	for _, w := range warnings {
		gotWarnings = append(gotWarnings, w.Error())
	}
	wantWarnings = []string{
		file + ":9:17: auth.params.accountKey: a literal secret in a manifest ends up in git; use ${VAR}",
		file + ":10:13: auth.params.sasUri: a literal secret in a manifest ends up in git; use ${VAR}",
	}
	if diff := cmp.Diff(wantWarnings, gotWarnings); diff != "" {
		t.Errorf("CheckAuth warnings (-want +got):\n%s", diff)
	}

	tests := []struct {
		param     string
		before    string // printed before CheckAuth
		after     string // printed after CheckAuth
		sensitive bool   // after CheckAuth
		value     string // revealed after CheckAuth
	}{
		{param: "accountName", before: "(sensitive)", after: "ingest", value: "ingest"},
		{param: "accountKey", before: "(sensitive)", after: "(sensitive)", sensitive: true, value: "CANARY-account-key"},
		{param: "sasUri", before: "(sensitive)", after: "(sensitive)", sensitive: true, value: "https://ingest.blob.core.windows.net/?sig=CANARY-sas"},
		{param: "container", before: "(sensitive)", after: "orders", value: "orders"},
		// A value from the environment stays sensitive whatever its schema.
		{param: "endpointSuffix", before: "(sensitive: BLOB_ENDPOINT_SUFFIX)", after: "(sensitive: BLOB_ENDPOINT_SUFFIX)", sensitive: true, value: "core.windows.net"},
	}
	for _, tt := range tests {
		v := m.Auth.Params[tt.param]
		if before[tt.param] != tt.before {
			t.Errorf("%s printed %q before CheckAuth, want %q", tt.param, before[tt.param], tt.before)
		}
		if got := v.String(); got != tt.after {
			t.Errorf("%s printed %q after CheckAuth, want %q", tt.param, got, tt.after)
		}
		if got := v.Sensitive(); got != tt.sensitive {
			t.Errorf("%s: Sensitive() = %v after CheckAuth, want %v", tt.param, got, tt.sensitive)
		}
		if got := v.Reveal(); got != tt.value {
			t.Errorf("%s reveals %q after CheckAuth, want %q", tt.param, got, tt.value)
		}
	}
	if !m.AuthChecked {
		t.Errorf("AuthChecked is false after CheckAuth")
	}
}

func TestCheckAuthInvalidDocument(t *testing.T) {
	m := loadCheckAuthManifests(t)["token-ok"]
	errs := CheckAuth(m, []byte(`{"id": `))
	want := "testdata/checkauth/manifests.yaml:2:22: connectionSpec.id: cannot check auth params: decode connection spec: unexpected end of JSON input"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("CheckAuth(truncated JSON) = %v, want %q", errs, want)
	}
}

func TestEmbeddedConnectionSpecs(t *testing.T) {
	docs := schemas.ConnectionSpecs()
	if len(docs) == 0 {
		t.Fatal("no embedded connection specs")
	}
	for _, doc := range docs {
		cs, err := parseConnectionSpec(doc)
		if err != nil {
			t.Errorf("parseConnectionSpec: %v", err)
			continue
		}
		if cs.version != "1.0" || len(cs.authSpecs) == 0 {
			t.Errorf("%s: version %q with %d auth specs", cs.name, cs.version, len(cs.authSpecs))
		}
		for _, as := range cs.authSpecs {
			if !slicesAny(as.params, func(p paramSpec) bool { return p.password }) {
				t.Errorf("%s / %s: no param is marked format: password", cs.name, as.name)
			}
		}
	}
	if _, ok := knownSpec("26D738E0-8963-47EA-AADF-C60DE735468A"); !ok {
		t.Errorf("knownSpec does not find MySQL by an upper-case id")
	}
}

func slicesAny(params map[string]paramSpec, f func(paramSpec) bool) bool {
	for _, p := range params {
		if f(p) {
			return true
		}
	}
	return false
}

func TestCheckAuthManifestBuiltInCode(t *testing.T) {
	m := &Manifest{
		ConnectionSpec: mysqlSpec,
		Auth: Auth{SpecName: "Basic Authentication", Params: map[string]Value{
			"server":   PlainValue("db"),
			"database": PlainValue("orders"),
			"username": PlainValue("ingest"),
			"password": UnresolvedValue("PW"),
			"extra":    UnresolvedValue("X"),
		}},
	}
	errs := CheckAuth(m, readTestFile(t, "../../schemas/connectionspecs/mysql.json"))
	want := `auth.params.extra: unknown field; expected one of ` + mysqlBasicParams
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("CheckAuth = %v, want only %q", errs, want)
	}
	if !m.AuthChecked {
		t.Errorf("AuthChecked is false after CheckAuth")
	}
}

func TestCheckAuthWithWarnings(t *testing.T) {
	const file = "testdata/checkauth/dsn-variables.yaml"
	res, err := Load([]string{file}, LoadOptions{
		LookupEnv:       lookupIn(map[string]string{"TOKEN": "tok_abc", "TOKEN_DSN": "Host=h"}),
		AllowUnresolved: true,
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		manifest string
		errs     []string
		warnings []string
	}{
		{
			manifest: "token-dsn-unset",
			warnings: []string{
				file + `:8:10: auth.params.dsn: the connection string in $UNSET_DSN is not checked; it is checked once the variable is set`,
			},
		},
		{
			manifest: "token-dsn-set",
			errs: []string{
				file + `:17:10: auth.params.dsn: the connection string in $TOKEN_DSN is missing the required key "pwd" (keys are case-insensitive)`,
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.manifest, func(t *testing.T) {
			m := res.Manifests[i]
			if m.Name != tt.manifest {
				t.Fatalf("manifest %d is %s, want %s", i, m.Name, tt.manifest)
			}
			errs, warnings := CheckAuthWithWarnings(m, readTestFile(t, "testdata/checkauth/token-spec.json"))
			var gotErrs, gotWarnings []string
			for _, e := range errs {
				gotErrs = append(gotErrs, e.Error())
			}
			for _, w := range warnings {
				gotWarnings = append(gotWarnings, w.Error())
			}
			if diff := cmp.Diff(tt.errs, gotErrs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warnings, gotWarnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
