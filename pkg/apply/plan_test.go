package apply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
	"github.com/apply-cli/apply/pkg/spec"
)

// dryRun plans manifests without applying, failing the test on error.
func (env *testEnv) dryRun(t *testing.T, ms *manifestSet, edit func(*Config)) *Plan {
	t.Helper()
	cfg := env.config()
	cfg.DryRun = true
	if edit != nil {
		edit(&cfg)
	}
	p, _, err := env.run(t, cfg, ms.load(t))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func TestPlanShowsRemovedParams(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	env.mustApply(t, env.config(), ms.load(t))

	// From Basic Authentication to a connection string.
	ms.env["ORDERS_DSN"] = "Server=db.example.internal; Port=3306; Database=orders; Uid=ingest; Pwd=pw"
	ms.raw("orders.yaml", `name: orders
connectionSpec:
  id: `+mysqlSpecID+`
  version: "1.0"
auth:
  specName: Connection String Based Authentication
  params:
    connectionString: ${ORDERS_DSN}
`)
	p := env.dryRun(t, ms, nil)
	assertKinds(t, p, "orders:update")
	want := []FieldChange{
		{Path: "auth.specName", Before: "Basic Authentication", After: "Connection String Based Authentication"},
		{Path: "auth.params.database", Before: "orders", Removed: true},
		{Path: "auth.params.password", Sensitive: true, Removed: true},
		{Path: "auth.params.port", Before: "3306", Removed: true},
		{Path: "auth.params.server", Before: "db.example.internal", Removed: true},
		{Path: "auth.params.sslMode", Before: "PREFERRED", Removed: true},
		{Path: "auth.params.username", Before: "ingest", Removed: true},
		{Path: "auth.params.connectionString", Sensitive: true},
	}
	if diff := cmp.Diff(want, action(t, p, "orders").Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestPlanShowsAddedParamAndResentSecret(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	withSSL := ms.docs["orders.yaml"]
	ms.docs["orders.yaml"] = strings.Replace(withSSL, "    sslMode: PREFERRED\n", "", 1)
	env.mustApply(t, env.config(), ms.load(t))

	ms.docs["orders.yaml"] = withSSL
	p := env.dryRun(t, ms, nil)
	assertKinds(t, p, "orders:update")
	want := []FieldChange{
		{Path: "auth.params.sslMode", After: "PREFERRED", Added: true},
		{Path: "auth.params.password", Sensitive: true, Resent: true},
	}
	if diff := cmp.Diff(want, action(t, p, "orders").Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestPlanAdoptListsResentSecret(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	if err := os.Remove(env.lockPath); err != nil {
		t.Fatal(err)
	}

	ms.docs["orders.yaml"] = strings.Replace(ms.docs["orders.yaml"], `port: "3306"`, `port: "3307"`, 1)
	p := env.dryRun(t, ms, nil)
	assertKinds(t, p, "orders:adopt")
	want := []FieldChange{
		{Path: "auth.params.port", Before: "3306", After: "3307"},
		{Path: "auth.params.password", Sensitive: true, Resent: true},
	}
	if diff := cmp.Diff(want, action(t, p, "orders").Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestPlanReplaceComparesWithOldConnection(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "Orders", "pw")
	env.mustApply(t, env.config(), ms.load(t))

	ms.mysql("orders", "Orders on MariaDB", "pw")
	ms.withSpec("orders", mariadbSpecID)
	for _, online := range []bool{true, false} {
		p := env.dryRun(t, ms, func(cfg *Config) {
			if !online {
				cfg.Client, cfg.Refresh = nil, false
			}
		})
		assertKinds(t, p, "orders:replace(skipped)")
		want := []FieldChange{
			{Path: "connectionSpec", Before: mysqlSpecID + " (version 1.0)", After: mariadbSpecID + " (version 1.0)"},
			{Path: "description", Before: "Orders", After: "Orders on MariaDB"},
			{Path: "auth.params.password", Sensitive: true, Resent: true},
		}
		if !online {
			// Offline, only the lock file's fields are compared.
			want = []FieldChange{want[0], want[2]}
		}
		if diff := cmp.Diff(want, action(t, p, "orders").Changes); diff != "" {
			t.Errorf("changes, online %v (-want +got):\n%s", online, diff)
		}
	}
}

// azureBlobSpecID is a connection spec that apply does not have built in,
// so the loader leaves its manifests' auth params unchecked and hidden.
const azureBlobSpecID = "4c10e202-c428-4796-9208-5f1f5732b1cf"

// azureBlobManifest returns a manifest of azureBlobSpecID whose secret
// comes from the variable AZURE_KEY.
func azureBlobManifest(name, description string) string {
	return `name: ` + name + `
description: "` + description + `"
connectionSpec:
  id: ` + azureBlobSpecID + `
  version: "1.0"
auth:
  specName: Service Principal Based Authentication
  params:
    serviceEndpoint: https://landing.blob.core.windows.net
    servicePrincipalId: 6c3f1a2e-0b7d-4e59-9a61-2f4d8c7b1e05
    servicePrincipalKey: ${AZURE_KEY}
    tenant: example.onmicrosoft.com
`
}

// writeCheckedLock writes a lock file recording manifest m as an online
// run records it: with the digest and the secret HMAC computed after its
// auth params were checked against connectionSpec.
func (env *testEnv) writeCheckedLock(t *testing.T, m *spec.Manifest, connectionSpec []byte, key []byte) {
	t.Helper()
	if errs := spec.CheckAuth(m, connectionSpec); errs != nil {
		t.Fatalf("check auth params of %s: %v", m.Name, errs)
	}
	salt := newSalt()
	lock := newLockFile(Target{Endpoint: env.srv.URL, OrgID: testOrg, Sandbox: testSandbox})
	lock.Entries[m.Name] = &lockEntry{
		Name:           m.Name,
		ID:             "0f6b7d2e-3c41-4a8e-9d55-7e2a1b9c4f60",
		ConnectionSpec: specRef{ID: m.ConnectionSpec.ID, Version: m.ConnectionSpec.Version},
		AuthSpecName:   m.Auth.SpecName,
		Digest:         m.Digest(),
		SecretSalt:     salt,
		SecretHMAC:     m.SecretHMAC(entryKey(key, salt)),
		SecretKeyID:    lockKeyID(key),
	}
	if err := writeFileAtomic(env.lockPath, lock.encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOfflinePlanOfUncheckedAuthParams(t *testing.T) {
	azureSpec, err := os.ReadFile("testdata/connectionspecs/azure-blob.json")
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("test lock key")
	tests := []struct {
		name        string
		description string // of the manifest planned offline
		secret      string // of the manifest planned offline
	}{
		{"unchanged", "Partner files", secretCanary},
		{"description changed", "Partner files, moved", secretCanary},
		{"secret changed", "Partner files", "rotated-" + secretCanary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, emulator.Options{})
			ms := newManifestSet(env.dir)
			ms.raw("landing.yaml", azureBlobManifest("landing", "Partner files"))
			ms.env["AZURE_KEY"] = secretCanary
			env.writeCheckedLock(t, ms.load(t)[0], azureSpec, key)

			ms.raw("landing.yaml", azureBlobManifest("landing", tt.description))
			ms.env["AZURE_KEY"] = tt.secret
			manifests := ms.load(t)
			if manifests[0].AuthChecked {
				t.Fatal("the loader checked the auth params of a connection spec it does not have built in")
			}
			reqs := env.emu.Stats().Requests
			cfg := Config{LockPath: env.lockPath, LockKey: key, DryRun: true}
			p, _, err := env.run(t, cfg, manifests)
			if err != nil {
				t.Fatal(err)
			}
			if got := env.emu.Stats().Requests - reqs; got != 0 {
				t.Errorf("offline plan sent %d requests", got)
			}

			assertKinds(t, p, "landing:no-change")
			a := action(t, p, "landing")
			if len(a.Changes) != 0 {
				t.Errorf("changes = %+v, want none: unchecked params cannot be compared offline", a.Changes)
			}
			if !strings.Contains(a.Note, "may have changed (auth params not checked offline)") {
				t.Errorf("note = %q, want it to say the connection may have changed", a.Note)
			}
			if p.AuthUnchecked != 1 {
				t.Errorf("AuthUnchecked = %d, want 1", p.AuthUnchecked)
			}
			if p.SecretsUndetectable {
				t.Error("SecretsUndetectable is set, although the lock file records an HMAC with the current key")
			}
			if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "1 connection(s) use a connection spec that is not built in") {
				t.Errorf("warnings = %q, want one counting the unchecked connection", p.Warnings)
			}
			var text bytes.Buffer
			if err := WriteText(&text, p, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if want := "Nothing will change in this run: 1 connection may have changed (auth params not checked offline)."; !strings.Contains(text.String(), want) {
				t.Errorf("text plan lacks %q:\n%s", want, text.String())
			}
			if strings.Contains(text.String(), secretCanary) {
				t.Error("text plan contains the secretCanary secret")
			}
			assertNoCanary(t, env, p, &Report{})
		})
	}
}

// serveConnectionSpec makes env serve GET /connectionSpecs/{id} for the
// connection spec document doc, which the emulator does not have.
func (env *testEnv) serveConnectionSpec(t *testing.T, doc []byte) {
	t.Helper()
	var item struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(doc, &item); err != nil {
		t.Fatalf("decode connection spec document: %v", err)
	}
	path := emulator.BasePath + "/connectionSpecs/" + item.ID
	serve := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != path {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"items": [%s]}`, doc)
		return true
	}
	env.serve.Store(&serve)
}

func TestOnlineAuthCheckWarningsInPlan(t *testing.T) {
	azureSpec, err := os.ReadFile("testdata/connectionspecs/azure-blob.json")
	if err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, emulator.Options{})
	env.serveConnectionSpec(t, azureSpec)
	ms := newManifestSet(env.dir)
	literal := strings.Replace(azureBlobManifest("landing", "Partner files"), "${AZURE_KEY}", secretCanary, 1)
	ms.raw("landing.yaml", literal)

	p := env.dryRun(t, ms, nil)
	assertKinds(t, p, "landing:create")
	var found string
	for _, w := range p.Warnings {
		if strings.Contains(w, "auth.params.servicePrincipalKey: a literal secret") {
			found = w
		}
	}
	if found == "" {
		t.Fatalf("warnings = %q, want the online check's warning about the literal secret", p.Warnings)
	}
	// The manifest's line 11 contains servicePrincipalKey, its value at column 26.
	if want := "landing.yaml:11:26: "; !strings.Contains(found, want) {
		t.Errorf("warning %q does not give the position %q", found, want)
	}
	if strings.Contains(strings.Join(p.Warnings, "\n"), secretCanary) {
		t.Error("warnings contain the secretCanary secret")
	}
}
