package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Sizes of the profiled runs: the largest create of table 1 at the
// parallelism of the targets, and the plan of the plan-cost target.
const (
	profileCreateSize  = 5000
	profileParallelism = 16
	profilePlanSize    = 10000
)

// runProfiles profiles a build of apply made by bench/profile: a create of
// 5,000 manifests against an emulator with 50 ms latency, and an offline
// plan of 10,000 manifests. It writes CPU and peak-heap profiles into -out
// and prints the top of each.
func runProfiles(args []string) error {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	applyBin := fs.String("apply", "", "apply binary built with the profiling overlay (required)")
	measureBin := fs.String("measure", "", "path of the trampoline built from bench/measure (required)")
	out := fs.String("out", "", "directory for the profiles (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *applyBin == "" || *measureBin == "" || *out == "" {
		return errors.New("profile: -apply, -measure and -out are required")
	}
	var err error
	if measurePath, err = filepath.Abs(*measureBin); err != nil {
		return err
	}
	bin, err := filepath.Abs(*applyBin)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "apply-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	defer children.killAll()
	cfg := fullConfig()
	s := &suite{cfg: cfg, applyBin: bin, work: work, res: results{Started: time.Now()}}
	s.manifests = map[int]string{}
	for _, n := range []int{profileCreateSize, profilePlanSize} {
		if s.manifests[n], err = writeManifests(work, n); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(work, "runs"), 0o755); err != nil {
		return err
	}

	create := filepath.Join(*out, fmt.Sprintf("create-n%d-p%d", profileCreateSize, profileParallelism))
	s.logf("profiling a create of %d manifests at parallelism %d", profileCreateSize, profileParallelism)
	if err := s.profileCreate(ctx, create); err != nil {
		return err
	}
	plan := filepath.Join(*out, fmt.Sprintf("plan-n%d", profilePlanSize))
	s.logf("profiling an offline plan of %d manifests", profilePlanSize)
	if err := s.profilePlan(ctx, plan); err != nil {
		return err
	}

	for _, p := range []struct{ profile, index string }{
		{create + ".cpu.pprof", ""},
		{plan + ".cpu.pprof", ""},
		{plan + ".heap.pprof", "-sample_index=inuse_space"},
	} {
		fmt.Printf("\n=== %s\n", p.profile)
		args := []string{"tool", "pprof", "-top", "-cum", "-nodecount=30"}
		if p.index != "" {
			args = append(args, p.index)
		}
		cmd := exec.CommandContext(ctx, "go", append(args, bin, p.profile)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go tool pprof %s: %w", p.profile, err)
		}
	}
	return nil
}

// profileEnv adds the profiling build's variables to the apply environment.
func profileEnv(prefix string) []string {
	return applyEnv("APPLY_CPUPROFILE="+prefix+".cpu.pprof", "APPLY_HEAPPROFILE="+prefix+".heap.pprof")
}

func (s *suite) profileCreate(ctx context.Context, prefix string) error {
	n := profileCreateSize
	name := s.runName("profile-create")
	e, err := startEmulator(ctx, s.applyBin, name+".emulator.log", emulatorOptions{Latency: s.cfg.Latency})
	if err != nil {
		return err
	}
	defer e.stop()
	c := command{
		Path:    s.applyBin,
		Args:    applyArgs(s.manifests[n], e.URL, name+".lock.json", profileParallelism),
		Env:     profileEnv(prefix),
		Timeout: commandTimeout(idealCreate(n, profileParallelism, s.cfg.Latency)),
	}
	m, err := s.runLogged(ctx, name, c)
	if r := s.finish(ctx, e, m, err, n); r.Err != nil {
		return r.Err
	}
	s.logf("create: %s wall, %s CPU", m.Wall.Round(time.Millisecond), m.CPU().Round(time.Millisecond))
	return nil
}

func (s *suite) profilePlan(ctx context.Context, prefix string) error {
	n := profilePlanSize
	name := s.runName("profile-plan")
	e, err := startEmulator(ctx, s.applyBin, name+".emulator.log", emulatorOptions{})
	if err != nil {
		return err
	}
	defer e.stop()
	lock := name + ".lock.json"
	dir := s.manifests[n]
	m, err := s.runApply(ctx, name+"-lock", applyArgs(dir, e.URL, lock, s.cfg.LockParallelism), 10*time.Minute)
	if r := s.finish(ctx, e, m, err, n); r.Err != nil {
		return r.Err
	}
	c := command{
		Path:    s.applyBin,
		Args:    applyArgs(dir, e.URL, lock, s.cfg.LockParallelism, "--dry-run", "--refresh=false", "--detailed-exitcode"),
		Env:     profileEnv(prefix),
		Timeout: 5 * time.Minute,
	}
	m, err = s.runLogged(ctx, name+"-plan", c)
	if err != nil {
		return err
	}
	s.logf("plan: %s wall, %s CPU, %.1f MB peak RSS", m.Wall.Round(time.Millisecond),
		m.CPU().Round(time.Millisecond), mb(m.MaxRSS))
	return nil
}
