package main

import (
	"context"
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

// run starts c in its own process group, waits for it and returns its cost.
// When ctx ends or the timeout passes, the whole group is killed. A non-zero
// exit status is returned as an error together with the measurement.
func run(ctx context.Context, c command) (Measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
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
	err := cmd.Wait()
	wall := time.Since(start)
	children.remove(cmd.Process.Pid)

	m := Measurement{Wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.MaxRSS = ru.Maxrss * 1024 // Linux reports kilobytes
		m.User = time.Duration(ru.Utime.Nano())
		m.Sys = time.Duration(ru.Stime.Nano())
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return m, fmt.Errorf("%s %s: timed out after %s", c.Path, strings.Join(c.Args, " "), c.Timeout)
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w", c.Path, strings.Join(c.Args, " "), err)
	}
	return m, nil
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
