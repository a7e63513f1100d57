package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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
