package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/apply-cli/apply/internal/dbtest"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// canary is the secret that scripts plant in manifests through $CANARY.
// No output, log, plan or lock file may contain canaryMark, its distinctive
// part. Its ";", "$", "{" and "}" test that quoting never splits it.
// $CANARY_BRACED contains it with "}" doubled, as a connection string value
// inside braces needs.
const (
	canary       = "Canary-Secr3t;$x{y}-91f2"
	canaryBraced = "Canary-Secr3t;$x{y}}-91f2"
	canaryMark   = "Canary-Secr3t"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"apply": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)) },
	})
}

var updateScripts = flag.Bool("update-scripts", false, "rewrite the expected output in cmd/apply/testdata/script files")

// TestScripts runs the end-to-end scripts in testdata/script against the
// real command. Run with -update-scripts to rewrite expected files that a
// cmp command compares with stdout or stderr.
func TestScripts(t *testing.T) {
	repoRoot, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		UpdateScripts:       *updateScripts,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repoRoot)
			env.Setenv("CANARY", canary)
			env.Setenv("CANARY_BRACED", canaryBraced)
			// The scripts set what they need, so nothing leaks in from the
			// machine that runs the tests.
			for _, name := range []string{"GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR", "APPLY_LOCK_KEY"} {
				env.Setenv(name, "")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":          cmdExits,
			"emulator-start": cmdEmulatorStart,
			"emulator-stats": cmdEmulatorStats,
			"no-canary":      cmdNoCanary,
			"db-start":       cmdDBStart,
			"fill":           cmdFill,
		},
	})
}

// cmdExits runs a command and checks its exit status, one of a
// comma-separated list:
//
//	exits <status>[,<status>...] <command> [args...]
//
// stdout and stderr are kept for the stdout and stderr commands.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits <status>[,<status>...] <command> [args...]")
	}
	want := make(map[int]bool)
	for _, s := range strings.Split(args[0], ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			ts.Fatalf("exits: invalid status %q", s)
		}
		want[n] = true
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("exits: run %s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if !want[got] {
		ts.Fatalf("%s exited with status %d, want %s", args[1], got, args[0])
	}
}

// cmdEmulatorStart starts an emulator on loopback for the rest of the
// script and sets EMULATOR_URL to its base URL:
//
//	emulator-start [-token T] [-error-rate F] [-lost-response-rate F] [-latency D] [-seed N] [-reject-writes]
//
// The emulator keeps its state in memory. With -reject-writes, every POST,
// PATCH and DELETE reaches the emulator with an empty body, so that reads
// (and so planning) succeed and every action fails with the emulator's own
// 400 response.
func cmdEmulatorStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emulator-start")
	}
	fs := flag.NewFlagSet("emulator-start", flag.ContinueOnError)
	var opts emulator.Options
	fs.StringVar(&opts.Token, "token", "", "accepted access token")
	fs.Float64Var(&opts.ErrorRate, "error-rate", 0, "fraction of requests failed with 500 or 503")
	fs.Float64Var(&opts.LostResponseRate, "lost-response-rate", 0, "fraction of write responses dropped")
	fs.DurationVar(&opts.Latency, "latency", 0, "latency per request")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed of the faults")
	rejectWrites := fs.Bool("reject-writes", false, "send every write to the emulator with an empty body")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("emulator-start: %v", err)
	}
	emu, err := emulator.New(opts)
	ts.Check(err)
	var handler http.Handler = emu
	if *rejectWrites {
		handler = emptyWriteBodies(emu)
	}
	srv := httptest.NewServer(handler)
	ts.Defer(func() {
		srv.Close()
		emu.Close()
	})
	ts.Setenv("EMULATOR_URL", srv.URL)
}

// emptyWriteBodies passes requests to next, with the body of every POST,
// PATCH and DELETE removed.
func emptyWriteBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPatch, http.MethodDelete:
			io.Copy(io.Discard, r.Body)
			r.Body = http.NoBody
			r.ContentLength = 0
		}
		next.ServeHTTP(w, r)
	})
}

// cmdDBStart starts a throwaway MariaDB server for the rest of the script,
// with a database "shop" and a user "aep" whose password is the canary:
//
//	db-start [-tls]
//
// It sets DB_PORT to the server's port on 127.0.0.1 and DB_VERSION to its
// version number, such as 10.11.14. With -tls the server offers TLS, and
// a user "secure", also with the canary as its password, is created
// REQUIRE SSL.
func cmdDBStart(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("db-start", flag.ContinueOnError)
	withTLS := fs.Bool("tls", false, "offer TLS and create a user that requires it")
	if neg || fs.Parse(args) != nil || fs.NArg() > 0 {
		ts.Fatalf("usage: db-start [-tls]")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := dbtest.Start(ctx, dbtest.Options{TLS: *withTLS})
	ts.Check(err)
	ts.Defer(func() { srv.Stop() })
	statements := []string{
		"CREATE DATABASE shop",
		"CREATE USER 'aep'@'%' IDENTIFIED BY '" + canary + "'",
		"GRANT ALL ON shop.* TO 'aep'@'%'",
	}
	if *withTLS {
		statements = append(statements,
			"CREATE USER 'secure'@'%' IDENTIFIED BY '"+canary+"' REQUIRE SSL",
			"GRANT ALL ON shop.* TO 'secure'@'%'",
		)
	}
	ts.Check(srv.Exec(ctx, statements...))
	ts.Setenv("DB_PORT", strconv.Itoa(srv.Port))
	version, _, _ := strings.Cut(srv.Version, "-") // "10.11.14-MariaDB-0+deb12u1"
	ts.Setenv("DB_VERSION", version)
}

// cmdFill replaces every @NAME@ in the given files with the value of the
// variable NAME, and fails when one is unset:
//
//	fill <file>...
//
// Manifests use it for values that a script only learns while it runs,
// such as a port, which written as ${NAME} would be a variable that the
// command resolves itself.
func cmdFill(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: fill <file>...")
	}
	for _, name := range args {
		path := ts.MkAbs(name)
		data, err := os.ReadFile(path)
		ts.Check(err)
		filled := fillPattern.ReplaceAllStringFunc(string(data), func(m string) string {
			v := ts.Getenv(strings.Trim(m, "@"))
			if v == "" {
				ts.Fatalf("fill %s: %s is not set", name, m)
			}
			return v
		})
		ts.Check(os.WriteFile(path, []byte(filled), 0o644))
	}
}

var fillPattern = regexp.MustCompile(`@[A-Z][A-Z0-9_]*@`)

// cmdEmulatorStats writes the statistics of the emulator at EMULATOR_URL
// to stdout, as JSON with sorted keys, for the stdout command to match.
func cmdEmulatorStats(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emulator-stats")
	}
	resp, err := httpGet(ts.Getenv("EMULATOR_URL") + emulator.StatsPath)
	ts.Check(err)
	var stats map[string]any
	ts.Check(json.Unmarshal(resp, &stats))
	out, err := json.Marshal(stats)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%s\n", out)
}

// cmdNoCanary fails if any file under the given directories (default the
// work directory), or the last command's stdout or stderr, contains the
// canary secret. The emulator's own state file is left out, because it is
// the emulated service's storage, which contains connection secrets by
// design.
func cmdNoCanary(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! no-canary")
	}
	dirs := args
	if len(dirs) == 0 {
		dirs = []string{ts.Getenv("WORK")}
	}
	for _, stream := range []string{"stdout", "stderr"} {
		if strings.Contains(ts.ReadFile(stream), canaryMark) {
			ts.Fatalf("the last command's %s contains the canary secret", stream)
		}
	}
	checked := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(ts.MkAbs(dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if filepath.Base(path) == "state.json" && filepath.Base(filepath.Dir(path)) == emulatorDir {
				return nil
			}
			if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
				return nil // the manifests and secret fixtures themselves
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			checked++
			if bytes.Contains(data, []byte(canaryMark)) {
				ts.Fatalf("%s contains the canary secret", path)
			}
			return nil
		})
		ts.Check(err)
	}
	ts.Logf("no-canary: checked %d files", checked)
}

func httpGet(url string) ([]byte, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
