package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// mapEnv returns a lookup function over vars, standing in for the process
// environment.
func mapEnv(vars map[string]string) lookupEnvFunc {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, exitOK},
		{"failure", errors.New("boom"), exitError},
		{"failure already shown", errShown, exitError},
		{"usage error", &usageError{problems: []string{"bad"}}, exitUsage},
		{"wrapped usage error", fmt.Errorf("run: %w", &usageError{}), exitUsage},
		{"usage printed", errUsageShown, exitUsage},
		{"changes pending", errChangesPending, exitChanges},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestWorkflowCommandEscaping(t *testing.T) {
	tests := []struct {
		in, data, property string
	}{
		{"plain", "plain", "plain"},
		{"100% done", "100%25 done", "100%25 done"},
		{"two\nlines\r", "two%0Alines%0D", "two%0Alines%0D"},
		{"a:b,c", "a:b,c", "a%3Ab%2Cc"},
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.property {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.property)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	o := &applyOptions{}
	f := applyFlags(o)
	problems, help := f.parse([]string{"---x", "--parallelism", "x", "stray", "-f", "a", "--nope", "-f", "b"})
	if help {
		t.Fatal("parse reported a help request")
	}
	want := []string{
		"bad flag syntax: ---x",
		`invalid value "x" for flag -parallelism: want a whole number`,
		`unexpected argument "stray": manifest paths are given with -f`,
		"flag provided but not defined: -nope",
	}
	if strings.Join(problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("parse problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
	if got := strings.Join(o.paths, ","); got != "a,b" {
		t.Errorf("paths = %q, want the -f values on both sides of the errors, a,b", got)
	}
}

// TestEmulatorCommandServesUntilInterrupt starts "apply emulator" on a free
// port, reads the URL from stdout, calls the emulator, and stops it with
// an interrupt.
func TestEmulatorCommandServesUntilInterrupt(t *testing.T) {
	stdoutR, stdoutW := io.Pipe()
	interrupts := make(chan os.Signal, 1)
	var stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: stdoutW, stderr: &stderr, lookupEnv: mapEnv(nil), interrupts: interrupts}
	status := make(chan int, 1)
	go func() {
		status <- runEnv(context.Background(), e, []string{"emulator", "--listen", "127.0.0.1:0"})
		stdoutW.Close()
	}()

	url, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("read URL from stdout: %v", err)
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("stdout = %q, want the emulator URL on 127.0.0.1", url)
	}
	resp, err := http.Get(url + "/emulator/stats")
	if err != nil {
		t.Fatalf("GET stats: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET stats: %s, want 200 OK", resp.Status)
	}

	go io.Copy(io.Discard, stdoutR)
	interrupts <- syscall.SIGINT
	select {
	case got := <-status:
		if got != exitOK {
			t.Errorf("apply emulator exited %d after an interrupt, want 0; stderr:\n%s", got, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("apply emulator still runs 10s after an interrupt")
	}
}

// TestEmulatorStateInNewFolder starts "apply emulator" with --state in a
// folder that does not exist: the folder is created, private to the user,
// and the state is saved there when the emulator stops.
func TestEmulatorStateInNewFolder(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "new", "folder", "state.json")
	stdoutR, stdoutW := io.Pipe()
	interrupts := make(chan os.Signal, 1)
	var stderr syncBuffer
	e := &env{stdin: strings.NewReader(""), stdout: stdoutW, stderr: &stderr, lookupEnv: mapEnv(nil), interrupts: interrupts}
	status := make(chan int, 1)
	go func() {
		status <- runEnv(context.Background(), e, []string{"emulator", "--listen", "127.0.0.1:0", "--state", statePath})
		stdoutW.Close()
	}()

	url, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("read URL from stdout: %v; stderr:\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, stdoutR)

	// Create a connection, so that there is state to save.
	dir := t.TempDir()
	manifest := `name: orders
connectionSpec:
  id: 26d738e0-8963-47ea-aadf-c60de735468a
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: orders.example.com
    database: orders
    username: aep
    password: test-password
`
	if err := os.WriteFile(filepath.Join(dir, "orders.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := mapEnv(map[string]string{
		"AEP_ENDPOINT":     strings.TrimSpace(url),
		"AEP_ACCESS_TOKEN": "token",
		"AEP_API_KEY":      "key",
		"AEP_ORG_ID":       "ORG@AdobeOrg",
	})
	var applyOut, applyErr bytes.Buffer
	applyEnv := &env{stdin: strings.NewReader(""), stdout: &applyOut, stderr: &applyErr, lookupEnv: vars}
	if got := runEnv(context.Background(), applyEnv, []string{"-f", dir, "--lock", filepath.Join(dir, "apply.lock.json")}); got != exitOK {
		t.Fatalf("apply against the emulator exited %d; stderr:\n%s", got, applyErr.String())
	}
	interrupts <- syscall.SIGINT
	select {
	case got := <-status:
		if got != exitOK {
			t.Fatalf("apply emulator exited %d, want 0; stderr:\n%s", got, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("apply emulator still runs 10s after an interrupt")
	}

	info, err := os.Stat(filepath.Dir(statePath))
	if err != nil {
		t.Fatalf("stat the state folder: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("state folder permissions = %v, want 0700", perm)
	}
	state, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatalf("read the state file after the emulator stopped: %v", err)
	}
	if !strings.Contains(string(state), `"orders"`) {
		t.Errorf("state file lacks the connection created:\n%s", state)
	}
}

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (control, terminal *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { control.Close() })
	if err := unix.IoctlSetPointerInt(int(control.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(control.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("name pseudo-terminal: %v", err)
	}
	terminal, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { terminal.Close() })
	return control, terminal
}

// TestColorOnlyOnTerminal plans offline with stdout on a real
// pseudo-terminal, with and without NO_COLOR, and into a pipe.
func TestColorOnlyOnTerminal(t *testing.T) {
	dir := t.TempDir()
	manifest := `name: orders
connectionSpec:
  id: 26d738e0-8963-47ea-aadf-c60de735468a
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: orders.example.com
    database: orders
    username: aep
    password: ${DB_PASSWORD}
`
	if err := os.WriteFile(filepath.Join(dir, "orders.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", dir, "--dry-run", "--refresh=false", "--lock", filepath.Join(dir, "apply.lock.json")}

	tests := []struct {
		name      string
		terminal  bool
		noColor   string
		wantColor bool
	}{
		{"terminal", true, "", true},
		{"terminal with NO_COLOR", true, "1", false},
		{"pipe", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"DB_PASSWORD": "x", "NO_COLOR": tt.noColor}
			var stderr bytes.Buffer
			var out string
			if tt.terminal {
				control, terminal := openPTY(t)
				read := make(chan string, 1)
				go func() {
					var b bytes.Buffer
					io.Copy(&b, control) // ends with EIO once the terminal is closed
					read <- b.String()
				}()
				status := runEnv(context.Background(), &env{stdin: strings.NewReader(""), stdout: terminal, stderr: &stderr, lookupEnv: mapEnv(vars)}, args)
				if status != exitOK {
					t.Fatalf("apply exited %d; stderr:\n%s", status, stderr.String())
				}
				terminal.Close()
				out = <-read
			} else {
				var stdout bytes.Buffer
				status := runEnv(context.Background(), &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: mapEnv(vars)}, args)
				if status != exitOK {
					t.Fatalf("apply exited %d; stderr:\n%s", status, stderr.String())
				}
				out = stdout.String()
			}
			if !strings.Contains(out, "Plan: 1 to create") {
				t.Errorf("output lacks the plan summary:\n%q", out)
			}
			if got := strings.Contains(out, "\x1b["); got != tt.wantColor {
				t.Errorf("output has colour = %v, want %v:\n%q", got, tt.wantColor, out)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestApplyInterrupt interrupts an apply once its first action finished:
// the run stops starting actions, writes the lock file and exits 1, and
// the next run creates the rest without duplicates.
func TestApplyInterrupt(t *testing.T) {
	emu, err := emulator.New(emulator.Options{Latency: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})

	dir := t.TempDir()
	const manifests = 40
	for i := range manifests {
		m := fmt.Sprintf(`name: conn-%02d
connectionSpec:
  id: 26d738e0-8963-47ea-aadf-c60de735468a
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: db%02d.example.com
    database: d
    username: u
    password: ${DB_PASSWORD}
`, i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("conn-%02d.yaml", i)), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lockPath := filepath.Join(dir, "apply.lock.json")
	vars := mapEnv(map[string]string{
		"AEP_ENDPOINT":     srv.URL,
		"AEP_ACCESS_TOKEN": "token",
		"AEP_API_KEY":      "key",
		"AEP_ORG_ID":       "ORG@AdobeOrg",
		"DB_PASSWORD":      canary,
		"APPLY_LOCK_KEY":   "test-lock-key-of-32-bytes-or-more",
	})
	args := []string{"-f", dir, "--lock", lockPath, "--parallelism", "2"}

	var stdout, stderr syncBuffer
	interrupts := make(chan os.Signal, 2)
	status := make(chan int, 1)
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: vars, interrupts: interrupts}
		status <- runEnv(context.Background(), e, args)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "created conn-") {
		if time.Now().After(deadline) {
			t.Fatalf("no action finished within 20s; stderr:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	interrupts <- syscall.SIGINT

	if got := <-status; got != exitError {
		t.Errorf("interrupted apply exited %d, want %d", got, exitError)
	}
	if !strings.Contains(stdout.String(), "Apply interrupted: ") {
		t.Errorf("stdout lacks the interrupted summary:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "interrupt received") {
		t.Errorf("stderr does not acknowledge the interrupt:\n%s", stderr.String())
	}
	created := emu.Stats().Connections
	if created == 0 || created >= manifests {
		t.Errorf("after the interrupt the emulator holds %d connections, want some but fewer than %d", created, manifests)
	}
	lock, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatalf("read lock file after the interrupt: %v", err)
	}
	var doc struct {
		Connections []struct {
			ID      string `json:"id"`
			Pending bool   `json:"pending"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(lock, &doc); err != nil {
		t.Fatalf("decode lock file: %v", err)
	}
	recorded := 0
	for _, c := range doc.Connections {
		if c.ID != "" && !c.Pending {
			recorded++
		}
	}
	// Running actions finish before the lock file is written, so it
	// records every connection that exists.
	if recorded != created {
		t.Errorf("lock file records %d connection ids, want the %d created", recorded, created)
	}

	// The next run completes the rest, with no duplicate.
	var stdout2, stderr2 syncBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout2, stderr: &stderr2, lookupEnv: vars}
	if got := runEnv(context.Background(), e, args); got != exitOK {
		t.Fatalf("second apply exited %d; stderr:\n%s", got, stderr2.String())
	}
	if got := emu.Stats().Connections; got != manifests {
		t.Errorf("after the second run the emulator holds %d connections, want %d", got, manifests)
	}
	for _, out := range []string{stdout.String(), stderr.String(), stdout2.String(), stderr2.String(), string(lock)} {
		if strings.Contains(out, canaryMark) {
			t.Errorf("output contains the canary secret:\n%s", out)
		}
	}
}

// TestApplySecondInterrupt interrupts an apply twice while requests are in
// flight. The second interrupt cancels them, and the result line still
// reports that the run was interrupted, as the README states.
func TestApplySecondInterrupt(t *testing.T) {
	emu, err := emulator.New(emulator.Options{Latency: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})

	dir := t.TempDir()
	const manifests = 20
	for i := range manifests {
		m := fmt.Sprintf(`name: conn-%02d
connectionSpec:
  id: 26d738e0-8963-47ea-aadf-c60de735468a
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: db%02d.example.com
    database: d
    username: u
    password: test-password
`, i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("conn-%02d.yaml", i)), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vars := mapEnv(map[string]string{
		"AEP_ENDPOINT":     srv.URL,
		"AEP_ACCESS_TOKEN": "token",
		"AEP_API_KEY":      "key",
		"AEP_ORG_ID":       "ORG@AdobeOrg",
	})
	args := []string{"-f", dir, "--lock", filepath.Join(dir, "apply.lock.json"), "--parallelism", "4"}

	var stdout, stderr syncBuffer
	interrupts := make(chan os.Signal, 2)
	status := make(chan int, 1)
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: vars, interrupts: interrupts}
		status <- runEnv(context.Background(), e, args)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "created conn-") {
		if time.Now().After(deadline) {
			t.Fatalf("no action finished within 20s; stderr:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The first interrupt lets the running creates finish. The second,
	// sent while they wait on the emulator's latency, cancels them.
	interrupts <- syscall.SIGINT
	for !strings.Contains(stderr.String(), "interrupt again to cancel") {
		time.Sleep(time.Millisecond)
	}
	interrupts <- syscall.SIGINT

	if got := <-status; got != exitError {
		t.Errorf("apply interrupted twice exited %d, want %d", got, exitError)
	}
	if !strings.Contains(stderr.String(), "apply: interrupt received; cancelling") {
		t.Fatalf("stderr does not acknowledge the second interrupt:\n%s", stderr.String())
	}
	var resultLine string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "Apply ") {
			resultLine = line
		}
	}
	if !strings.HasPrefix(resultLine, "Apply interrupted: ") {
		t.Errorf("result line = %q, want it to start with \"Apply interrupted: \"; stderr:\n%s", resultLine, stderr.String())
	}
}

// TestApplyShowsPendingWait leaves the pending entry of a create that a
// killed run sent a moment ago: the next apply prints that it waits for
// that create, for the --pending-grace given, then creates the connection.
func TestApplyShowsPendingWait(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})

	dir := t.TempDir()
	manifestDir := filepath.Join(dir, "connections")
	if err := os.Mkdir(manifestDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeManifest := func(name string) {
		t.Helper()
		m := fmt.Sprintf(`name: %s
connectionSpec:
  id: 26d738e0-8963-47ea-aadf-c60de735468a
  version: "1.0"
auth:
  specName: Basic Authentication
  params:
    server: %s.example.com
    database: d
    username: u
    password: ${DB_PASSWORD}
`, name, name)
		if err := os.WriteFile(filepath.Join(manifestDir, name+".yaml"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lockPath := filepath.Join(dir, "apply.lock.json")
	vars := mapEnv(map[string]string{
		"AEP_ENDPOINT":     srv.URL,
		"AEP_ACCESS_TOKEN": "token",
		"AEP_API_KEY":      "key",
		"AEP_ORG_ID":       "ORG@AdobeOrg",
		"DB_PASSWORD":      canary,
	})
	runApply := func(args ...string) (stdout, stderr string) {
		t.Helper()
		var out, errOut syncBuffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, lookupEnv: vars}
		args = append([]string{"-f", manifestDir, "--lock", lockPath}, args...)
		if got := runEnv(context.Background(), e, args); got != exitOK {
			t.Fatalf("apply %q exited %d; stderr:\n%s", args, got, errOut.String())
		}
		return out.String(), errOut.String()
	}

	// A first run records "first". Then "second" is marked pending, as a
	// run that was killed right after sending its create leaves it.
	writeManifest("first")
	runApply()
	lock, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(lock, &doc); err != nil {
		t.Fatalf("decode lock file: %v", err)
	}
	doc["connections"] = append(doc["connections"].([]any), map[string]any{
		"name":           "second",
		"connectionSpec": map[string]any{"id": "26d738e0-8963-47ea-aadf-c60de735468a", "version": "1.0"},
		"authSpecName":   "Basic Authentication",
		"digest":         "sha256:0000",
		"pending":        true,
		"pendingSince":   time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	})
	lock, err = json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lockPath, lock, 0o644); err != nil {
		t.Fatal(err)
	}
	writeManifest("second")

	stdout, stderr := runApply("--pending-grace", "300ms")
	// The wait is what is left of the 300ms grace period, in milliseconds.
	// pkg/apply words the run that left the pending entry either way.
	notice := regexp.MustCompile(`(?m)^apply: waiting \d+ms for the creates of an (interrupted|earlier) run to land \(1 pending connection not listed yet\)$`)
	if !notice.MatchString(stderr) {
		t.Errorf("stderr lacks a notice of a wait shorter than the 300ms grace period:\n%s", stderr)
	}
	if strings.Contains(stdout, "waiting") {
		t.Errorf("stdout carries the notice of the wait, which belongs on stderr:\n%s", stdout)
	}
	if !strings.Contains(stderr, "created second") {
		t.Errorf("stderr does not show that second was created after the wait:\n%s", stderr)
	}
	if got := emu.Stats().Connections; got != 2 {
		t.Errorf("emulator holds %d connections, want 2", got)
	}
	if strings.Contains(stdout+stderr, canaryMark) {
		t.Errorf("output contains the canary secret:\n%s\n%s", stdout, stderr)
	}
}

// TestVerboseRunRestoresDefaultLogger runs commands that make their -v
// logger the default slog logger, which pkg/verify logs through. It checks
// that the default logger and the log package write where they did before
// once the run ends, because tests run many commands in one process.
func TestVerboseRunRestoresDefaultLogger(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	dir := t.TempDir()
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "connections", "postgresql-basic-auth.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "customers.yaml"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	vars := mapEnv(map[string]string{
		"AEP_ENDPOINT":                  srv.URL,
		"AEP_ACCESS_TOKEN":              "token",
		"AEP_API_KEY":                   "key",
		"AEP_ORG_ID":                    "ORG@AdobeOrg",
		"POSTGRESQL_CUSTOMERS_PASSWORD": canary,
	})

	output, flags := log.Writer(), log.Flags()
	t.Cleanup(func() {
		log.SetOutput(output)
		log.SetFlags(flags)
	})
	tests := []struct {
		name string
		args []string
	}{
		{"verify", []string{"verify", "-v", "-f", dir}},
		{"apply with --verify", []string{"-f", dir, "--lock", filepath.Join(dir, "apply.lock.json"), "--dry-run", "--verify", "-v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged bytes.Buffer
			log.SetOutput(&logged)
			before := slog.Default()

			var stdout, stderr syncBuffer
			e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: vars}
			if got := runEnv(context.Background(), e, tt.args); got != exitOK {
				t.Fatalf("apply %q exited %d; stderr:\n%s", tt.args, got, stderr.String())
			}
			if !strings.Contains(stderr.String(), "level=DEBUG") {
				t.Fatalf("stderr has no debug log, so the test proves nothing:\n%s", stderr.String())
			}

			if slog.Default() != before {
				t.Error("the default slog logger is still the run's -v logger")
			}
			slog.Info("slog after the run")
			log.Print("log after the run")
			for _, line := range []string{"slog after the run", "log after the run"} {
				if !strings.Contains(logged.String(), line) {
					t.Errorf("%q did not reach the log package's output of before the run", line)
				}
				if strings.Contains(stderr.String(), line) {
					t.Errorf("%q reached the stderr of a run that has ended", line)
				}
			}
		})
	}
}
