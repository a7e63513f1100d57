package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Measurement is the cost of one child process, as the kernel reports it on
// exit.
type Measurement struct {
	Wall   time.Duration
	MaxRSS int64 // bytes; the largest resident set of the process or of any child it waited for
	User   time.Duration
	Sys    time.Duration
}

// CPU returns user plus system time.
func (m Measurement) CPU() time.Duration { return m.User + m.Sys }

// command is one child process to run and measure.
type command struct {
	Path    string
	Args    []string
	Env     []string
	Dir     string
	Stdout  io.Writer // nil discards
	Stderr  io.Writer // nil discards
	Timeout time.Duration
}

// measurePath is the trampoline binary built from bench/measure.
var measurePath string

// run starts c in its own process group, waits for it and returns its cost.
// When ctx ends or the timeout passes, the whole group is killed. A non-zero
// exit status is returned as an error together with the measurement.
//
// The child runs under the trampoline (bench/measure), which starts it and
// reports its wall time and rusage. The kernel's peak RSS of a process
// includes the memory of the process that forked it, up to the exec, so a
// child forked straight from the harness would report at least the harness's
// own RSS. The trampoline is small, so the floor it adds is about 2.5 MB.
func run(ctx context.Context, c command) (Measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	usage, err := os.CreateTemp("", "apply-bench-rusage-")
	if err != nil {
		return Measurement{}, err
	}
	usage.Close()
	defer os.Remove(usage.Name())

	args := append([]string{usage.Name(), c.Path}, c.Args...)
	cmd := exec.CommandContext(ctx, measurePath, args...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	cmd.Stdout = c.Stdout
	cmd.Stderr = c.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Measurement{}, fmt.Errorf("start %s: %w", c.Path, err)
	}
	children.add(cmd.Process.Pid)
	err = cmd.Wait()
	wall := time.Since(start)
	children.remove(cmd.Process.Pid)

	m, readErr := readMeasurement(usage.Name())
	if readErr != nil {
		// The trampoline was killed before it could report; keep the wall time.
		m = Measurement{Wall: wall}
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return m, fmt.Errorf("%s %s: timed out after %s", c.Path, strings.Join(c.Args, " "), c.Timeout)
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w", c.Path, strings.Join(c.Args, " "), err)
	}
	return m, readErr
}

// readMeasurement reads the JSON the trampoline writes.
func readMeasurement(path string) (Measurement, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Measurement{}, err
	}
	var u struct {
		Wall      time.Duration
		MaxRSSKiB int64
		User      time.Duration
		Sys       time.Duration
	}
	if err := json.Unmarshal(b, &u); err != nil {
		return Measurement{}, fmt.Errorf("read measurement: %w", err)
	}
	if u.Wall == 0 {
		return Measurement{}, errors.New("read measurement: the trampoline exited before its child")
	}
	return Measurement{Wall: u.Wall, MaxRSS: u.MaxRSSKiB * 1024, User: u.User, Sys: u.Sys}, nil
}

func killGroup(pid int) error {
	return syscall.Kill(-pid, syscall.SIGKILL)
}

// processGroups tracks the process groups started by the harness, so that an
// interrupt of the harness kills all of them.
type processGroups struct {
	mu   sync.Mutex
	pids map[int]bool
}

var children = &processGroups{pids: map[int]bool{}}

func (g *processGroups) add(pid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pids[pid] = true
}

func (g *processGroups) remove(pid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pids, pid)
}

// killAll kills every tracked process group.
func (g *processGroups) killAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for pid := range g.pids {
		_ = killGroup(pid)
	}
}

// childEnv returns the harness environment with extra set and without proxy
// variables, so that no child sends loopback traffic through a proxy.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(name) {
		case "http_proxy", "https_proxy", "all_proxy", "no_proxy":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// tailFile returns the last n bytes of a file, for error messages.
func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return ""
	}
	if info.Size() > n {
		if _, err := f.Seek(info.Size()-n, io.SeekStart); err != nil {
			return ""
		}
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}
