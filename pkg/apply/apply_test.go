package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
	"github.com/apply-cli/apply/pkg/spec"
)

// kinds returns "name:kind" for every action, with "(skipped)" or
// "(error)" appended where set, in plan order.
func kinds(p *Plan) []string {
	var out []string
	for _, a := range p.Actions {
		s := a.Name + ":" + string(a.Kind)
		if a.Skipped != "" {
			s += "(skipped)"
		}
		if a.Error != "" {
			s += "(error)"
		}
		out = append(out, s)
	}
	return out
}

func assertKinds(t *testing.T, p *Plan, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, kinds(p)); diff != "" {
		t.Errorf("plan actions (-want +got):\n%s", diff)
	}
}

func action(t *testing.T, p *Plan, name string) Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("plan has no action for %q", name)
	return Action{}
}

func changedPaths(a Action) []string {
	var paths []string
	for _, c := range a.Changes {
		paths = append(paths, c.Path)
	}
	return paths
}

// threeManifests returns a set of three MySQL manifests.
func threeManifests(env *testEnv) *manifestSet {
	ms := newManifestSet(env.dir)
	ms.mysql("billing", "Billing database", secretCanary)
	ms.mysql("inventory", "Inventory database", "inventory-pw")
	ms.mysql("orders", "", "orders-pw")
	return ms
}

func TestApplyCreatesThenSecondRunSendsNoWrite(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)

	p, r := env.mustApply(t, env.config(), manifests)
	assertKinds(t, p, "billing:create", "inventory:create", "orders:create")
	for _, res := range r.Results {
		if res.Status != StatusApplied || res.ID == "" || res.Etag == "" {
			t.Errorf("result of %s = %s id %q etag %q, want applied with id and etag", res.Action.Name, res.Status, res.ID, res.Etag)
		}
	}
	env.assertConverged(t, manifests)
	for name, e := range env.readLock(t).Entries {
		if e.SecretHMAC == "" || e.SecretKeyID != lockKeyID([]byte("test lock key")) {
			t.Errorf("lock entry %q has HMAC %q key id %q, want both recorded", name, e.SecretHMAC, e.SecretKeyID)
		}
	}

	before, err := os.Stat(env.lockPath)
	if err != nil {
		t.Fatal(err)
	}
	beforeData, _ := os.ReadFile(env.lockPath)
	env.writes.Store(0)
	time.Sleep(10 * time.Millisecond) // a rewrite would then change the modification time

	p, r = env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "billing:no-change", "inventory:no-change", "orders:no-change")
	if p.HasChanges() {
		t.Error("HasChanges() = true for a plan without changes")
	}
	if n := env.writes.Load(); n != 0 {
		t.Errorf("second run sent %d write requests, want 0", n)
	}
	for _, res := range r.Results {
		if res.Status != StatusUnchanged {
			t.Errorf("result of %s = %s, want unchanged", res.Action.Name, res.Status)
		}
	}
	after, err := os.Stat(env.lockPath)
	if err != nil {
		t.Fatal(err)
	}
	afterData, _ := os.ReadFile(env.lockPath)
	if !after.ModTime().Equal(before.ModTime()) || string(afterData) != string(beforeData) {
		t.Error("second run rewrote the lock file")
	}
	assertNoCanary(t, env, p, r)
}

func TestAdoptAfterLostLockFile(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))
	want := env.readLock(t)
	if err := os.Remove(env.lockPath); err != nil {
		t.Fatal(err)
	}

	env.writes.Store(0)
	p, _ := env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "billing:adopt", "inventory:adopt", "orders:adopt")
	if n := env.writes.Load(); n != 0 {
		t.Errorf("adopting unchanged connections sent %d write requests, want 0", n)
	}
	got := env.readLock(t)
	for name, e := range want.Entries {
		if got.Entries[name] == nil || got.Entries[name].ID != e.ID {
			t.Errorf("adopted entry %q = %+v, want id %s", name, got.Entries[name], e.ID)
		}
		if got.Entries[name] != nil && got.Entries[name].SecretHMAC != "" {
			t.Errorf("adopted entry %q records an HMAC of secrets that were never sent", name)
		}
	}
	if !p.SecretsUndetectable || !strings.Contains(strings.Join(p.Warnings, "\n"), "--update-secrets") {
		t.Errorf("plan after adoption: SecretsUndetectable = %v, warnings %q; want a warning naming --update-secrets", p.SecretsUndetectable, p.Warnings)
	}

	// --update-secrets sends them again and records their HMAC.
	cfg := env.config()
	cfg.UpdateSecrets = true
	p, _ = env.mustApply(t, cfg, ms.load(t))
	assertKinds(t, p, "billing:update", "inventory:update", "orders:update")
	for name, e := range env.readLock(t).Entries {
		if e.SecretHMAC == "" {
			t.Errorf("entry %q has no HMAC after --update-secrets", name)
		}
	}
	p, _ = env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "billing:no-change", "inventory:no-change", "orders:no-change")
	if p.SecretsUndetectable {
		t.Error("SecretsUndetectable is still set after --update-secrets recorded the HMACs")
	}
}

func TestRecreateAfterOutOfBandDelete(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)
	env.mustApply(t, env.config(), manifests)
	oldID := env.readLock(t).Entries["inventory"].ID
	if err := env.client.DeleteConnection(context.Background(), oldID); err != nil {
		t.Fatal(err)
	}

	p, _ := env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "inventory:recreate", "billing:no-change", "orders:no-change")
	if note := action(t, p, "inventory").Note; !strings.Contains(note, oldID) {
		t.Errorf("recreate note = %q, want it to name the deleted id %s", note, oldID)
	}
	env.assertConverged(t, manifests)
	if newID := env.readLock(t).Entries["inventory"].ID; newID == oldID {
		t.Errorf("recreated connection kept the deleted id %s", oldID)
	}
}

func TestUpdateFields(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))
	ids := env.readLock(t)

	ms.mysql("billing", "Billing database (EU)", secretCanary)
	ms.mysql("inventory", "Inventory database", "inventory-pw-rotated")
	ms.mysql("orders", "Orders", "orders-pw")
	ms.docs["orders.yaml"] = strings.Replace(ms.docs["orders.yaml"], `port: "3306"`, `port: "3307"`, 1)

	var mu sync.Mutex
	var patches []string
	intercept := func(r *http.Request) {
		if r.Method != http.MethodPatch {
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		mu.Lock()
		patches = append(patches, string(body))
		mu.Unlock()
	}
	env.intercept.Store(&intercept)

	p, _ := env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "billing:update", "inventory:update", "orders:update")
	if diff := cmp.Diff([]string{"description"}, changedPaths(action(t, p, "billing"))); diff != "" {
		t.Errorf("billing changes (-want +got):\n%s", diff)
	}
	wantSecret := []FieldChange{{Path: "auth.params.password", Sensitive: true}}
	if diff := cmp.Diff(wantSecret, action(t, p, "inventory").Changes); diff != "" {
		t.Errorf("inventory changes (-want +got):\n%s", diff)
	}
	wantOrders := []FieldChange{
		{Path: "description", After: "Orders"},
		{Path: "auth.params.port", Before: "3306", After: "3307"},
		{Path: "auth.params.password", Sensitive: true, Resent: true},
	}
	if diff := cmp.Diff(wantOrders, action(t, p, "orders").Changes); diff != "" {
		t.Errorf("orders changes (-want +got):\n%s", diff)
	}

	if len(patches) != 3 {
		t.Fatalf("sent %d patches, want 3: %q", len(patches), patches)
	}
	for _, body := range patches {
		var ops []map[string]any
		if err := json.Unmarshal([]byte(body), &ops); err != nil {
			t.Fatalf("patch body %s: %v", body, err)
		}
		for _, op := range ops {
			// Only the billing patch may leave the params alone, and it
			// must not send its password (the secretCanary).
			if op["path"] == "/auth/params" {
				params := op["value"].(map[string]any)
				if len(params) != 6 {
					t.Errorf("patch of /auth/params sends %d params, want all 6: %v", len(params), params)
				}
			}
		}
		if strings.Contains(body, secretCanary) {
			t.Errorf("patch of a description sent the unchanged password: %s", body)
		}
	}

	remote := env.remote(t)
	byName := make(map[string]flowservice.Connection)
	for _, c := range remote {
		byName[c.Name] = c
	}
	if got := byName["billing"].Description; got != "Billing database (EU)" {
		t.Errorf("remote billing description = %q", got)
	}
	if got := byName["orders"].Auth.Params["port"]; got != "3307" {
		t.Errorf("remote orders port = %v, want 3307", got)
	}
	for name, e := range env.readLock(t).Entries {
		if e.ID != ids.Entries[name].ID {
			t.Errorf("update changed the id of %q", name)
		}
	}

	env.writes.Store(0)
	p, _ = env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "billing:no-change", "inventory:no-change", "orders:no-change")
	if n := env.writes.Load(); n != 0 {
		t.Errorf("run after the update sent %d write requests, want 0", n)
	}
}

func TestSecretChangesWithoutKey(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "first-pw")
	cfg := env.config()
	cfg.LockKey = nil
	env.mustApply(t, cfg, ms.load(t))
	if e := env.readLock(t).Entries["orders"]; e.SecretHMAC != "" || e.SecretKeyID != "" {
		t.Errorf("entry written without a key records HMAC %q key id %q", e.SecretHMAC, e.SecretKeyID)
	}

	ms.mysql("orders", "", "second-pw")
	env.writes.Store(0)
	p, _ := env.mustApply(t, cfg, ms.load(t))
	assertKinds(t, p, "orders:no-change")
	if env.writes.Load() != 0 {
		t.Error("a run without a key sent a write for an undetectable secret change")
	}
	if !p.SecretsUndetectable || !strings.Contains(strings.Join(p.Warnings, "\n"), "APPLY_LOCK_KEY") {
		t.Errorf("warnings = %q, want one about the missing lock key", p.Warnings)
	}

	cfg.UpdateSecrets = true
	p, _ = env.mustApply(t, cfg, ms.load(t))
	assertKinds(t, p, "orders:update")
	if c := action(t, p, "orders").Changes; len(c) != 1 || !c[0].Sensitive || !c[0].Unknown {
		t.Errorf("changes with --update-secrets = %+v, want one sensitive change of unknown value", c)
	}

	// With a key, --update-secrets records the HMAC. A later run with
	// another key reports that it cannot compare.
	cfg = env.config()
	cfg.UpdateSecrets = true
	env.mustApply(t, cfg, ms.load(t))
	if e := env.readLock(t).Entries["orders"]; e.SecretHMAC == "" {
		t.Fatal("--update-secrets with a key recorded no HMAC")
	}
	cfg = env.config()
	cfg.LockKey = []byte("rotated key")
	p, _ = env.mustApply(t, cfg, ms.load(t))
	assertKinds(t, p, "orders:no-change")
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "lock key differs") {
		t.Errorf("warnings after a key change = %q, want one about the changed key", p.Warnings)
	}
}

func TestPreconditionFailedIsRetried(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "first", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	id := env.readLock(t).Entries["orders"].ID

	ms.mysql("orders", "wanted", "pw")
	ctx := context.Background()
	s, err := Open(ctx, env.config())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Plan(ctx, ms.load(t))
	if err != nil {
		t.Fatal(err)
	}
	assertKinds(t, p, "orders:update")

	// Someone else changes the connection between plan and apply, so the
	// etag read while planning is stale.
	conn, err := env.client.GetConnection(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.client.PatchConnection(ctx, id, conn.Etag, []flowservice.PatchOp{
		{Op: "replace", Path: "/description", Value: "changed by hand"},
	})
	if err != nil {
		t.Fatal(err)
	}

	stats := env.emu.Stats()
	r, err := s.Apply(ctx, p, nil)
	if err != nil {
		t.Fatalf("Apply after a concurrent change: %v", err)
	}
	if r.Results[0].Status != StatusApplied {
		t.Errorf("status = %s, want applied", r.Results[0].Status)
	}
	after := env.emu.Stats()
	if got := after.ByStatus[412] - stats.ByStatus[412]; got != 1 {
		t.Errorf("apply met %d answers 412, want 1", got)
	}
	if got := after.ByMethod["PATCH"] - stats.ByMethod["PATCH"]; got != 2 {
		t.Errorf("apply sent %d PATCH requests, want 2 (the stale one and the retry)", got)
	}
	conn, err = env.client.GetConnection(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if conn.Description != "wanted" {
		t.Errorf("description = %q, want the manifest's", conn.Description)
	}
}

func TestAmbiguousNameMatch(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ctx := context.Background()
	var ids []string
	for range 2 {
		ref, err := env.client.CreateConnection(ctx, flowservice.ConnectionInput{
			Name:           "orders",
			ConnectionSpec: flowservice.SpecRef{ID: mysqlSpecID, Version: "1.0"},
			AuthSpecName:   "Basic Authentication",
			Params:         map[string]string{"server": "db", "database": "orders", "username": "u", "password": "p"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ref.ID)
	}
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	ms.mysql("billing", "", "pw")

	env.writes.Store(0)
	s, err := Open(ctx, env.config())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Plan(ctx, ms.load(t))
	if err == nil {
		t.Fatal("Plan with two remote connections of one name succeeded, want an error")
	}
	for _, id := range ids {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name id %s", err, id)
		}
	}
	if !strings.Contains(err.Error(), "delete or rename all but one") {
		t.Errorf("error %q does not say how to resolve it", err)
	}
	assertKinds(t, p, "billing:create", "orders:adopt(error)")
	if _, err := s.Apply(ctx, p, nil); err == nil {
		t.Error("Apply of a plan with errors succeeded")
	}
	if n := env.writes.Load(); n != 0 {
		t.Errorf("sent %d write requests, want 0", n)
	}
	if _, err := os.Stat(env.lockPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file was written: %v", err)
	}
}

func TestReplace(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))
	lockBefore, _ := os.ReadFile(env.lockPath)
	oldID := env.readLock(t).Entries["orders"].ID

	ms.withSpec("orders", mariadbSpecID)
	manifests := ms.load(t)

	t.Run("without allow-replace", func(t *testing.T) {
		env.writes.Store(0)
		p, r := env.mustApply(t, env.config(), manifests)
		assertKinds(t, p, "orders:replace(skipped)", "billing:no-change", "inventory:no-change")
		a := action(t, p, "orders")
		if !strings.Contains(a.Skipped, "--allow-replace") || a.OldID != oldID {
			t.Errorf("replace action = %+v, want it skipped naming --allow-replace and old id %s", a, oldID)
		}
		if r.Results[0].Status != StatusSkipped {
			t.Errorf("status = %s, want skipped", r.Results[0].Status)
		}
		if n := env.writes.Load(); n != 0 {
			t.Errorf("sent %d write requests, want 0", n)
		}
		if data, _ := os.ReadFile(env.lockPath); string(data) != string(lockBefore) {
			t.Error("skipped replace changed the lock file")
		}
	})

	t.Run("with allow-replace", func(t *testing.T) {
		cfg := env.config()
		cfg.AllowReplace = true
		p, _ := env.mustApply(t, cfg, manifests)
		assertKinds(t, p, "orders:replace", "billing:no-change", "inventory:no-change")
		env.assertConverged(t, manifests)
		e := env.readLock(t).Entries["orders"]
		if e.ID == oldID || e.ConnectionSpec.ID != mariadbSpecID || e.Replaces != "" {
			t.Errorf("entry after replace = %+v, want a new id with the new spec", e)
		}
		if _, err := env.client.GetConnection(context.Background(), oldID); !errors.Is(err, flowservice.ErrNotFound) {
			t.Errorf("old connection after replace: %v, want not found", err)
		}
	})
}

func TestPrune(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))
	goneID := env.readLock(t).Entries["inventory"].ID
	ms.remove("inventory")
	manifests := ms.load(t)

	env.writes.Store(0)
	p, _ := env.mustApply(t, env.config(), manifests)
	assertKinds(t, p, "inventory:delete(skipped)", "billing:no-change", "orders:no-change")
	if env.writes.Load() != 0 {
		t.Error("delete without --prune sent a write request")
	}
	if env.readLock(t).Entries["inventory"] == nil {
		t.Error("delete without --prune removed the lock entry")
	}

	cfg := env.config()
	cfg.Prune = true
	p, _ = env.mustApply(t, cfg, manifests)
	assertKinds(t, p, "inventory:delete", "billing:no-change", "orders:no-change")
	env.assertConverged(t, manifests)
	if _, err := env.client.GetConnection(context.Background(), goneID); !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("pruned connection: %v, want not found", err)
	}
}

func TestPruneOfDeletedConnectionDropsEntry(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))
	if err := env.client.DeleteConnection(context.Background(), env.readLock(t).Entries["orders"].ID); err != nil {
		t.Fatal(err)
	}
	ms.remove("orders")
	env.writes.Store(0)
	p, _ := env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "orders:delete", "billing:no-change", "inventory:no-change")
	if env.writes.Load() != 0 {
		t.Error("dropping the entry of a deleted connection sent a write request")
	}
	if env.readLock(t).Entries["orders"] != nil {
		t.Error("entry of a deleted connection is still in the lock file")
	}
}

func TestRename(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))
	id := env.readLock(t).Entries["orders"].ID

	ms.remove("orders")
	ms.mysql("orders-eu", "", "orders-pw", "renamedFrom: orders")
	manifests := ms.load(t)
	p, _ := env.mustApply(t, env.config(), manifests)
	assertKinds(t, p, "orders-eu:rename", "billing:no-change", "inventory:no-change")
	a := action(t, p, "orders-eu")
	if a.OldName != "orders" || a.ID != id {
		t.Errorf("rename action = %+v, want old name orders and id %s", a, id)
	}
	env.assertConverged(t, manifests)
	if got := env.readLock(t).Entries["orders-eu"].ID; got != id {
		t.Errorf("renamed entry id = %s, want the same connection %s", got, id)
	}

	// The renamedFrom line may stay: nothing changes afterwards.
	env.writes.Store(0)
	p, _ = env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "billing:no-change", "inventory:no-change", "orders-eu:no-change")
	if env.writes.Load() != 0 {
		t.Error("run after a rename sent a write request")
	}
}

func TestForeignTargetRejected(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))

	cfg := env.config()
	cfg.Target.Sandbox = "dev"
	_, err := Open(context.Background(), cfg)
	if !errors.Is(err, ErrForeignTarget) {
		t.Fatalf("Open for another sandbox: error = %v, want ErrForeignTarget", err)
	}
	for _, want := range []string{`sandbox "prod"`, `sandbox "dev"`, "separate lock file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestConcurrentRunsOnOneLockFile(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	ctx := context.Background()
	first, err := Open(ctx, env.config())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	cfg := env.config()
	cfg.LockTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err = Open(ctx, cfg)
	waited := time.Since(start)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: error = %v, want ErrLocked", err)
	}
	if waited < cfg.LockTimeout {
		t.Errorf("second Open gave up after %v, want it to wait %v", waited, cfg.LockTimeout)
	}
	if !strings.Contains(err.Error(), "another apply run") {
		t.Errorf("error %q does not say another run holds the lock", err)
	}

	dry := env.config()
	dry.DryRun = true
	dry.LockTimeout = 0
	if _, err := Open(ctx, dry); !errors.Is(err, ErrLocked) {
		t.Errorf("dry run during an apply: error = %v, want ErrLocked", err)
	}

	manifests := ms.load(t)
	p, err := first.Plan(ctx, manifests)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Apply(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	first.Close()
	env.assertConverged(t, manifests)

	// Once released, the next run goes ahead.
	second, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open after the first run ended: %v", err)
	}
	second.Close()
}

func TestDryRunWritesNothing(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	cfg := env.config()
	cfg.DryRun = true
	ctx := context.Background()

	// Two dry runs may share the lock file.
	other, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("second dry run: %v", err)
	}
	defer s.Close()
	p, err := s.Plan(ctx, ms.load(t))
	if err != nil {
		t.Fatal(err)
	}
	assertKinds(t, p, "billing:create", "inventory:create", "orders:create")
	if _, err := s.Apply(ctx, p, nil); err == nil {
		t.Error("Apply in a dry-run session succeeded")
	}
	if n := env.writes.Load(); n != 0 {
		t.Errorf("dry run sent %d write requests", n)
	}
	if _, err := os.Stat(env.lockPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created the lock file: %v", err)
	}
}

func TestOfflinePlanFromLockFile(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))

	ms.mysql("billing", "Billing database, moved", secretCanary)
	ms.mysql("inventory", "Inventory database", "inventory-pw-rotated")
	ms.mysql("payments", "", "pw")
	ms.withSpec("orders", mariadbSpecID)

	env.writes.Store(0)
	reqs := env.emu.Stats().Requests
	cfg := Config{LockPath: env.lockPath, LockKey: []byte("test lock key"), DryRun: true}
	p, _, err := env.run(t, cfg, ms.load(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := env.emu.Stats().Requests - reqs; got != 0 {
		t.Errorf("offline plan sent %d requests", got)
	}
	if p.Refreshed {
		t.Error("offline plan says it was refreshed")
	}
	assertKinds(t, p, "payments:create", "billing:update", "inventory:update", "orders:replace(skipped)")
	wantBilling := []FieldChange{
		{Path: "description", After: "Billing database, moved", Possible: true},
		{Path: "auth.params.database", After: "billing", Possible: true},
		{Path: "auth.params.port", After: "3306", Possible: true},
		{Path: "auth.params.server", After: "db.example.internal", Possible: true},
		{Path: "auth.params.sslMode", After: "PREFERRED", Possible: true},
		{Path: "auth.params.username", After: "ingest", Possible: true},
	}
	if diff := cmp.Diff(wantBilling, action(t, p, "billing").Changes); diff != "" {
		t.Errorf("offline billing changes (-want +got):\n%s", diff)
	}
	if note := action(t, p, "billing").Note; !strings.Contains(note, "not which") {
		t.Errorf("offline billing note = %q, want it to say which field changed is unknown", note)
	}
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "trusts the lock file") || !strings.Contains(w, "forged") {
		t.Errorf("warnings = %q, want one saying the plan trusts the lock file, which can be forged", p.Warnings)
	}
	if c := action(t, p, "inventory").Changes; len(c) != 1 || !c[0].Sensitive || c[0].Unknown {
		t.Errorf("offline inventory changes = %+v, want the detected secret change", c)
	}

	// The target recorded in the lock file is checked offline too.
	cfg.Target.Sandbox = "dev"
	if _, err := Open(context.Background(), cfg); !errors.Is(err, ErrForeignTarget) {
		t.Errorf("offline Open for another sandbox: error = %v, want ErrForeignTarget", err)
	}
}

func TestUnresolvedVariables(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))

	ms.mysql("payments", "", "pw")
	delete(ms.env, "PW_PAYMENTS")
	delete(ms.env, "PW_ORDERS")
	dir, err := os.MkdirTemp(env.dir, "manifests-")
	if err != nil {
		t.Fatal(err)
	}
	for file, doc := range ms.docs {
		if err := os.WriteFile(dir+"/"+file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := spec.Load([]string{dir}, spec.LoadOptions{
		LookupEnv:       func(name string) (string, bool) { v, ok := ms.env[name]; return v, ok },
		AllowUnresolved: true,
	})
	if err != nil {
		t.Fatal(err)
	}

	cfg := env.config()
	cfg.DryRun = true
	p, _, err := env.run(t, cfg, res.Manifests)
	if err != nil {
		t.Fatalf("dry run with unset variables: %v", err)
	}
	assertKinds(t, p, "payments:create", "billing:no-change", "inventory:no-change", "orders:no-change")
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "unset variables") {
		t.Errorf("warnings = %q, want one about unset variables", p.Warnings)
	}

	cfg.DryRun = false
	_, _, err = env.run(t, cfg, res.Manifests)
	if err == nil || !strings.Contains(err.Error(), "PW_PAYMENTS") {
		t.Errorf("apply with an unset variable: error = %v, want one naming PW_PAYMENTS", err)
	}
}

func TestPendingEntriesAreResolvedByName(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)
	env.mustApply(t, env.config(), manifests)

	// Turn two entries back into pending ones, as a run killed after
	// sending their creates leaves them, and delete one connection, as if
	// its create never reached the service.
	l := env.readLock(t)
	deleted := l.Entries["orders"].ID
	if err := env.client.DeleteConnection(context.Background(), deleted); err != nil {
		t.Fatal(err)
	}
	kept := l.Entries["billing"].ID
	for _, name := range []string{"billing", "orders"} {
		l.Entries[name].ID = ""
		l.Entries[name].Pending = true
	}
	if err := writeFileAtomic(env.lockPath, l.encode(), 0o644); err != nil {
		t.Fatal(err)
	}

	p, _ := env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "orders:create", "billing:adopt", "inventory:no-change")
	for _, name := range []string{"billing", "orders"} {
		if note := action(t, p, name).Note; !strings.Contains(note, "interrupted create") {
			t.Errorf("note of %s = %q, want it to mention the interrupted create", name, note)
		}
	}
	env.assertConverged(t, manifests)
	got := env.readLock(t).Entries["billing"]
	if got.ID != kept || got.SecretHMAC == "" {
		t.Errorf("resolved billing entry = %+v, want id %s with the pending entry's HMAC", got, kept)
	}
}

func TestInterruptedReplaceIsCompleted(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	env.mustApply(t, env.config(), ms.load(t))
	oldID := env.readLock(t).Entries["orders"].ID

	// A replace that created the new connection, recorded it, and was
	// killed before deleting the old one.
	ms.withSpec("orders", mariadbSpecID)
	manifests := ms.load(t)
	var m *spec.Manifest
	for _, mm := range manifests {
		if mm.Name == "orders" {
			m = mm
		}
	}
	ref, err := env.client.CreateConnection(context.Background(), connectionInput(m))
	if err != nil {
		t.Fatal(err)
	}
	l := env.readLock(t)
	l.Entries["orders"] = &lockEntry{Name: "orders", ID: ref.ID, ConnectionSpec: specRef{ID: mariadbSpecID, Version: "1.0"},
		AuthSpecName: "Basic Authentication", Digest: m.Digest(), Replaces: oldID}
	if err := writeFileAtomic(env.lockPath, l.encode(), 0o644); err != nil {
		t.Fatal(err)
	}

	p, _ := env.mustApply(t, env.config(), manifests) // no --allow-replace: the earlier run had it
	assertKinds(t, p, "orders:replace", "billing:no-change", "inventory:no-change")
	env.assertConverged(t, manifests)
	if e := env.readLock(t).Entries["orders"]; e.ID != ref.ID || e.Replaces != "" {
		t.Errorf("entry = %+v, want id %s and no replaces", e, ref.ID)
	}
}

func TestEventsAndFailures(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	// An auth spec the emulator does not know makes one create fail. Its
	// password is the canary, which the error must not show.
	manifests := ms.load(t)
	for _, m := range manifests {
		if m.Name == "billing" {
			m.Auth.SpecName = "No Such Authentication"
		}
	}

	var mu sync.Mutex
	counts := make(map[EventKind]int)
	cfg := env.config()
	cfg.OnEvent = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		counts[ev.Kind]++
		if ev.Kind == EventFinished && ev.Result == nil {
			t.Error("finished event without a result")
		}
	}
	p, r, err := env.run(t, cfg, manifests)
	if err == nil || !strings.Contains(err.Error(), "create billing") {
		t.Fatalf("apply error = %v, want the failed create of billing", err)
	}
	if strings.Contains(err.Error(), secretCanary) {
		t.Errorf("error shows the canary secret: %v", err)
	}
	statuses := make(map[string]Status)
	for _, res := range r.Results {
		statuses[res.Action.Name] = res.Status
	}
	want := map[string]Status{"billing": StatusFailed, "inventory": StatusApplied, "orders": StatusApplied}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if counts[EventStarted] != 3 || counts[EventFinished] != 3 {
		t.Errorf("events = %v, want 3 started and 3 finished", counts)
	}
	// The service rejected the create, so nothing is left to resolve.
	if e := env.readLock(t).Entries["billing"]; e != nil {
		t.Errorf("rejected create's entry = %+v, want none", e)
	}
	assertNoCanary(t, env, p, r)
}

func TestUnknownSpecCheckedOnline(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)
	// As the loader leaves a manifest whose connection spec it does not
	// ship: params unchecked, none marked sensitive by the spec.
	for _, m := range manifests {
		m.AuthChecked = false
	}
	manifests[0].Auth.Params["port"] = spec.PlainValue("not a port")

	_, _, err := env.run(t, env.config(), manifests)
	var errs spec.ErrorList
	if !errors.As(err, &errs) || !strings.Contains(err.Error(), "auth.params.port") {
		t.Fatalf("plan with an invalid port checked online: error = %v, want a spec.ErrorList naming auth.params.port", err)
	}
	if n := env.writes.Load(); n != 0 {
		t.Errorf("sent %d write requests, want 0", n)
	}
	if got := env.emu.Stats().ByMethod["GET"]; got != 1 {
		t.Errorf("sent %d GET requests, want 1: the connection spec, fetched once", got)
	}

	manifests[0].Auth.Params["port"] = spec.PlainValue("3306")
	for _, m := range manifests {
		m.AuthChecked = false
	}
	env.mustApply(t, env.config(), manifests)
	env.assertConverged(t, manifests)

	unknown := ms.load(t)[:1]
	unknown[0].AuthChecked = false
	unknown[0].ConnectionSpec.ID = "00000000-0000-0000-0000-000000000000"
	_, _, err = env.run(t, env.config(), unknown)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("plan with an unknown connection spec: error = %v, want one saying it does not exist", err)
	}
}

func TestFailFastStartsNothingAfterFailure(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	for i := range 10 {
		ms.mysql(fmt.Sprintf("db-%02d", i), "", "pw")
	}
	manifests := ms.load(t)
	manifests[0].Auth.SpecName = "No Such Authentication"
	cfg := env.config()
	cfg.FailFast = true
	cfg.Parallelism = 1
	_, r, err := env.run(t, cfg, manifests)
	if err == nil {
		t.Fatal("apply with a failing create succeeded")
	}
	counts := make(map[Status]int)
	for _, res := range r.Results {
		counts[res.Status]++
	}
	if counts[StatusFailed] != 1 || counts[StatusNotStarted] != 9 {
		t.Errorf("statuses = %v, want 1 failed and 9 not started", counts)
	}
}

// assertNoCanary checks every output of a run for the secretCanary secret.
func assertNoCanary(t *testing.T, env *testEnv, p *Plan, r *Report) {
	t.Helper()
	outputs := map[string]string{
		"logs":      env.logs.String(),
		"plan":      fmt.Sprintf("%+v %#v", p, p.Actions),
		"report":    fmt.Sprintf("%+v %#v", r, r.Results),
		"lock file": string(must(os.ReadFile(env.lockPath))),
	}
	for what, text := range outputs {
		if strings.Contains(text, secretCanary) {
			t.Errorf("%s contain the secretCanary secret", what)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestLockWriteFailureIsReported(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)

	// Once the planned creates are recorded, a folder takes the lock
	// file's place, so that no later write can replace it.
	var once sync.Once
	cfg := env.config()
	cfg.OnEvent = func(ev Event) {
		once.Do(func() {
			if err := os.Remove(env.lockPath); err != nil {
				t.Error(err)
			}
			if err := os.Mkdir(env.lockPath, 0o755); err != nil {
				t.Error(err)
			}
		})
	}
	_, r, err := env.run(t, cfg, manifests)
	if r == nil || r.LockErr == nil {
		t.Fatalf("report = %+v, want one with LockErr", r)
	}
	if err == nil || !strings.Contains(err.Error(), "update lock file") {
		t.Errorf("apply error = %v, want it to include the lock file's write error", err)
	}
	if err := r.Err(); err != nil {
		t.Errorf("report.Err() = %v, want nil: every action succeeded", err)
	}

	// The next run finds the connections by name.
	if err := os.Remove(env.lockPath); err != nil {
		t.Fatal(err)
	}
	p, _ := env.mustApply(t, env.config(), manifests)
	assertKinds(t, p, "billing:adopt", "inventory:adopt", "orders:adopt")
	env.assertConverged(t, manifests)
}

func TestPlanAppliesOnlyOnce(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	ctx := context.Background()
	s, err := Open(ctx, env.config())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Plan(ctx, ms.load(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, p, nil); err == nil || !strings.Contains(err.Error(), "plan again") {
		t.Errorf("second Apply of one plan: error = %v, want one asking to plan again", err)
	}
	if got := len(env.remote(t)); got != 3 {
		t.Errorf("sandbox holds %d connections, want 3", got)
	}

	// A new plan of the same session sees what the first apply did.
	p, err = s.Plan(ctx, ms.load(t))
	if err != nil {
		t.Fatal(err)
	}
	assertKinds(t, p, "billing:no-change", "inventory:no-change", "orders:no-change")
}

func TestFailedReplaceKeepsOldConnection(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	lockBefore := string(must(os.ReadFile(env.lockPath)))
	oldID := env.readLock(t).Entries["orders"].ID

	// A version the service does not know makes the replace's create fail
	// with 400. The loader rejects it, so it is set after loading.
	mysqlDoc := ms.docs["orders.yaml"]
	ms.withSpec("orders", mariadbSpecID)
	manifests := ms.load(t)
	manifests[0].ConnectionSpec.Version = "2.0"
	cfg := env.config()
	cfg.AllowReplace = true
	_, r, err := env.run(t, cfg, manifests)
	if err == nil || !strings.Contains(err.Error(), "1413-400") {
		t.Fatalf("replace with an unknown spec version: error = %v, want the 400 of the create", err)
	}
	if r.Results[0].Status != StatusFailed {
		t.Errorf("status = %s, want failed", r.Results[0].Status)
	}
	if got := string(must(os.ReadFile(env.lockPath))); got != lockBefore {
		t.Errorf("lock file after the failed replace:\n%s\nwant it as before:\n%s", got, lockBefore)
	}

	// Back to the original manifest, without flags: nothing to do.
	ms.docs["orders.yaml"] = mysqlDoc
	env.writes.Store(0)
	p, _ := env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "orders:no-change")
	if n := env.writes.Load(); n != 0 {
		t.Errorf("run after the failed replace sent %d write requests, want 0", n)
	}
	if _, err := env.client.GetConnection(context.Background(), oldID); err != nil {
		t.Errorf("old connection after the failed replace: %v, want it kept", err)
	}
}

func TestPendingReplaceWithoutNewConnection(t *testing.T) {
	tests := []struct {
		name         string
		spec         string // connection spec of the manifest in the second run
		allowReplace bool
		want         string
		keepsOld     bool
	}{
		{"manifest back at the old spec", mysqlSpecID, false, "orders:no-change", true},
		{"spec still changed, without allow-replace", mariadbSpecID, false, "orders:replace(skipped)", true},
		{"spec still changed, with allow-replace", mariadbSpecID, true, "orders:replace", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, emulator.Options{})
			ms := newManifestSet(env.dir)
			ms.mysql("orders", "", "pw")
			env.mustApply(t, env.config(), ms.load(t))
			oldID := env.readLock(t).Entries["orders"].ID

			// Recreate the lock file of a run killed after recording the
			// replace's intent, before its create took effect.
			l := env.readLock(t)
			l.Entries["orders"] = &lockEntry{Name: "orders", ConnectionSpec: specRef{ID: mariadbSpecID, Version: "1.0"},
				AuthSpecName: "Basic Authentication", Pending: true, Replaces: oldID}
			if err := writeFileAtomic(env.lockPath, l.encode(), 0o644); err != nil {
				t.Fatal(err)
			}

			ms.withSpec("orders", tt.spec)
			manifests := ms.load(t)
			cfg := env.config()
			cfg.AllowReplace = tt.allowReplace
			p, _ := env.mustApply(t, cfg, manifests)
			assertKinds(t, p, tt.want)
			_, err := env.client.GetConnection(context.Background(), oldID)
			if tt.keepsOld && err != nil {
				t.Errorf("old connection: %v, want it kept", err)
			}
			if !tt.keepsOld && !errors.Is(err, flowservice.ErrNotFound) {
				t.Errorf("old connection: %v, want it deleted", err)
			}
			e := env.readLock(t).Entries["orders"]
			switch {
			case !tt.keepsOld:
			case tt.spec == mysqlSpecID && (e.ID != oldID || e.Pending || e.Replaces != ""):
				t.Errorf("entry = %+v, want the old connection %s recorded", e, oldID)
			case tt.spec == mariadbSpecID && (!e.Pending || e.Replaces != oldID):
				t.Errorf("entry = %+v, want the skipped replace left pending", e)
			}
			if !tt.keepsOld {
				env.assertConverged(t, manifests)
			}
		})
	}
}

func TestInterruptedReplaceThenManifestReverted(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	mysqlManifests := ms.load(t)
	env.mustApply(t, env.config(), mysqlManifests)
	oldID := env.readLock(t).Entries["orders"].ID

	// A replace to MariaDB that created the new connection, recorded it,
	// and was killed before deleting the old one.
	ms.withSpec("orders", mariadbSpecID)
	ref, err := env.client.CreateConnection(context.Background(), connectionInput(ms.load(t)[0]))
	if err != nil {
		t.Fatal(err)
	}
	l := env.readLock(t)
	l.Entries["orders"] = &lockEntry{Name: "orders", ID: ref.ID, ConnectionSpec: specRef{ID: mariadbSpecID, Version: "1.0"},
		AuthSpecName: "Basic Authentication", Replaces: oldID}
	if err := writeFileAtomic(env.lockPath, l.encode(), 0o644); err != nil {
		t.Fatal(err)
	}

	// The manifest goes back to MySQL: without --allow-replace nothing is
	// deleted.
	env.writes.Store(0)
	p, _ := env.mustApply(t, env.config(), mysqlManifests)
	assertKinds(t, p, "orders:replace(skipped)")
	if a := action(t, p, "orders"); a.ID != oldID || a.OldID != ref.ID {
		t.Errorf("action = %+v, want it to keep %s and delete %s", a, oldID, ref.ID)
	}
	if n := env.writes.Load(); n != 0 {
		t.Errorf("skipped plan sent %d write requests, want 0", n)
	}

	cfg := env.config()
	cfg.AllowReplace = true
	p, _ = env.mustApply(t, cfg, mysqlManifests)
	assertKinds(t, p, "orders:replace")
	env.assertConverged(t, mysqlManifests)
	if e := env.readLock(t).Entries["orders"]; e.ID != oldID || e.Replaces != "" {
		t.Errorf("entry = %+v, want the old connection %s recorded", e, oldID)
	}
	if _, err := env.client.GetConnection(context.Background(), ref.ID); !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("connection of the interrupted replace: %v, want it deleted", err)
	}
}

// TestRejectedShortPortShowsServerMessage has the service reject a create
// and an update whose port, "443", is shorter than the client can search
// for in a message. The port is not secret, so the server's message still
// reaches the error, while the password stays out of it.
func TestRejectedShortPortShowsServerMessage(t *testing.T) {
	const detail = "invalid auth params: port 443 is not open for ingestion"
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			env := newTestEnv(t, emulator.Options{})
			ms := newManifestSet(env.dir)
			ms.mysql("orders", "Orders", secretCanary)
			if method == http.MethodPatch {
				env.mustApply(t, env.config(), ms.load(t))
			}
			ms.docs["orders.yaml"] = strings.Replace(ms.docs["orders.yaml"], `port: "3306"`, `port: "443"`, 1)

			reject := func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != method {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"type":"https://ns.adobe.com/aep/errors/FLOW-1455-400","title":"Bad Request","detail":%q}`, detail)
				return true
			}
			env.serve.Store(&reject)
			p, r, err := env.run(t, env.config(), ms.load(t))
			if err == nil {
				t.Fatal("apply succeeded, want the rejected request's error")
			}
			if !strings.Contains(err.Error(), detail) {
				t.Errorf("error = %v, want the server's message %q", err, detail)
			}
			if strings.Contains(err.Error(), "withheld") {
				t.Errorf("error = %v, want the message kept: the short value is not secret", err)
			}
			assertNoCanary(t, env, p, r)
		})
	}
}
