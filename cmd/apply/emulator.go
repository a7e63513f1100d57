package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apply-cli/apply/pkg/apply"
	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// Files of an --emulator run, under the working directory, so that a
// second run finds what the first one created.
const (
	emulatorDir       = ".apply-emulator"
	emulatorStatePath = emulatorDir + "/state.json"
	emulatorLockPath  = emulatorDir + "/apply.lock.json"
	emulatorKeyPath   = emulatorDir + "/lock.key"
	emulatorIgnore    = emulatorDir + "/.gitignore"
)

// emulatorIgnoreText is the .gitignore that keeps the emulator folder out
// of git in any repository, because its state file contains connection
// secrets in clear, from the variables of the runs.
const emulatorIgnoreText = "# Written by apply --emulator: state.json contains connection secrets in clear.\n*\n"

// Settings of an --emulator run. The emulator's port changes on every run,
// so the lock file records emulatorEndpoint instead of the URL.
const (
	emulatorEndpoint = "emulator"
	emulatorOrgID    = "EMULATOR0000000000000000@AdobeOrg"
	emulatorAPIKey   = "apply-emulator"
)

type emulatorOptions struct {
	listen           string
	state            string
	token            string
	seed             int64
	latency          time.Duration
	latencyJitter    time.Duration
	rateLimit        float64
	errorRate        float64
	lostResponseRate float64
	verbose          bool
}

func emulatorFlags(o *emulatorOptions) *flagSet {
	f := newFlagSet("emulator")
	f.stringVar(&o.listen, "127.0.0.1:8080", "<host:port>", "loopback address to listen on; port 0 picks a free one (default 127.0.0.1:8080)", "listen")
	f.stringVar(&o.state, "", "<file>", "file that keeps the emulator's connections, secrets included, across restarts; missing folders are created (default: memory only)", "state")
	f.stringVar(&o.token, "", "<token>", "the only access token to accept (default: any non-empty token)", "token")
	f.add((*int64Value)(&o.seed), "<n>", "seed of the random fault injection, for reproducible runs (default 0)", "seed")
	f.durationVar(&o.latency, 0, "<duration>", "latency added to every request (default 0)", "latency")
	f.durationVar(&o.latencyJitter, 0, "<duration>", "random extra latency, up to this much (default 0)", "latency-jitter")
	f.floatVar(&o.rateLimit, 0, "<n>", "requests per second before responding with 429 Too Many Requests (default 0, no limit)", "rate-limit")
	f.floatVar(&o.errorRate, 0, "<fraction>", "fraction of requests that fail with 500 or 503 before any effect, from 0 to 1 (default 0)", "error-rate")
	f.floatVar(&o.lostResponseRate, 0, "<fraction>", "fraction of successful writes whose response is dropped, from 0 to 1 (default 0)", "lost-response-rate")
	f.boolVar(&o.verbose, false, "log every request to stderr", "v", "verbose")
	return f
}

func emulatorCommand() *command {
	return &command{
		name:    "emulator",
		usage:   "emulator [flags]",
		summary: "serve an emulator of the Flow Service API on loopback",
		help: `Emulator serves an emulator of the Flow Service API and of the Adobe IMS
token endpoint over plain HTTP on a loopback address, for demos, tests and
trying out CI workflows. It prints the URL it listens on to stdout and
serves until interrupted.

Point apply at it with AEP_ENDPOINT set to that URL, any AEP_ACCESS_TOKEN
(or the --token value), any AEP_API_KEY and any AEP_ORG_ID.

Examples:
  # Serve on a free port, keeping state in a file:
  apply emulator --listen 127.0.0.1:0 --state emulator.json

  # Serve with faults, to see retries and recovery:
  apply emulator --error-rate 0.1 --lost-response-rate 0.05 --seed 7`,
		flags: func() *flagSet { return emulatorFlags(&emulatorOptions{}) },
		run:   runEmulator,
	}
}

func (o *emulatorOptions) validate() []string {
	var problems []string
	if err := checkLoopback(o.listen); err != nil {
		problems = append(problems, fmt.Sprintf("invalid --listen %q: %v", o.listen, err))
	}
	if o.latency < 0 || o.latencyJitter < 0 {
		problems = append(problems, "invalid --latency or --latency-jitter: want 0 or more")
	}
	if o.rateLimit < 0 {
		problems = append(problems, fmt.Sprintf("invalid --rate-limit %g: want 0 or more", o.rateLimit))
	}
	if o.errorRate < 0 || o.errorRate > 1 {
		problems = append(problems, fmt.Sprintf("invalid --error-rate %g: want a fraction from 0 to 1", o.errorRate))
	}
	if o.lostResponseRate < 0 || o.lostResponseRate > 1 {
		problems = append(problems, fmt.Sprintf("invalid --lost-response-rate %g: want a fraction from 0 to 1", o.lostResponseRate))
	}
	return problems
}

// checkLoopback accepts host:port addresses on loopback only, because the
// emulator speaks plain HTTP and accepts made-up credentials.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port")
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("want a loopback address such as 127.0.0.1:8080")
	}
	return nil
}

func runEmulator(ctx context.Context, e *env, args []string) error {
	o := &emulatorOptions{}
	f := emulatorFlags(o)
	problems, help := f.parse(args)
	if help {
		printCommandHelp(e.stdout, emulatorCommand())
		return nil
	}
	problems = append(problems, o.validate()...)
	if len(problems) > 0 {
		return &usageError{command: "emulator", problems: problems}
	}

	if o.state != "" {
		// The state contains connection secrets, so a folder made for it is
		// private to the user.
		if err := os.MkdirAll(filepath.Dir(o.state), 0o700); err != nil {
			return fmt.Errorf("emulator: create the folder of --state %s: %w", o.state, err)
		}
	}

	opts := emulator.Options{
		Token:            o.token,
		StatePath:        o.state,
		Seed:             o.seed,
		Latency:          o.latency,
		LatencyJitter:    o.latencyJitter,
		RateLimit:        o.rateLimit,
		ErrorRate:        o.errorRate,
		LostResponseRate: o.lostResponseRate,
		Logger:           newLogger(e.stderr, o.verbose),
	}
	tokenHint := "any non-empty AEP_ACCESS_TOKEN"
	if o.token != "" {
		tokenHint = "AEP_ACCESS_TOKEN set to the --token value"
	}
	ready := func(url string) {
		fmt.Fprintln(e.stdout, url)
		fmt.Fprintf(e.stderr, "apply: emulator serving on %s; use AEP_ENDPOINT=%s with %s, any AEP_API_KEY and AEP_ORG_ID; interrupt to stop\n", url, url, tokenHint)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
		case <-e.interrupts:
			fmt.Fprintln(e.stderr, "apply: emulator stopping")
			cancel()
		}
	}()
	if err := emulator.ListenAndServe(ctx, o.listen, opts, ready); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// emulatorServer is an emulator serving HTTP on loopback in the
// background.
type emulatorServer struct {
	url    string
	cancel context.CancelFunc
	done   chan error
}

// startEmulator starts an emulator on addr, which must be a loopback
// address. Port 0 picks a free port. It returns once the emulator listens.
func startEmulator(ctx context.Context, addr string, opts emulator.Options) (*emulatorServer, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &emulatorServer{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		s.done <- emulator.ListenAndServe(ctx, addr, opts, func(url string) { ready <- url })
	}()
	select {
	case s.url = <-ready:
		return s, nil
	case err := <-s.done:
		cancel()
		if err == nil {
			err = errors.New("stopped before listening")
		}
		return nil, fmt.Errorf("start emulator: %w", err)
	}
}

// close stops serving, waits for requests in flight and saves the state.
func (s *emulatorServer) close() error {
	s.cancel()
	return <-s.done
}

// connectEmulator starts the emulator of an --emulator run on a free
// loopback port, with its state and lock file under emulatorDir, and fills
// conn with a client and made-up credentials for it.
func connectEmulator(ctx context.Context, e *env, o *applyOptions, conn *connection, logger *slog.Logger) (*connection, error) {
	if err := os.MkdirAll(emulatorDir, 0o700); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}
	if err := writeEmulatorIgnore(); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}

	token := randomHex(16)
	// The emulator keeps serving after a second interrupt cancels ctx,
	// until conn.close, so that the cancelled requests still get responses.
	srv, err := startEmulator(context.WithoutCancel(ctx), "127.0.0.1:0", emulator.Options{
		Token:     token,
		StatePath: emulatorStatePath,
		Logger:    logger.With("component", "emulator"),
	})
	if err != nil {
		return nil, err
	}
	conn.close = func() {
		if err := srv.close(); err != nil {
			fmt.Fprintf(e.stderr, "apply: stop emulator: %v\n", err)
		}
	}

	sandbox := firstSet(o.sandbox, defaultSandbox)
	client, err := flowservice.New(flowservice.Config{
		Endpoint:  srv.url,
		APIKey:    emulatorAPIKey,
		OrgID:     emulatorOrgID,
		Sandbox:   sandbox,
		Token:     flowservice.StaticToken(token),
		RateLimit: o.rateLimit,
		Logger:    logger,
	})
	if err != nil {
		conn.close()
		return nil, err
	}
	conn.client = client
	conn.target = apply.Target{Endpoint: emulatorEndpoint, OrgID: emulatorOrgID, Sandbox: sandbox}
	conn.lockPath = firstSet(o.lockPath, emulatorLockPath)
	if conn.lockKey == nil {
		key, err := emulatorLockKey()
		if err != nil {
			conn.close()
			return nil, err
		}
		conn.lockKey = key
	}
	conn.placeholders = &placeholderEnv{lookupEnv: e.lookupEnv}
	fmt.Fprintf(e.stderr, "apply: using the emulator at %s (state in %s)\n", srv.url, emulatorStatePath)
	return conn, nil
}

// writeEmulatorIgnore writes the emulator folder's .gitignore unless the
// folder has one, which a user may have changed.
func writeEmulatorIgnore() error {
	f, err := os.OpenFile(filepath.FromSlash(emulatorIgnore), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString(emulatorIgnoreText)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// emulatorLockKey returns the lock key of --emulator runs without
// APPLY_LOCK_KEY, creating it on first use. It is random rather than
// fixed, so that the lock file's HMACs reveal nothing about real secrets
// given to an emulator run.
func emulatorLockKey() ([]byte, error) {
	data, err := os.ReadFile(emulatorKeyPath)
	if key := strings.TrimSpace(string(data)); err == nil && key != "" {
		if err := checkLockKey(key); err != nil {
			return nil, fmt.Errorf("invalid emulator lock key %s: %v; delete the file and the next --emulator run creates a new key", emulatorKeyPath, err)
		}
		return []byte(key), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read emulator lock key: %w", err)
	}
	key := randomHex(32)
	if err := os.WriteFile(filepath.FromSlash(emulatorKeyPath), []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write emulator lock key: %w", err)
	}
	return []byte(key), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b)
}

// placeholderEnv resolves variables for an --emulator run: a variable
// that is unset resolves to a fixed placeholder, so that the example
// manifests run with no setup and a second run finds no change. It is safe
// for concurrent use.
type placeholderEnv struct {
	lookupEnv lookupEnvFunc

	mu    sync.Mutex
	unset map[string]bool
}

// placeholderValue is the value an unset variable takes in an --emulator
// run.
func placeholderValue(name string) string {
	return "emulator-placeholder-" + strings.ToLower(name)
}

func (p *placeholderEnv) lookup(name string) (string, bool) {
	if v, ok := p.lookupEnv(name); ok {
		return v, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unset == nil {
		p.unset = make(map[string]bool)
	}
	p.unset[name] = true
	return placeholderValue(name), true
}

// warn writes one warning naming every variable that took a placeholder.
func (p *placeholderEnv) warn(w io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.unset) == 0 {
		return
	}
	names := make([]string, 0, len(p.unset))
	for n := range p.unset {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 1 {
		fmt.Fprintf(w, "warning: %s is unset, so this emulator run uses a placeholder value for it (set it to use a real value)\n", names[0])
		return
	}
	fmt.Fprintf(w, "warning: %s are unset, so this emulator run uses placeholder values for them (set them to use real values)\n", strings.Join(names, ", "))
}

// int64Value is an int64 flag.
type int64Value int64

func (i *int64Value) Set(s string) error {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != strings.TrimPrefix(s, "+") {
		return fmt.Errorf("want a whole number")
	}
	*i = int64Value(n)
	return nil
}
func (i *int64Value) String() string { return fmt.Sprint(int64(*i)) }
