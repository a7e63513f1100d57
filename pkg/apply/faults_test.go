package apply

import (
	"fmt"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// TestFaultsCreateEachConnectionOnce runs against an emulator that fails
// a fifth of the requests before any effect and drops the response of a
// fifth of the successful writes after their effect. Every create whose
// outcome is unknown must be resolved by name, never sent twice.
func TestFaultsCreateEachConnectionOnce(t *testing.T) {
	env := newTestEnv(t, emulator.Options{Seed: 42, ErrorRate: 0.2, LostResponseRate: 0.2})
	ms := manyManifests(env, 60)
	manifests := ms.load(t)

	// A create may still fail after the client's retries, and the next run
	// must then finish the job.
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		_, _, err = env.run(t, env.config(), manifests)
		if err == nil {
			break
		}
		t.Logf("run %d: %v", attempt, err)
		env.waitIdle(t)
	}
	if err != nil {
		t.Fatalf("apply under faults did not complete in 3 runs: %v", err)
	}
	env.assertConverged(t, manifests)
	stats := env.emu.Stats()
	if stats.LostResponses == 0 || stats.InjectedErrors == 0 {
		t.Errorf("emulator stats %+v: want lost responses and injected errors, or the test proves nothing", stats)
	}

	// Updates under the same faults: a lost PATCH response makes the
	// client's replay meet 412, which must not fail the update.
	for i := range 60 {
		ms.mysql(fmt.Sprintf("db-%03d", i), "updated", "pw")
	}
	manifests = ms.load(t)
	for attempt := 1; attempt <= 3; attempt++ {
		_, _, err = env.run(t, env.config(), manifests)
		if err == nil {
			break
		}
		t.Logf("update run %d: %v", attempt, err)
		env.waitIdle(t)
	}
	if err != nil {
		t.Fatalf("updates under faults did not complete in 3 runs: %v", err)
	}
	env.assertConverged(t, manifests)
	for _, c := range env.remote(t) {
		if c.Description != "updated" {
			t.Errorf("connection %s description = %q, want updated", c.Name, c.Description)
		}
	}
}
