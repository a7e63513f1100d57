// Command harness measures the apply binary against the emulator and against
// the curl scripts a user would write instead, and writes the results to
// docs/benchmarks.md with a throughput plot. bench/run builds and runs it.
//
// Usage:
//
//	harness run -apply BIN -measure BIN -out FILE -plot FILE [-quick] [-limits FILE] [-command TEXT]
//	harness profile -apply BIN -measure BIN -out DIR
//	harness yamlparse DIR
//
// The yamlparse subcommand is the baseline of the plan benchmark: it parses
// every manifest under DIR and nothing else, in its own process so that its
// wall time and peak RSS are measured like those of apply. The profile
// subcommand, which bench/profile runs, profiles a create and a plan with a
// build of apply that writes pprof profiles.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// maxRunTime bounds a whole harness run; the full matrix takes about half of
// it on a 2-core machine.
const maxRunTime = 20 * time.Minute

func main() {
	if err := mainErr(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func mainErr(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: harness run|profile|yamlparse ...")
	}
	switch args[0] {
	case "yamlparse":
		if len(args) != 2 {
			return errors.New("usage: harness yamlparse DIR")
		}
		n, err := parseYAMLDir(args[1])
		if err != nil {
			return err
		}
		fmt.Printf("parsed %d documents\n", n)
		return nil
	case "run":
		return runSuite(args[1:])
	case "profile":
		return runProfiles(args[1:])
	}
	return fmt.Errorf("unknown subcommand %q: expected run, profile or yamlparse", args[0])
}

func runSuite(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	applyBin := fs.String("apply", "", "path of the apply binary to measure (required)")
	measureBin := fs.String("measure", "", "path of the trampoline built from bench/measure (required)")
	out := fs.String("out", "docs/benchmarks.md", "Markdown file to write")
	plotPath := fs.String("plot", "docs/benchmarks-throughput.png", "PNG file of the throughput plot")
	limits := fs.String("limits", "bench/limits.md", "Markdown file copied into the \"What limits it\" section")
	quick := fs.Bool("quick", false, "run a small matrix to check the harness; its numbers are not comparable")
	commandText := fs.String("command", "bench/run", "command line shown in the report")
	keep := fs.Bool("keep", false, "keep the scratch directory with every log and lock file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *applyBin == "" || *measureBin == "" {
		return errors.New("run: -apply and -measure are required")
	}
	var err error
	if measurePath, err = filepath.Abs(*measureBin); err != nil {
		return err
	}
	if *quick {
		// A quick run must not overwrite the published report unless asked to.
		explicit := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
		dir := filepath.Join(os.TempDir(), "apply-bench-quick")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if !explicit["out"] {
			*out = filepath.Join(dir, "benchmarks.md")
		}
		if !explicit["plot"] {
			*plotPath = filepath.Join(dir, "benchmarks-throughput.png")
		}
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(*applyBin)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "apply-bench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "harness: scratch directory", work)
	} else {
		defer os.RemoveAll(work)
	}

	ctx, cancel := context.WithTimeout(context.Background(), maxRunTime)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer children.killAll()

	cfg := fullConfig()
	if *quick {
		cfg = quickConfig()
	}
	s := &suite{cfg: cfg, applyBin: bin, self: self, work: work}
	s.res = results{
		Started:    time.Now(),
		Create:     map[int]map[int]runResult{},
		Sequential: map[int]runResult{},
		Xargs:      map[int]runResult{},
	}
	for _, n := range cfg.CreateSizes {
		s.res.Create[n] = map[int]runResult{}
	}

	s.logf("writing manifests and request bodies to %s", work)
	if err := s.prepare(); err != nil {
		return err
	}
	if err := s.preflight(ctx); err != nil {
		return err
	}
	// The latency-bound runs leave the CPU idle most of the time; the lock
	// files of the plan benchmark are written meanwhile, at idle priority.
	s.phase("latency-bound runs side by side; lock files at idle priority", func() {
		var fixtures []*planFixture
		done := make(chan struct{})
		go func() {
			defer close(done)
			fixtures = s.writeLocks(ctx)
		}()
		s.runLatencyBound(ctx)
		<-done
		s.fixtures = fixtures
	})
	s.phase("parallel creates and xargs, one at a time", func() { s.runParallel(ctx) })
	s.phase("no-op re-apply", func() { s.runNoop(ctx) })
	s.phase("rate limiting", func() { s.runRate(ctx) })
	s.phase("offline plans and YAML parses", func() { s.measurePlans(ctx, s.fixtures) })
	s.res.Finished = time.Now()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run stopped before the end: %w", err)
	}

	limitsText, err := os.ReadFile(*limits)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var launched time.Time
	if sec, err := strconv.ParseInt(os.Getenv("BENCH_RUN_STARTED"), 10, 64); err == nil {
		launched = time.Unix(sec, 0)
	}
	rep := report{
		Launched: launched,
		Cfg:      cfg,
		Res:      &s.res,
		Machine:  describeMachine(),
		Command:  *commandText,
		Quick:    *quick,
		PlotFile: filepath.Base(*plotPath),
		Limits:   string(limitsText),
	}
	if err := os.WriteFile(*out, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	if err := drawThroughput(cfg, &s.res, *plotPath); err != nil {
		return fmt.Errorf("draw %s: %w", *plotPath, err)
	}
	s.logf("wrote %s and %s", *out, *plotPath)
	return nil
}
