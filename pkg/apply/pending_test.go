package apply

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// writePendingLock records a pending entry for every manifest of ms, as a
// run that was killed after sending its creates leaves them.
func writePendingLock(t *testing.T, env *testEnv, ms *manifestSet, since time.Time) {
	t.Helper()
	l := newLockFile(Target{Endpoint: env.srv.URL, OrgID: testOrg, Sandbox: testSandbox})
	for _, m := range ms.load(t) {
		l.Entries[m.Name] = &lockEntry{
			Name:           m.Name,
			ConnectionSpec: specRef{ID: m.ConnectionSpec.ID, Version: m.ConnectionSpec.Version},
			AuthSpecName:   m.Auth.SpecName,
			Digest:         m.Digest(),
			Pending:        true,
			PendingSince:   pendingTime(since),
		}
	}
	if err := writeFileAtomic(env.lockPath, l.encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noticeRecorder collects the messages of EventNotice events.
type noticeRecorder struct {
	mu       sync.Mutex
	messages []string
}

func (n *noticeRecorder) event(ev Event) {
	if ev.Kind != EventNotice {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.messages = append(n.messages, ev.Message)
}

func (n *noticeRecorder) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.messages...)
}

func TestPendingCreateLandingLateIsAdopted(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)
	writePendingLock(t, env, ms, time.Now())

	// The killed run's creates reach the service only after the next run
	// has listed the connections once.
	landed := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		for _, m := range manifests {
			if _, err := env.client.CreateConnection(context.Background(), connectionInput(m)); err != nil {
				landed <- err
				return
			}
		}
		landed <- nil
	}()

	var notices noticeRecorder
	cfg := env.config()
	cfg.PendingGrace = time.Second
	cfg.OnEvent = notices.event
	p, _ := env.mustApply(t, cfg, manifests)
	if err := <-landed; err != nil {
		t.Fatalf("late create: %v", err)
	}
	assertKinds(t, p, "billing:adopt", "inventory:adopt", "orders:adopt")
	env.assertConverged(t, manifests)
	got := notices.all()
	if len(got) != 1 || !strings.Contains(got[0], "waiting") || !strings.Contains(got[0], "3 pending connections") {
		t.Errorf("notices = %q, want one about waiting for 3 pending connections", got)
	}
	// The run that left the entries pending may have ended normally, with
	// a create that failed, so the notice must not call it interrupted.
	if len(got) == 1 && !strings.Contains(got[0], "for the creates of an earlier run") {
		t.Errorf("notice = %q, want it to speak of an earlier run", got[0])
	}
}

func TestPendingEntryPastGraceIsCreated(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	manifests := ms.load(t)
	writePendingLock(t, env, ms, time.Now().Add(-time.Minute))

	var notices noticeRecorder
	cfg := env.config()
	cfg.PendingGrace = 30 * time.Second
	cfg.OnEvent = notices.event
	start := time.Now()
	p, _ := env.mustApply(t, cfg, manifests)
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("apply took %v, want no wait for entries older than the grace period", elapsed)
	}
	assertKinds(t, p, "billing:create", "inventory:create", "orders:create")
	env.assertConverged(t, manifests)
	if got := notices.all(); len(got) != 0 {
		t.Errorf("notices = %q, want none", got)
	}
}

func TestPendingWaitStopsOnCancel(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := threeManifests(env)
	writePendingLock(t, env, ms, time.Now())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := env.config()
	cfg.PendingGrace = time.Minute
	cfg.OnEvent = func(ev Event) {
		if ev.Kind == EventNotice {
			cancel()
		}
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	p, err := s.Plan(ctx, ms.load(t))
	if !errors.Is(err, context.Canceled) || p != nil {
		t.Errorf("Plan cancelled during the wait = %v, %v; want a nil plan and context.Canceled", p, err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Plan returned %v after the cancel, want at once", elapsed)
	}
	if n := env.writes.Load(); n != 0 {
		t.Errorf("sent %d write requests, want 0", n)
	}
}

func TestPendingWait(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		since   time.Time
		wait    time.Duration
		missing int
	}{
		{"just recorded", now, time.Minute, 1},
		{"half the grace period ago", now.Add(-30 * time.Second), 30 * time.Second, 1},
		{"older than the grace period", now.Add(-2 * time.Minute), 0, 0},
		{"in the future, from a skewed clock", now.Add(time.Hour), time.Minute, 1},
		{"written before pendingSince existed", time.Time{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Session{cfg: &Config{PendingGrace: time.Minute}, lockKey: func() []byte { return nil }, lock: newLockFile(Target{})}
			s.lock.Entries["orders"] = &lockEntry{Name: "orders", ConnectionSpec: specRef{ID: mysqlSpecID}, Pending: true, PendingSince: tt.since}
			rs := &remoteState{byName: nil}
			wait, missing := s.pendingWait(rs, now)
			if wait != tt.wait || missing != tt.missing {
				t.Errorf("pendingWait() = %v, %d; want %v, %d", wait, missing, tt.wait, tt.missing)
			}
		})
	}
}

func TestCreatedIDUnknown(t *testing.T) {
	tests := []struct {
		name     string
		listed   bool // whether name lookups find the new connections
		wantKind Status
	}{
		{"found by name", true, StatusApplied},
		{"not listed yet", false, StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, emulator.Options{})
			ms := threeManifests(env)
			manifests := ms.load(t)
			env.garbleCreates.Store(true)
			if !tt.listed {
				// As a listing that lags behind the create would.
				hide := func(r *http.Request) {
					if q := r.URL.Query(); r.Method == http.MethodGet && strings.Contains(q.Get("property"), "name==") {
						q.Set("property", `name=="not-listed-yet"`)
						r.URL.RawQuery = q.Encode()
					}
				}
				env.intercept.Store(&hide)
			}

			_, r, err := env.run(t, env.config(), manifests)
			if posts := env.emu.Stats().ByMethod["POST"]; posts != 3 {
				t.Errorf("sent %d creates, want 3: one per manifest, never resent", posts)
			}
			for _, res := range r.Results {
				if res.Status != tt.wantKind {
					t.Errorf("status of %s = %s, want %s", res.Action.Name, res.Status, tt.wantKind)
				}
			}
			if tt.listed {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				env.assertConverged(t, manifests)
				return
			}

			if err == nil || !strings.Contains(err.Error(), "the next run resolves it by name") {
				t.Errorf("apply error = %v, want one saying the next run resolves it", err)
			}
			for name, e := range env.readLock(t).Entries {
				if !e.Pending {
					t.Errorf("entry %q = %+v, want it pending", name, e)
				}
			}
			env.garbleCreates.Store(false)
			env.intercept.Store(nil)
			p, _ := env.mustApply(t, env.config(), manifests)
			assertKinds(t, p, "billing:adopt", "inventory:adopt", "orders:adopt")
			env.assertConverged(t, manifests)
		})
	}
}
