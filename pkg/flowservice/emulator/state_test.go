package emulator_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

func TestStatePersistsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")

	first, err := emulator.New(emulator.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, first)
	id, _ := create(t, srv, mysqlBody("orders"))
	gone, _ := create(t, srv, mysqlBody("deleted"))
	if res := do(t, srv, "DELETE", base+"/connections/"+gone, nil, nil); res.status != 204 {
		t.Fatalf("delete: %d", res.status)
	}
	before := getItem(t, srv, id)
	srv.Close()
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("state file mode = %v, want 0600", mode)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}

	second, err := emulator.New(emulator.Options{StatePath: path})
	if err != nil {
		t.Fatalf("New on the saved state: %v", err)
	}
	t.Cleanup(func() { second.Close() })
	srv = serve(t, second)
	after := getItem(t, srv, id)
	for _, key := range []string{"id", "name", "etag", "createdAt", "updatedAt", "auth"} {
		if !equalJSON(before[key], after[key]) {
			t.Errorf("%s = %v after restart, want %v", key, after[key], before[key])
		}
	}
	if res := do(t, srv, "GET", base+"/connections/"+gone, nil, nil); res.status != 404 {
		t.Errorf("deleted connection after restart: status %d, want 404", res.status)
	}
}

func TestStateFileIsWrittenOnEveryChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	_, srv := start(t, emulator.Options{StatePath: path})
	id, _ := create(t, srv, mysqlBody("orders"))
	// Read the file while the emulator runs: the create must be on disk
	// before its response was sent.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), id) {
		t.Errorf("state file lacks the new connection %s", id)
	}
}

func TestStateFileIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	start(t, emulator.Options{StatePath: path})
	if _, err := emulator.New(emulator.Options{StatePath: path}); err == nil {
		t.Error("second emulator on the same state file: no error")
	}
}

func TestStateFileRejectsBadContent(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"not JSON", "{"},
		{"unknown version", `{"version": 99, "connections": []}`},
		{"connection without id", `{"version": 1, "connections": [{"imsOrgId": "o", "sandboxName": "prod"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if e, err := emulator.New(emulator.Options{StatePath: path}); err == nil {
				e.Close()
				t.Error("New: no error")
			}
		})
	}
}
