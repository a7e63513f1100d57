package apply

import (
	"os"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
	"github.com/apply-cli/apply/pkg/spec"
)

func TestSecretHMACSaltedPerEntry(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("billing", "", "shared-pw")
	ms.mysql("orders", "", "shared-pw")
	manifests := ms.load(t)
	env.mustApply(t, env.config(), manifests)

	l := env.readLock(t)
	billing, orders := l.Entries["billing"], l.Entries["orders"]
	if billing.SecretSalt == "" || orders.SecretSalt == "" {
		t.Fatalf("entries have salts %q and %q, want both set", billing.SecretSalt, orders.SecretSalt)
	}
	if billing.SecretSalt == orders.SecretSalt {
		t.Errorf("two entries share the salt %q", billing.SecretSalt)
	}
	if billing.SecretHMAC == orders.SecretHMAC {
		t.Error("two connections with the same password have the same secretHmac, which reveals the reuse")
	}
	for _, m := range manifests {
		if unsalted := m.SecretHMAC([]byte("test lock key")); unsalted == l.Entries[m.Name].SecretHMAC {
			t.Errorf("entry %q records the HMAC keyed with the lock key itself", m.Name)
		}
	}

	// A changed password is still detected, and the salt stays.
	ms.mysql("orders", "", "rotated-pw")
	p, _ := env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "orders:update", "billing:no-change")
	after := env.readLock(t).Entries["orders"]
	if after.SecretSalt != orders.SecretSalt {
		t.Errorf("salt after a password change = %q, want the entry's salt %q kept", after.SecretSalt, orders.SecretSalt)
	}
	if after.SecretHMAC == orders.SecretHMAC {
		t.Error("secretHmac did not change with the password")
	}
}

// writeLegacyLock rewrites every entry of the lock file as versions
// without salts wrote them: the HMAC keyed with the lock key itself.
func writeLegacyLock(t *testing.T, env *testEnv, manifests []*spec.Manifest) {
	t.Helper()
	l := env.readLock(t)
	for _, m := range manifests {
		e := l.Entries[m.Name]
		e.SecretSalt = ""
		e.SecretHMAC = m.SecretHMAC([]byte("test lock key"))
	}
	if err := writeFileAtomic(env.lockPath, l.encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUnsaltedHMACMigrated(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)
	env.mustApply(t, env.config(), manifests)
	writeLegacyLock(t, env, manifests)
	legacy := env.readLock(t)

	// Unchanged secrets: the entries get salts, and nothing is sent.
	env.writes.Store(0)
	p, _ := env.mustApply(t, env.config(), manifests)
	assertKinds(t, p, "billing:no-change", "inventory:no-change", "orders:no-change")
	if p.SecretsUndetectable {
		t.Error("plan says secret changes cannot be detected for unsalted HMACs made with the current key")
	}
	if n := env.writes.Load(); n != 0 {
		t.Errorf("migration sent %d write requests, want 0", n)
	}
	for name, e := range env.readLock(t).Entries {
		if e.SecretSalt == "" || e.SecretHMAC == legacy.Entries[name].SecretHMAC {
			t.Errorf("entry %q = %+v, want it salted", name, e)
		}
	}
	migrated := string(must(os.ReadFile(env.lockPath)))
	env.mustApply(t, env.config(), manifests)
	if got := string(must(os.ReadFile(env.lockPath))); got != migrated {
		t.Error("the run after the migration rewrote the lock file")
	}

	// A changed secret under an unsalted HMAC is detected.
	writeLegacyLock(t, env, manifests)
	ms.mysql("orders", "", "rotated-pw")
	p, _ = env.mustApply(t, env.config(), ms.load(t))
	assertKinds(t, p, "orders:update", "billing:no-change", "inventory:no-change")
}
