package apply

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
	"github.com/apply-cli/apply/pkg/spec"
)

// Environment of the crash test's child process, which is this test
// binary run again with crashChildEnv set.
const (
	crashChildEnv     = "APPLY_TEST_CRASH_CHILD"
	crashURLEnv       = "APPLY_TEST_CRASH_URL"
	crashLockEnv      = "APPLY_TEST_CRASH_LOCK"
	crashManifestsEnv = "APPLY_TEST_CRASH_MANIFESTS"
	crashPasswordEnv  = "APPLY_TEST_CRASH_PASSWORD"
	crashGraceEnv     = "APPLY_TEST_CRASH_GRACE"

	crashManifests = 200
	crashSeeds     = 20
)

// TestCrashChild is the child process of TestCrashRecovery: a normal
// apply run, which the parent kills with SIGKILL at a random moment. It
// prints "planned" once the plan is made, so that the parent can aim its
// kill at the apply.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Skip("runs only as the child process of TestCrashRecovery")
	}

	res, err := spec.Load([]string{os.Getenv(crashManifestsEnv)}, spec.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := flowservice.New(flowservice.Config{
		Endpoint:   os.Getenv(crashURLEnv),
		APIKey:     "apply-tests",
		OrgID:      testOrg,
		Sandbox:    testSandbox,
		Token:      flowservice.StaticToken("test-token"),
		MaxBackoff: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}

	grace, err := time.ParseDuration(os.Getenv(crashGraceEnv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, Config{
		Client:       client,
		Target:       Target{Endpoint: os.Getenv(crashURLEnv), OrgID: testOrg, Sandbox: testSandbox},
		LockPath:     os.Getenv(crashLockEnv),
		LockKey:      []byte("test lock key"),
		PendingGrace: grace,
		Refresh:      true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Plan(ctx, res.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("planned")
	if _, err := s.Apply(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
}

// TestCrashRecovery kills runs that apply 200 manifests with SIGKILL at
// random moments, for several seeds, one to three times in a row, and
// checks that a normal run afterwards leaves exactly one connection per
// manifest, recorded in the lock file. Some seeds change every manifest
// between kills, so that kills also land among updates.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 20 child processes; skipped with -short")
	}
	for seed := uint64(1); seed <= crashSeeds; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			crashAndRecover(t, seed)
		})
	}
}

func crashAndRecover(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	env := newTestEnv(t, emulator.Options{
		Seed:          int64(seed),
		Latency:       time.Millisecond,
		LatencyJitter: 4 * time.Millisecond,
	})
	versions := []string{
		writeCrashManifests(t, env.dir, "v1", crashManifests),
		writeCrashManifests(t, env.dir, "v2", crashManifests),
	}
	version := 0

	kills := 1 + rng.IntN(3)
	for range kills {
		if rng.IntN(3) == 0 {
			version = 1 - version
		}
		killChild(t, env, versions[version], rng, crashRun{killWithin: 500 * time.Millisecond, grace: testPendingGrace})
		env.waitIdle(t)
		logLockState(t, env)
	}

	res, err := spec.Load([]string{versions[version]}, spec.LoadOptions{
		LookupEnv: func(string) (string, bool) { return "crash-pw", true },
	})
	if err != nil {
		t.Fatal(err)
	}
	env.mustApply(t, env.config(), res.Manifests)
	env.assertConverged(t, res.Manifests)
	want := "description " + filepath.Base(versions[version])
	for _, c := range env.remote(t) {
		if c.Description != want {
			t.Errorf("connection %s description = %q, want %q", c.Name, c.Description, want)
			break
		}
	}
}

// crashRun configures how killChild runs and kills a child.
type crashRun struct {
	killWithin time.Duration // the kill comes at a random moment within this long after the plan
	grace      time.Duration // the child's Config.PendingGrace
}

// TestCrashRecoveryWithCreatesInFlight kills runs of 40 creates against
// a service that takes 300 ms to commit a create and finishes it even
// after its client is gone, and starts the next run at once. The creates
// of a killed run then land while the next run plans, and every run must
// wait for them rather than create duplicates.
func TestCrashRecoveryWithCreatesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	const (
		createDelay = 300 * time.Millisecond
		grace       = time.Second // longer than createDelay
	)
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 1))
			env := newTestEnv(t, emulator.Options{
				Seed:          int64(seed),
				Latency:       time.Millisecond,
				LatencyJitter: 4 * time.Millisecond,
			})
			env.createDelay.Store(int64(createDelay))
			dir := writeCrashManifests(t, env.dir, "v1", 40)
			for range 3 {
				// 40 creates, 10 at a time, take about 4 delays.
				killChild(t, env, dir, rng, crashRun{killWithin: 4 * createDelay, grace: grace})
				logLockState(t, env)
			}

			res, err := spec.Load([]string{dir}, spec.LoadOptions{
				LookupEnv: func(string) (string, bool) { return "crash-pw", true },
			})
			if err != nil {
				t.Fatal(err)
			}
			cfg := env.config()
			cfg.PendingGrace = grace
			env.mustApply(t, cfg, res.Manifests)
			env.waitIdle(t)
			env.assertConverged(t, res.Manifests)
		})
	}
}

// killChild starts a child run on the manifests in dir and kills it with
// SIGKILL after a random delay, most often once it has planned.
func killChild(t *testing.T, env *testEnv, dir string, rng *rand.Rand, run crashRun) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashChildEnv+"=1",
		crashURLEnv+"="+env.srv.URL,
		crashLockEnv+"="+env.lockPath,
		crashManifestsEnv+"="+dir,
		crashPasswordEnv+"=crash-pw",
		crashGraceEnv+"="+run.grace.String(),
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	planned := make(chan struct{})
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if scanner.Text() == "planned" {
				close(planned)
				break
			}
		}
		for scanner.Scan() {
		}
	}()
	if rng.IntN(5) > 0 {
		// Kill during the apply, which takes a few hundred milliseconds here.
		select {
		case <-planned:
		case <-time.After(2 * time.Minute):
			// Generous because shared 2-core machines stall processes for
			// seconds at a time under -race.
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child did not plan within 2 minutes\n%s", stderr.String())
		}
		d := time.Duration(rng.Int64N(int64(run.killWithin)))
		t.Logf("kill %v after planning", d)
		time.Sleep(d)
	} else {
		// Kill while it starts, reads the lock file or plans.
		time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
	}
	cmd.Process.Kill()
	// A killed child has exit code -1, while a child that failed on its
	// own exits with 1 and fails the test.
	err = cmd.Wait()
	if exit, ok := err.(*exec.ExitError); ok && exit.ExitCode() > 0 {
		t.Fatalf("child failed before the kill: %v\n%s", err, stderr.String())
	}
}

// writeCrashManifests writes n manifests into a folder named version, with
// a description naming the version.
func writeCrashManifests(t *testing.T, dir, version string, n int) string {
	t.Helper()
	path := filepath.Join(dir, version)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		doc := fmt.Sprintf(`name: db-%03d
description: description %s
connectionSpec:
  id: %s
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: db.example.internal
    database: db%03d
    username: ingest
    password: ${%s}
`, i, version, mysqlSpecID, i, crashPasswordEnv)
		if err := os.WriteFile(filepath.Join(path, fmt.Sprintf("db-%03d.yaml", i)), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// logLockState logs how far the killed run got.
func logLockState(t *testing.T, env *testEnv) {
	data, err := os.ReadFile(env.lockPath)
	if err != nil {
		t.Logf("after kill: no lock file (%v)", err)
		return
	}
	l, err := decodeLock(data)
	if err != nil {
		t.Fatalf("lock file after kill is invalid: %v", err)
	}
	pending := 0
	for _, e := range l.Entries {
		if e.Pending {
			pending++
		}
	}
	t.Logf("after kill: %d entries, %d pending, %d remote connections", len(l.Entries), pending, len(env.remote(t)))
}
