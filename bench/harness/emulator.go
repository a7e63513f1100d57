package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// emulatorOptions are the fault-injection flags of one emulator process.
type emulatorOptions struct {
	Latency   time.Duration
	RateLimit float64 // requests per second; 0 means none
	Idle      bool    // run at idle CPU and IO priority
}

// emulator is one `apply emulator` process listening on loopback.
type emulator struct {
	URL string
	cmd *exec.Cmd
	log string // path of its stderr

	stopOnce sync.Once
	cpu      time.Duration // user plus system time, known after stop
}

// startEmulator starts `apply emulator` on a free loopback port and waits
// for it to print its URL. Every call starts a fresh process with its own
// in-memory state.
func startEmulator(ctx context.Context, applyBin, logPath string, opts emulatorOptions) (*emulator, error) {
	args := []string{"emulator", "--listen", "127.0.0.1:0", "--seed", "1",
		"--latency", opts.Latency.String()}
	if opts.RateLimit > 0 {
		args = append(args, "--rate-limit", strconv.FormatFloat(opts.RateLimit, 'f', -1, 64))
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	path := applyBin
	if opts.Idle {
		path, args = idlePriority(path, args)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = childEnv()
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}
	children.add(cmd.Process.Pid)
	e := &emulator{cmd: cmd, log: logPath}

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		e.URL = strings.TrimRight(strings.TrimSpace(line), "/")
	case <-time.After(10 * time.Second):
		e.stop()
		return nil, fmt.Errorf("start emulator: no URL printed within 10s: %s", tailFile(logPath, 500))
	case <-ctx.Done():
		e.stop()
		return nil, ctx.Err()
	}
	if err := checkLoopback(e.URL); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

// checkLoopback rejects any URL that is not plain HTTP on 127.0.0.1, since
// the benchmark must send traffic to nothing else.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("emulator URL %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("emulator URL %q: expected http://127.0.0.1:PORT", raw)
	}
	return nil
}

// stop interrupts the emulator and kills it if it has not exited within
// five seconds, then returns the CPU time it used. Calling it again only
// returns the CPU time.
func (e *emulator) stop() time.Duration {
	e.stopOnce.Do(e.terminate)
	return e.cpu
}

func (e *emulator) terminate() {
	pid := e.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		_ = e.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = killGroup(pid)
		<-done
	}
	children.remove(pid)
	if ru, ok := e.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		e.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
}

var statsClient = &http.Client{Timeout: 10 * time.Second}

// stats returns the emulator's request counters.
func (e *emulator) stats(ctx context.Context) (emulatorStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/emulator/stats", nil)
	if err != nil {
		return emulatorStats{}, err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return emulatorStats{}, fmt.Errorf("read emulator stats: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return emulatorStats{}, fmt.Errorf("read emulator stats: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return emulatorStats{}, fmt.Errorf("read emulator stats: status %s: %s", resp.Status, body)
	}
	return parseStats(body)
}

// resetStats sets the emulator's request counters to zero.
func (e *emulator) resetStats(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/emulator/stats/reset", nil)
	if err != nil {
		return err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return fmt.Errorf("reset emulator stats: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("reset emulator stats: status %s", resp.Status)
	}
	return nil
}

// emulatorStats counts the requests an emulator served since its start or
// its last reset, as GET /emulator/stats returns them.
type emulatorStats struct {
	Requests    int            `json:"requests"`
	ByMethod    map[string]int `json:"byMethod"`
	ByStatus    map[int]int    `json:"byStatus"`    // responses sent, by HTTP status
	RateLimited int            `json:"rateLimited"` // responses with status 429
	Connections int            `json:"connections"` // connections stored at the time of the request
}

func parseStats(body []byte) (emulatorStats, error) {
	var s emulatorStats
	if err := json.Unmarshal(body, &s); err != nil {
		return emulatorStats{}, fmt.Errorf("decode emulator stats: %w", err)
	}
	return s, nil
}

// Writes returns the number of POST, PUT, PATCH and DELETE requests.
func (s emulatorStats) Writes() int {
	return s.ByMethod["POST"] + s.ByMethod["PUT"] + s.ByMethod["PATCH"] + s.ByMethod["DELETE"]
}
