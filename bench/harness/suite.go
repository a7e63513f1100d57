package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// runResult is one measured run and what the emulator counted during it.
type runResult struct {
	M           Measurement
	Stats       emulatorStats
	EmulatorCPU time.Duration // CPU time of the emulator process, from its start to its stop
	Err         error
}

// planResult is one row of the plan-cost table.
type planResult struct {
	Size     int
	Lock     runResult     // the apply that wrote the complete lock file
	Plan     []Measurement // every offline plan run
	PlanErr  error
	Requests int // requests the emulator received during the offline plans
	Parse    []Measurement
	ParseErr error
}

// noopResult is the no-op re-apply table.
type noopResult struct {
	First  runResult
	Second runResult
}

// rateResult is one row of the rate-limit table.
type rateResult struct {
	ClientRate float64 // apply --rate-limit; 0 means not set
	R          runResult
}

// results holds every measurement of one harness run.
type results struct {
	Started  time.Time
	Finished time.Time

	Create     map[int]map[int]runResult // N -> parallelism
	Sequential map[int]runResult         // N -> sequential curl loop
	Xargs      map[int]runResult         // N -> xargs -P curl
	Plan       []planResult
	Noop       noopResult
	Rate       []rateResult
	Phases     []phaseLoad
}

// suite runs the benchmark matrix.
type suite struct {
	cfg      config
	applyBin string
	self     string // the harness binary, which also runs the YAML parse baseline
	work     string // scratch directory for manifests, lock files and logs

	seqScript   string
	xargsScript string
	manifests   map[int]string // N -> directory of N manifests
	bodies      map[int]string // N -> directory of N request bodies

	fixtures []*planFixture // lock files for the plan benchmark

	mu      sync.Mutex
	nextRun int
	res     results
}

func (s *suite) logf(format string, args ...any) {
	elapsed := time.Since(s.res.Started).Seconds()
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", elapsed, fmt.Sprintf(format, args...))
}

// runName returns a unique prefix for the log and lock files of one run.
func (s *suite) runName(label string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextRun++
	return filepath.Join(s.work, "runs", fmt.Sprintf("%03d-%s", s.nextRun, label))
}

// applyEnv is the environment of every apply and curl run. The emulator
// accepts any non-empty credentials. The lock key is fixed so that runs are
// reproducible; it protects nothing but the benchmark's throwaway data.
func applyEnv(extra ...string) []string {
	return childEnv(append([]string{
		"AEP_ACCESS_TOKEN=bench-access-token",
		"AEP_API_KEY=bench-api-key",
		"AEP_ORG_ID=BENCH0000000000000000@AdobeOrg",
		"AEP_SANDBOX_NAME=bench",
		"APPLY_LOCK_KEY=5bD27cH+7OJsKqGadvMBwynr2M3Nuh931Nik4gUpoA0=",
		passwordEnvVar + "=" + benchPassword,
		"NO_COLOR=1",
	}, extra...)...)
}

// prepare writes the manifests, the request bodies and the curl scripts.
func (s *suite) prepare() error {
	s.manifests = map[int]string{}
	s.bodies = map[int]string{}
	if err := os.MkdirAll(filepath.Join(s.work, "runs"), 0o755); err != nil {
		return err
	}
	sizes := map[int]bool{s.cfg.NoopSize: true, s.cfg.RateSize: true}
	for _, n := range s.cfg.CreateSizes {
		sizes[n] = true
	}
	for _, n := range s.cfg.PlanSizes {
		sizes[n] = true
	}
	for n := range sizes {
		dir, err := writeManifests(s.work, n)
		if err != nil {
			return fmt.Errorf("write %d manifests: %w", n, err)
		}
		s.manifests[n] = dir
	}
	for _, n := range s.cfg.CreateSizes {
		dir, err := writeBodies(s.work, n)
		if err != nil {
			return fmt.Errorf("write %d request bodies: %w", n, err)
		}
		s.bodies[n] = dir
	}
	var err error
	s.seqScript, s.xargsScript, err = writeScripts(s.work)
	return err
}

// preflight applies one manifest against a fresh emulator, so that a
// problem every run would share (a changed flag, a rejected setting) stops
// the harness in seconds instead of after minutes of failed runs.
func (s *suite) preflight(ctx context.Context) error {
	dir := filepath.Join(s.work, "preflight")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, connectionName(1)+".yaml"), manifestYAML(1), 0o644); err != nil {
		return err
	}
	name := s.runName("preflight")
	e, err := startEmulator(ctx, s.applyBin, name+".emulator.log", emulatorOptions{})
	if err != nil {
		return err
	}
	defer e.stop()
	m, err := s.runApply(ctx, name, applyArgs(dir, e.URL, name+".lock.json", 1), time.Minute)
	if r := s.finish(ctx, e, m, err, 1); r.Err != nil {
		return fmt.Errorf("preflight apply of one manifest failed: %w", r.Err)
	}
	return nil
}

// commandTimeout bounds one run: four times its ideal plus two minutes.
func commandTimeout(ideal time.Duration) time.Duration {
	return 4*ideal + 2*time.Minute
}

// runApply runs the apply binary with args, its output going to files named
// after the run.
func (s *suite) runApply(ctx context.Context, name string, args []string, timeout time.Duration) (Measurement, error) {
	return s.runLogged(ctx, name, command{Path: s.applyBin, Args: args, Env: applyEnv(), Timeout: timeout})
}

func (s *suite) runLogged(ctx context.Context, name string, c command) (Measurement, error) {
	stdout, err := os.Create(name + ".out")
	if err != nil {
		return Measurement{}, err
	}
	defer stdout.Close()
	stderr, err := os.Create(name + ".err")
	if err != nil {
		return Measurement{}, err
	}
	defer stderr.Close()
	c.Stdout, c.Stderr = stdout, stderr
	m, err := run(ctx, c)
	if err != nil {
		// apply prints its summary, failures included, to stdout and its
		// errors to stderr, so both tails go into the error.
		return m, fmt.Errorf("%w: stderr: %s; stdout: %s", err, tailFile(name+".err", 400), tailFile(name+".out", 400))
	}
	return m, nil
}

// applyArgs returns the arguments of an apply of dir against url.
func applyArgs(dir, url, lock string, parallelism int, extra ...string) []string {
	args := []string{"-f", dir, "--endpoint", url, "--lock", lock,
		"--parallelism", strconv.Itoa(parallelism)}
	return append(args, extra...)
}

// createRun applies n fresh manifests at parallelism p against a fresh
// emulator and checks that exactly n connections were created.
func (s *suite) createRun(ctx context.Context, n, p int, emu emulatorOptions, extra ...string) runResult {
	name := s.runName(fmt.Sprintf("apply-n%d-p%d", n, p))
	e, err := startEmulator(ctx, s.applyBin, name+".emulator.log", emu)
	if err != nil {
		return runResult{Err: err}
	}
	defer e.stop()

	timeout := commandTimeout(idealCreate(n, p, s.cfg.Latency))
	if emu.RateLimit > 0 {
		timeout = commandTimeout(time.Duration(float64(n) / emu.RateLimit * float64(time.Second)))
	}
	args := applyArgs(s.manifests[n], e.URL, name+".lock.json", p, extra...)
	m, err := s.runApply(ctx, name, args, timeout)
	r := s.finish(ctx, e, m, err, n)
	r.EmulatorCPU = e.stop()
	return r
}

// curlRun runs one of the curl scripts over n bodies against a fresh
// emulator.
func (s *suite) curlRun(ctx context.Context, script string, n, p int) runResult {
	name := s.runName(fmt.Sprintf("curl-n%d-p%d", n, p))
	e, err := startEmulator(ctx, s.applyBin, name+".emulator.log", emulatorOptions{Latency: s.cfg.Latency})
	if err != nil {
		return runResult{Err: err}
	}
	defer e.stop()

	c := command{
		Path:    "bash",
		Args:    []string{script},
		Env:     applyEnv("URL="+e.URL, "BODIES="+s.bodies[n], "PARALLEL="+strconv.Itoa(p)),
		Timeout: commandTimeout(idealCreate(n, p, s.cfg.Latency)),
	}
	m, err := s.runLogged(ctx, name, c)
	r := s.finish(ctx, e, m, err, n)
	r.EmulatorCPU = e.stop()
	return r
}

// finish reads the emulator's counters after a create run and checks that it
// created exactly n connections.
func (s *suite) finish(ctx context.Context, e *emulator, m Measurement, runErr error, n int) runResult {
	r := runResult{M: m, Err: runErr}
	st, err := e.stats(ctx)
	if err != nil {
		if r.Err == nil {
			r.Err = err
		}
		return r
	}
	r.Stats = st
	if r.Err == nil && (st.ByStatus[201] != n || st.Connections != n) {
		r.Err = fmt.Errorf("emulator answered %d creates with 201 and stores %d connections, expected %d",
			st.ByStatus[201], st.Connections, n)
	}
	return r
}

// runLatencyBound runs the sequential cases (apply at parallelism 1 and the
// sequential curl loop) for every N at the same time, each against its own
// emulator. They wait on the emulator's latency almost all the time, so
// running them side by side costs each of them little and saves minutes.
func (s *suite) runLatencyBound(ctx context.Context) {
	var wg sync.WaitGroup
	for _, n := range s.cfg.CreateSizes {
		wg.Go(func() {
			r := s.createRun(ctx, n, 1, emulatorOptions{Latency: s.cfg.Latency})
			s.logf("apply N=%d p=1: %s", n, describe(r))
			s.mu.Lock()
			s.res.Create[n][1] = r
			s.mu.Unlock()
		})
		wg.Go(func() {
			r := s.curlRun(ctx, s.seqScript, n, 1)
			s.logf("sequential curl N=%d: %s", n, describe(r))
			s.mu.Lock()
			s.res.Sequential[n] = r
			s.mu.Unlock()
		})
	}
	wg.Wait()
}

// runParallel runs the parallel creates and the xargs alternative one at a
// time, since they load the CPU.
func (s *suite) runParallel(ctx context.Context) {
	for _, n := range s.cfg.CreateSizes {
		for _, p := range s.cfg.Parallelism {
			if p == 1 {
				continue
			}
			r := s.createRun(ctx, n, p, emulatorOptions{Latency: s.cfg.Latency})
			s.logf("apply N=%d p=%d: %s", n, p, describe(r))
			s.res.Create[n][p] = r
		}
		r := s.curlRun(ctx, s.xargsScript, n, s.cfg.XargsParallel)
		s.logf("xargs -P %d curl N=%d: %s", s.cfg.XargsParallel, n, describe(r))
		s.res.Xargs[n] = r
	}
}

// runNoop applies the manifests twice against one emulator and counts the
// requests of the second run.
func (s *suite) runNoop(ctx context.Context) {
	n, p := s.cfg.NoopSize, s.cfg.NoopParallelism
	name := s.runName(fmt.Sprintf("noop-n%d", n))
	e, err := startEmulator(ctx, s.applyBin, name+".emulator.log", emulatorOptions{Latency: s.cfg.Latency})
	if err != nil {
		s.res.Noop.First.Err = err
		return
	}
	defer e.stop()

	lock := name + ".lock.json"
	timeout := commandTimeout(idealCreate(n, p, s.cfg.Latency))
	m, err := s.runApply(ctx, name+"-first", applyArgs(s.manifests[n], e.URL, lock, p), timeout)
	s.res.Noop.First = s.finish(ctx, e, m, err, n)
	if s.res.Noop.First.Err != nil {
		return
	}
	if err := e.resetStats(ctx); err != nil {
		s.res.Noop.Second.Err = err
		return
	}
	m, err = s.runApply(ctx, name+"-second", applyArgs(s.manifests[n], e.URL, lock, p), timeout)
	r := runResult{M: m, Err: err}
	if r.Stats, err = e.stats(ctx); err != nil && r.Err == nil {
		r.Err = err
	}
	if r.Err == nil && r.Stats.Writes() != 0 {
		r.Err = fmt.Errorf("sent %d write requests, expected 0", r.Stats.Writes())
	}
	s.res.Noop.Second = r
	s.logf("no-op re-apply N=%d: %s", n, describe(s.res.Noop.Second))
}

// runRate creates manifests against an emulator that responds 429 above the
// configured rate, once relying on the 429 responses alone and once with the
// client-side limit set to the same rate.
func (s *suite) runRate(ctx context.Context) {
	emu := emulatorOptions{Latency: s.cfg.Latency, RateLimit: s.cfg.Rate}
	for _, clientRate := range []float64{0, s.cfg.Rate} {
		var extra []string
		if clientRate > 0 {
			extra = []string{"--rate-limit", strconv.FormatFloat(clientRate, 'f', -1, 64)}
		}
		r := s.createRun(ctx, s.cfg.RateSize, s.cfg.RateParallelism, emu, extra...)
		s.logf("rate limit %g/s, client limit %g/s: %s", s.cfg.Rate, clientRate, describe(r))
		s.res.Rate = append(s.res.Rate, rateResult{ClientRate: clientRate, R: r})
	}
}

// median returns the run with the median wall time; with an even count, the
// lower of the two middle runs. Its MaxRSS is the largest of all runs.
func median(ms []Measurement) Measurement {
	if len(ms) == 0 {
		return Measurement{}
	}
	sorted := append([]Measurement(nil), ms...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Wall < sorted[j].Wall })
	m := sorted[(len(sorted)-1)/2]
	for _, x := range ms {
		m.MaxRSS = max(m.MaxRSS, x.MaxRSS)
	}
	return m
}

func medianWall(ms []Measurement) time.Duration {
	return median(ms).Wall.Round(time.Millisecond)
}

func describe(r runResult) string {
	if r.Err != nil {
		return "FAILED: " + r.Err.Error()
	}
	return fmt.Sprintf("%s wall, %.1f MB peak RSS, %d requests",
		r.M.Wall.Round(time.Millisecond), mb(r.M.MaxRSS), r.Stats.Requests)
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }
