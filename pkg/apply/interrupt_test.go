package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

func manyManifests(env *testEnv, n int) *manifestSet {
	ms := newManifestSet(env.dir)
	for i := range n {
		ms.mysql(fmt.Sprintf("db-%03d", i), "", "pw")
	}
	return ms
}

func TestStopFinishesRunningActions(t *testing.T) {
	env := newTestEnv(t, emulator.Options{Latency: 30 * time.Millisecond})
	ms := manyManifests(env, 12)
	manifests := ms.load(t)

	stop := make(chan struct{})
	var once sync.Once
	cfg := env.config()
	cfg.Parallelism = 2
	cfg.OnEvent = func(ev Event) {
		if ev.Kind == EventFinished {
			once.Do(func() { close(stop) })
		}
	}

	ctx := context.Background()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(ctx, manifests)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Apply(ctx, p, stop)
	s.Close()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Apply after stop: error = %v, want ErrInterrupted", err)
	}
	if !r.Interrupted {
		t.Error("report does not say it was interrupted")
	}
	counts := make(map[Status]int)
	for _, res := range r.Results {
		counts[res.Status]++
	}
	// The action that finished first and the one running beside it
	// complete, and nothing else starts.
	want := map[Status]int{StatusApplied: 2, StatusNotStarted: 10}
	if counts[StatusApplied] != want[StatusApplied] || counts[StatusNotStarted] != want[StatusNotStarted] {
		t.Errorf("statuses = %v, want %v", counts, want)
	}
	if got := len(env.remote(t)); got != 2 {
		t.Errorf("sandbox holds %d connections, want the 2 finished ones", got)
	}

	l := env.readLock(t)
	for _, res := range r.Results {
		e := l.Entries[res.Action.Name]
		switch res.Status {
		case StatusApplied:
			if e == nil || e.ID != res.ID {
				t.Errorf("lock entry of finished %s = %+v, want id %s", res.Action.Name, e, res.ID)
			}
		case StatusNotStarted:
			// Its create was never sent, so its pending entry is dropped.
			if e != nil {
				t.Errorf("lock entry of unstarted %s = %+v, want none", res.Action.Name, e)
			}
		}
	}

	env.mustApply(t, env.config(), manifests)
	env.assertConverged(t, manifests)
}

func TestCancelAbortsRequestsInFlight(t *testing.T) {
	env := newTestEnv(t, emulator.Options{})
	ms := manyManifests(env, 8)
	manifests := ms.load(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	var mu sync.Mutex
	started := 0
	cfg := env.config()
	cfg.Parallelism = 4
	cfg.OnEvent = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Kind == EventStarted {
			started++
			if started == 4 {
				// First interrupt, then a second one while the
				// requests are still waiting for the service.
				close(stop)
				time.AfterFunc(20*time.Millisecond, cancel)
			}
		}
	}

	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(context.Background(), manifests)
	if err != nil {
		t.Fatal(err)
	}
	env.delay.Store(int64(time.Second))
	begin := time.Now()
	r, err := s.Apply(ctx, p, stop)
	elapsed := time.Since(begin)
	s.Close()
	env.delay.Store(0)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Apply after cancel: error = %v, want ErrInterrupted", err)
	}
	if elapsed > 700*time.Millisecond {
		t.Errorf("Apply took %v after cancel, want the requests in flight cancelled", elapsed)
	}
	counts := make(map[Status]int)
	for _, res := range r.Results {
		counts[res.Status]++
	}
	if counts[StatusFailed] != 4 || counts[StatusNotStarted] != 4 {
		t.Errorf("statuses = %v, want 4 failed and 4 not started", counts)
	}
	l := env.readLock(t)
	for _, res := range r.Results {
		e := l.Entries[res.Action.Name]
		switch {
		case res.Status == StatusFailed && (e == nil || !e.Pending):
			t.Errorf("entry of cancelled %s = %+v, want it pending", res.Action.Name, e)
		case res.Status == StatusNotStarted && e != nil:
			t.Errorf("entry of unstarted %s = %+v, want none", res.Action.Name, e)
		}
	}

	env.waitIdle(t)
	env.mustApply(t, env.config(), manifests)
	env.assertConverged(t, manifests)
}
