package spec

import (
	"testing"
)

func loadOne(t *testing.T, path string, env map[string]string) *Manifest {
	t.Helper()
	res, err := Load([]string{path}, LoadOptions{LookupEnv: lookupIn(env)})
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if len(res.Manifests) != 1 {
		t.Fatalf("Load(%s) returned %d manifests, want 1", path, len(res.Manifests))
	}
	return res.Manifests[0]
}

// digestGolden pins the digest of testdata/digest/block.yaml, so that a
// change to the canonical form shows up here and comes with a new
// digestFormat. It is the SHA-256 of this JSON, computed outside Go:
//
//	{"format":"apply.manifest.v1","kind":"Connection","name":"orders","description":"Orders database","connectionSpec":{"id":"26d738e0-8963-47ea-aadf-c60de735468a","version":"1.0"},"authSpecName":"Basic Authentication","params":{"database":"orders","password":{"sensitive":true},"port":"3306","server":"db.example.internal","username":"ingest"}}
const digestGolden = "3493b7d6ca90ecab4a9001368da2b44d31574b77cb27f08e6e16bc6f7696a117"

func TestDigestStableAcrossFormatting(t *testing.T) {
	env := map[string]string{"ORDERS_PASSWORD": "pw"}
	block := loadOne(t, "testdata/digest/block.yaml", env)
	flow := loadOne(t, "testdata/digest/flow.yaml", env)
	if block.Digest() != flow.Digest() {
		t.Errorf("block and flow styles digest differently: %s != %s", block.Digest(), flow.Digest())
	}
	if got := block.Digest(); got != digestGolden {
		t.Errorf("Digest() = %s, want %s", got, digestGolden)
	}
}

func TestDigestChanges(t *testing.T) {
	env := map[string]string{"ORDERS_PASSWORD": "pw"}
	base := loadOne(t, "testdata/digest/block.yaml", env).Digest()
	tests := []struct {
		name    string
		edit    func(m *Manifest)
		changed bool
	}{
		{"name", func(m *Manifest) { m.Name = "orders-2" }, true},
		{"description", func(m *Manifest) { m.Description = "Orders" }, true},
		{"description absent", func(m *Manifest) { m.Description, m.HasDescription = "", false }, true},
		{"empty description present", func(m *Manifest) { m.Description = "" }, true},
		{"spec version", func(m *Manifest) { m.ConnectionSpec.Version = "1.1" }, true},
		{"spec id", func(m *Manifest) { m.ConnectionSpec.ID = "74a1c565-4e59-48d7-9d67-7c03b8a13137" }, true},
		{"auth spec name", func(m *Manifest) { m.Auth.SpecName = "Connection String Based Authentication" }, true},
		{"plain param", func(m *Manifest) { m.Auth.Params["port"] = PlainValue("03306") }, true},
		{"param removed", func(m *Manifest) { delete(m.Auth.Params, "port") }, true},
		{"param made sensitive", func(m *Manifest) { m.Auth.Params["server"] = m.Auth.Params["server"].markSensitive("") }, true},
		{"secret value", func(m *Manifest) { m.Auth.Params["password"] = SensitiveValue(NewSecret("ORDERS_PASSWORD", "other")) }, false},
		{"secret unresolved", func(m *Manifest) { m.Auth.Params["password"] = UnresolvedValue("ORDERS_PASSWORD") }, false},
		{"renamedFrom", func(m *Manifest) { m.RenamedFrom = "old-orders" }, false},
		{"positions", func(m *Manifest) { m.Pos.Line = 99; m.Fields = nil }, false},
		{"auth checked", func(m *Manifest) { m.AuthChecked = false }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loadOne(t, "testdata/digest/block.yaml", env)
			tt.edit(m)
			if changed := m.Digest() != base; changed != tt.changed {
				t.Errorf("after editing %s, digest changed = %v, want %v", tt.name, changed, tt.changed)
			}
		})
	}
}

func TestSecretHMAC(t *testing.T) {
	key := []byte("lock-file-key")
	m := loadOne(t, "testdata/digest/block.yaml", map[string]string{"ORDERS_PASSWORD": "pw"})
	same := loadOne(t, "testdata/digest/flow.yaml", map[string]string{"ORDERS_PASSWORD": "pw"})
	other := loadOne(t, "testdata/digest/block.yaml", map[string]string{"ORDERS_PASSWORD": "pw2"})

	h := m.SecretHMAC(key)
	if len(h) != 64 {
		t.Fatalf("SecretHMAC = %q, want 64 hex digits", h)
	}
	if got := same.SecretHMAC(key); got != h {
		t.Errorf("same secret, other formatting: %s != %s", got, h)
	}
	if got := other.SecretHMAC(key); got == h {
		t.Errorf("another secret gives the same HMAC")
	}
	if got := m.SecretHMAC([]byte("another-key")); got == h {
		t.Errorf("another key gives the same HMAC")
	}
	if got := m.SecretHMAC(nil); got != "" {
		t.Errorf("SecretHMAC(nil key) = %q, want empty", got)
	}

	plain := &Manifest{Auth: Auth{Params: map[string]Value{"server": PlainValue("db")}}}
	if got := plain.SecretHMAC(key); got != "" {
		t.Errorf("SecretHMAC without sensitive params = %q, want empty", got)
	}
	unresolved := &Manifest{Auth: Auth{Params: map[string]Value{
		"password": UnresolvedValue("PW"),
		"token":    SensitiveValue(NewSecret("T", "t")),
	}}}
	if got := unresolved.SecretHMAC(key); got != "" {
		t.Errorf("SecretHMAC with an unresolved value = %q, want empty", got)
	}

	// Names and values are framed, so moving a character across the
	// boundary changes the HMAC.
	ab := &Manifest{Auth: Auth{Params: map[string]Value{"a": SensitiveValue(NewSecret("", "bc"))}}}
	abc := &Manifest{Auth: Auth{Params: map[string]Value{"ab": SensitiveValue(NewSecret("", "c"))}}}
	if ab.SecretHMAC(key) == abc.SecretHMAC(key) {
		t.Errorf("a=bc and ab=c give the same HMAC")
	}
}
