package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// planFixture is a complete lock file for the manifests of one size, and
// the emulator that holds the connections it records.
type planFixture struct {
	size int
	dir  string // the manifests
	lock string
	emu  *emulator // nil when the lock-writing apply failed
	res  planResult
}

// writeLocks writes the lock file of every plan size with a real apply at
// high parallelism against an emulator without latency. Both run at idle CPU
// and IO priority (chrt --idle, ionice -c 3), so that the latency-bound runs
// measured at the same time get the CPU and the disk whenever they want them.
func (s *suite) writeLocks(ctx context.Context) []*planFixture {
	var fixtures []*planFixture
	for _, size := range s.cfg.PlanSizes {
		fx := &planFixture{size: size, dir: s.manifests[size], res: planResult{Size: size}}
		fixtures = append(fixtures, fx)
		name := s.runName(fmt.Sprintf("plan-n%d", size))
		e, err := startEmulator(ctx, s.applyBin, name+".emulator.log", emulatorOptions{Idle: true})
		if err != nil {
			fx.res.Lock.Err = err
			continue
		}
		fx.lock = name + ".lock.json"
		args := applyArgs(fx.dir, e.URL, fx.lock, s.cfg.LockParallelism)
		path, args := idlePriority(s.applyBin, args)
		c := command{Path: path, Args: args, Env: applyEnv(), Timeout: 10 * time.Minute}
		m, err := s.runLogged(ctx, name+"-lock", c)
		fx.res.Lock = s.finish(ctx, e, m, err, size)
		if fx.res.Lock.Err != nil {
			e.stop()
			continue
		}
		fx.emu = e
		s.logf("plan N=%d: lock file written by apply in %s (idle priority)", size, m.Wall.Round(time.Millisecond))
	}
	return fixtures
}

// idlePriority wraps a command so that it runs at idle CPU and IO priority.
func idlePriority(path string, args []string) (string, []string) {
	return "chrt", append([]string{"--idle", "0", "ionice", "-c", "3", path}, args...)
}

// measurePlans measures the offline plan of every fixture and the bare YAML
// parse of the same files, then stops the fixtures' emulators.
func (s *suite) measurePlans(ctx context.Context, fixtures []*planFixture) {
	for _, fx := range fixtures {
		if fx.emu != nil {
			s.measurePlan(ctx, fx)
			fx.emu.stop()
		}
		s.res.Plan = append(s.res.Plan, fx.res)
	}
}

func (s *suite) measurePlan(ctx context.Context, fx *planFixture) {
	pr := &fx.res
	if err := fx.emu.resetStats(ctx); err != nil {
		pr.PlanErr = err
		return
	}

	// --detailed-exitcode makes a plan with changes exit 3: the lock file is
	// complete, so any change is an error.
	name := s.runName(fmt.Sprintf("plan-n%d", fx.size))
	args := applyArgs(fx.dir, fx.emu.URL, fx.lock, s.cfg.LockParallelism,
		"--dry-run", "--refresh=false", "--detailed-exitcode")
	for i := range s.cfg.PlanRepeats {
		m, err := s.runApply(ctx, fmt.Sprintf("%s-plan%d", name, i), args, 5*time.Minute)
		if err != nil {
			if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) && exitErr.ExitCode() == 3 {
				err = fmt.Errorf("the offline plan reports changes, expected none: %w", err)
			}
			pr.PlanErr = err
			break
		}
		pr.Plan = append(pr.Plan, m)
	}
	if st, err := fx.emu.stats(ctx); err != nil {
		pr.PlanErr = errors.Join(pr.PlanErr, err)
	} else {
		pr.Requests = st.Requests
	}
	if pr.PlanErr == nil && pr.Requests != 0 {
		pr.PlanErr = fmt.Errorf("the offline plan sent %d requests, expected 0", pr.Requests)
	}

	for i := range s.cfg.PlanRepeats {
		c := command{Path: s.self, Args: []string{"yamlparse", fx.dir}, Env: childEnv(), Timeout: 5 * time.Minute}
		m, err := s.runLogged(ctx, fmt.Sprintf("%s-parse%d", name, i), c)
		if err != nil {
			pr.ParseErr = err
			break
		}
		pr.Parse = append(pr.Parse, m)
	}
	s.logf("plan N=%d: plan %s, parse %s", fx.size, medianWall(pr.Plan), medianWall(pr.Parse))
}
