package apply

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// createUnmanaged creates a connection that the test's lock file does not
// record, by applying ms with a lock file of its own, and returns its id.
func (env *testEnv) createUnmanaged(t *testing.T, ms *manifestSet, name string) string {
	t.Helper()
	cfg := env.config()
	cfg.LockPath = filepath.Join(t.TempDir(), "other.lock.json")
	env.mustApply(t, cfg, ms.load(t))
	for _, c := range env.remote(t) {
		if c.Name == name {
			return c.ID
		}
	}
	t.Fatalf("no remote connection named %q after apply", name)
	return ""
}

func TestPlanWarnsOfNameClash(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	other := newManifestSet(env.dir)
	other.mysql("c9", "", "pw")
	other.withSpec("c9", mariadbSpecID)
	otherID := env.createUnmanaged(t, other, "c9")

	ms := newManifestSet(env.dir)
	ms.mysql("c9", "", "pw")
	p := env.dryRun(t, ms, nil)
	assertKinds(t, p, "c9:create")
	w := action(t, p, "c9").Warning
	for _, want := range []string{`a connection named "c9" already exists`, mariadbSpecID + " (maria-db)", "id " + otherID, "creates a second one"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q does not contain %q", w, want)
		}
	}
}

func TestPlanWarnsOfRenameOntoUsedName(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	other := newManifestSet(env.dir)
	other.mysql("orders-eu", "", "pw")
	otherID := env.createUnmanaged(t, other, "orders-eu")

	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	ms.remove("orders")
	ms.mysql("orders-eu", "", "pw", "renamedFrom: orders")
	p := env.dryRun(t, ms, nil)
	assertKinds(t, p, "orders-eu:rename")
	w := action(t, p, "orders-eu").Warning
	for _, want := range []string{`a connection named "orders-eu" already exists`, "id " + otherID, "rename"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q does not contain %q", w, want)
		}
	}
}

func TestPlanNoWarningWithoutClash(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	ms.mysql("sales", "", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	ms.remove("orders")
	ms.mysql("orders-eu", "", "pw", "renamedFrom: orders")
	ms.mysql("billing", "", "pw")
	p := env.dryRun(t, ms, nil)
	for _, a := range p.Actions {
		if a.Warning != "" {
			t.Errorf("%s %s: unexpected warning %q", a.Kind, a.Name, a.Warning)
		}
	}
}

func TestPlanWarnsOfUnmatchedRenamedFrom(t *testing.T) {
	tests := []struct {
		name    string
		refresh bool
		want    string
	}{
		{"online", true, `renamedFrom "newer-nme" matches no lock entry and no remote connection; this plans a create, not a rename`},
		{"offline", false, `renamedFrom "newer-nme" matches no lock entry; this plans a create, not a rename`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, emulator.Options{})
			ms := newManifestSet(env.dir)
			ms.mysql("newer-name", "", "pw")
			env.mustApply(t, env.config(), ms.load(t))
			ms.remove("newer-name")
			ms.mysql("newest-name", "", "pw", "renamedFrom: newer-nme")
			p := env.dryRun(t, ms, func(c *Config) { c.Refresh = tt.refresh })
			if got := action(t, p, "newest-name").Warning; got != tt.want {
				t.Errorf("warning = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestActionWarningInOutputs(t *testing.T) {
	// The long note makes the compact Markdown leave out the details.
	p := &Plan{Refreshed: true, Actions: []Action{{
		Kind: Create, Name: "c9", Note: strings.Repeat("n", 2000),
		Warning: "a connection named \"c9\" already exists",
	}}}
	var text, js strings.Builder
	if err := WriteText(&text, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, p, JSONOptions{}); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"text":     text.String(),
		"json":     js.String(),
		"markdown": RenderMarkdown(p, MarkdownOptions{}),
		"compact":  RenderMarkdown(p, MarkdownOptions{MaxSize: 1000}),
	}
	wants := map[string]string{
		"text":     `warning: a connection named "c9" already exists`,
		"json":     `"warning": "a connection named \"c9\" already exists"`,
		"markdown": `warning: a connection named "c9" already exists`,
		"compact":  `warning: a connection named "c9" already exists`,
	}
	for form, out := range outputs {
		if !strings.Contains(out, wants[form]) {
			t.Errorf("%s output lacks %q:\n%s", form, wants[form], out)
		}
	}
}

func TestConcurrentChangeIsReported(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "first", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	id := env.readLock(t).Entries["orders"].ID

	ms.mysql("orders", "wanted", "pw")
	ctx := context.Background()
	var mu sync.Mutex
	var notices []string
	cfg := env.config()
	cfg.OnEvent = func(ev Event) {
		if ev.Kind == EventNotice {
			mu.Lock()
			notices = append(notices, ev.Message)
			mu.Unlock()
		}
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Plan(ctx, ms.load(t))
	if err != nil {
		t.Fatal(err)
	}

	// Someone else changes the description and a param after the plan.
	conn, err := env.client.GetConnection(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.client.PatchConnection(ctx, id, conn.Etag, []flowservice.PatchOp{
		{Op: "replace", Path: "/description", Value: "changed by hand"},
		{Op: "replace", Path: "/auth/params/server", Value: "other.example.internal"},
	})
	if err != nil {
		t.Fatal(err)
	}

	r, err := s.Apply(ctx, p, nil)
	if err != nil {
		t.Fatalf("Apply after a concurrent change: %v", err)
	}
	const want = "connection changed since the plan (description, auth.params.server); patched again to match the manifest"
	if got := r.Results[0].Note; !strings.Contains(got, want) {
		t.Errorf("result note = %q, want it to contain %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) != 1 || !strings.Contains(notices[0], "orders (id "+id+"): "+want) {
		t.Errorf("notices = %q, want one about orders containing %q", notices, want)
	}

	var text, js strings.Builder
	if err := WriteText(&text, p, TextOptions{Report: r}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, p, JSONOptions{Report: r}); err != nil {
		t.Fatal(err)
	}
	md := RenderMarkdown(p, MarkdownOptions{Report: r})
	for form, out := range map[string]string{"text": text.String(), "json": js.String(), "markdown": md} {
		if !strings.Contains(out, want) {
			t.Errorf("%s output lacks the note:\n%s", form, out)
		}
	}
}

func TestNoNoteWithoutConcurrentChange(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "first", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	ms.mysql("orders", "wanted", "pw")
	_, r := env.mustApply(t, env.config(), ms.load(t))
	if got := r.Results[0].Note; got != "" {
		t.Errorf("result note = %q, want none", got)
	}
}

func TestTextResultOfSkippedApply(t *testing.T) {
	p := &Plan{Refreshed: true, Actions: []Action{{Kind: Delete, Name: "legacy", ID: "9a0c", Skipped: "its manifest is gone: run with --prune to delete the connection"}}}
	r := &Report{Plan: p, Results: []Result{{Action: p.Actions[0], Status: StatusSkipped, ID: "9a0c"}}}
	var text strings.Builder
	if err := WriteText(&text, p, TextOptions{Report: r}); err != nil {
		t.Fatal(err)
	}
	const want = "Apply complete: 0 created, 0 updated, 0 deleted, 1 skipped\n"
	if !strings.HasSuffix(text.String(), want) {
		t.Errorf("text output does not end with %q:\n%s", want, text.String())
	}
	if md := RenderMarkdown(p, MarkdownOptions{Report: r}); !strings.Contains(md, strings.TrimSuffix(want, "\n")) {
		t.Errorf("markdown output lacks %q:\n%s", want, md)
	}
}

func TestPlanShowsRemovedDescription(t *testing.T) {
	tests := []struct {
		name     string
		manifest string // description line of the manifest, or none
		want     FieldChange
		line     string
	}{
		{"field removed", "", FieldChange{Path: "description", Before: "d", Removed: true}, `description: "d" → (removed)`},
		{"set empty", `description: ""`, FieldChange{Path: "description", Before: "d"}, `description: "d" → ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, emulator.Options{})
			ms := newManifestSet(env.dir)
			ms.mysql("orders", "d", "pw")
			env.mustApply(t, env.config(), ms.load(t))
			var extra []string
			if tt.manifest != "" {
				extra = append(extra, tt.manifest)
			}
			ms.mysql("orders", "", "pw", extra...)
			p := env.dryRun(t, ms, nil)
			changes := action(t, p, "orders").Changes
			if len(changes) != 1 || changes[0] != tt.want {
				t.Fatalf("changes = %+v, want [%+v]", changes, tt.want)
			}
			if got := describeChange(changes[0]); got != tt.line {
				t.Errorf("change reads %q, want %q", got, tt.line)
			}
		})
	}
}

func TestOfflineUnsetSecretOutcome(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := newManifestSet(env.dir)
	ms.mysql("orders", "", "pw")
	env.mustApply(t, env.config(), ms.load(t))
	delete(ms.env, "PW_ORDERS")
	ms.allowUnresolved = true
	p := env.dryRun(t, ms, func(c *Config) { c.Refresh = false })
	assertKinds(t, p, "orders:no-change")
	const want = "Nothing will change in this run: 1 connection with unset variables in sensitive params, whose changes are unknown."
	if got := outcomeLine(p, CountActions(p)); got != want {
		t.Errorf("outcome line = %q, want %q", got, want)
	}
}

func TestDeleteBannerNamesRejectedDelete(t *testing.T) {
	p := &Plan{Refreshed: true, Actions: []Action{
		{Kind: Delete, Name: "legacy", ID: "9a0c"},
		{Kind: Replace, Name: "orders", ID: "1b2c", OldID: "3d4e"},
	}}
	md := RenderMarkdown(p, MarkdownOptions{})
	if strings.Contains(md, "stop working") {
		t.Errorf("banner says dataflows stop working, but the service rejects the delete:\n%s", md)
	}
	for _, want := range []string{"rejects deleting a connection that a dataflow uses (error 1418-400)", "rejects deleting the old connection while a dataflow uses it"} {
		if !strings.Contains(md, want) {
			t.Errorf("banner lacks %q:\n%s", want, md)
		}
	}
}
