package apply

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
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
