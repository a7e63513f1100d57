package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// Canaries planted as the lock key and the client's credentials. No
// printed form may show them.
const (
	keyCanary    = "KEYCANARY-7c1e0b"
	tokenCanary  = "TOKENCANARY-51d2aa"
	apiKeyCanary = "APIKEYCANARY-90ff3e"
)

func TestLockKeyNeverPrinted(t *testing.T) {
	client, err := flowservice.New(flowservice.Config{
		Endpoint: "http://127.0.0.1:1",
		APIKey:   apiKeyCanary,
		OrgID:    testOrg,
		Token:    flowservice.StaticToken(tokenCanary),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Client:   client,
		Target:   Target{Endpoint: "http://127.0.0.1:1", OrgID: testOrg},
		LockPath: filepath.Join(t.TempDir(), "apply.lock.json"),
		LockKey:  []byte(keyCanary),
		DryRun:   true,
		OnEvent:  func(Event) {},
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Plan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}

	values := map[string]any{
		"Config":   cfg,
		"*Config":  &cfg,
		"LockKey":  cfg.LockKey,
		"*Session": s,
		"Session":  *s,
		"*Plan":    p,
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			if containsKey(out) {
				t.Errorf("fmt %s of %s shows the lock key: %s", verb, name, out)
			}
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("value", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("value", "v", v)
		for handler, out := range map[string]string{"text": text.String(), "JSON": js.String()} {
			if containsKey(out) {
				t.Errorf("slog %s handler shows the lock key of %s: %s", handler, name, out)
			}
		}
	}
	data, err := json.Marshal(struct{ Key LockKey }{cfg.LockKey})
	if err != nil {
		t.Fatal(err)
	}
	if containsKey(string(data)) {
		t.Errorf("JSON shows the lock key: %s", data)
	}
	if got := fmt.Sprint(LockKey(nil)); got != "(none)" {
		t.Errorf("empty LockKey prints as %q, want (none)", got)
	}
}

// containsKey reports whether out shows a canary as text, as hex or as
// the decimal bytes that %v prints for a []byte.
func containsKey(out string) bool {
	lower := strings.ToLower(out)
	for _, canary := range []string{keyCanary, tokenCanary, apiKeyCanary} {
		if strings.Contains(out, canary) ||
			strings.Contains(lower, fmt.Sprintf("%x", canary)) ||
			strings.Contains(out, strings.Trim(fmt.Sprint([]byte(canary)), "[]")) {
			return true
		}
	}
	return false
}
