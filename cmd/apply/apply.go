package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/apply-cli/apply/pkg/apply"
	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/spec"
)

// defaultLockPath is the lock file of a run against a real endpoint,
// relative to the working directory.
const defaultLockPath = "apply.lock.json"

// applyOptions are the flags of the apply command.
type applyOptions struct {
	paths            pathList
	dryRun           bool
	parallelism      int
	prune            bool
	allowReplace     bool
	updateSecrets    bool
	failFast         bool
	refresh          bool
	lockPath         string
	lockTimeout      time.Duration
	pendingGrace     time.Duration
	output           formatValue
	outputFiles      outputFileList
	detailedExitcode bool
	endpoint         string
	sandbox          string
	org              string
	rateLimit        float64
	verify           bool
	verifyTimeout    time.Duration
	emulator         bool
	allowUnresolved  bool
	verbose          bool
}

func applyFlags(o *applyOptions) *flagSet {
	f := newFlagSet("apply")
	f.add(&o.paths, "<path>", "manifest file or directory of manifests; repeat for several (required)", "f", "filename")
	f.boolVar(&o.dryRun, false, "print the plan and change nothing, neither remotely nor in the lock file", "dry-run")
	f.intVar(&o.parallelism, apply.DefaultParallelism, "<n>", "maximum number of concurrent API requests (default 10)", "parallelism")
	f.boolVar(&o.prune, false, "delete connections recorded in the lock file that no manifest declares", "prune")
	f.boolVar(&o.allowReplace, false, "replace connections whose connection spec changed (create a connection with a new id, then delete the old one)", "allow-replace")
	f.boolVar(&o.updateSecrets, false, "send sensitive params even when no change is detected", "update-secrets")
	f.boolVar(&o.failFast, false, "start no new action after the first failure", "fail-fast")
	f.boolVar(&o.refresh, true, "read the remote state while planning; --refresh=false plans offline from the lock file (only with --dry-run; default true)", "refresh")
	f.stringVar(&o.lockPath, "", "<file>", "lock file (default "+defaultLockPath+", or "+emulatorLockPath+" with --emulator)", "lock")
	f.durationVar(&o.lockTimeout, 30*time.Second, "<duration>", "how long to wait for another run to release the lock file (default 30s)", "lock-timeout")
	f.durationVar(&o.pendingGrace, apply.DefaultPendingGrace, "<duration>", "how long to wait for creates of an earlier run to appear before creating them again (default 60s)", "pending-grace")
	f.add(&o.output, "{text|json|markdown}", "form of the result written to stdout (default text)", "o", "output")
	f.add(&o.outputFiles, "<format>=<file>", "also write the result in this form to a file, such as markdown=plan.md; repeat for several", "output-file")
	f.boolVar(&o.detailedExitcode, false, fmt.Sprintf("with --dry-run, exit %d when the plan has changes and 0 when it has none", exitChanges), "detailed-exitcode")
	f.stringVar(&o.endpoint, "", "<url>", "Flow Service gateway URL (default $"+envEndpoint+" or "+defaultEndpoint+")", "endpoint")
	f.stringVar(&o.sandbox, "", "<name>", "sandbox name (default $"+envSandbox+" or "+defaultSandbox+")", "sandbox")
	f.stringVar(&o.org, "", "<id>", "IMS organization id (default $"+envOrgID+")", "org")
	f.floatVar(&o.rateLimit, 0, "<n>", "maximum API requests per second (default 0, no limit)", "rate-limit")
	f.boolVar(&o.verify, false, "check MySQL and MariaDB sources against the real database before planning, and stop if one fails", "verify")
	f.durationVar(&o.verifyTimeout, 10*time.Second, "<duration>", "connect timeout of each --verify check (default 10s)", "verify-timeout")
	f.boolVar(&o.emulator, false, "run against an in-process emulator whose state persists in "+emulatorDir+"/; needs no account", "emulator")
	f.boolVar(&o.allowUnresolved, false, "with --dry-run, plan even when variables that manifests reference are unset, showing them as unresolved", "allow-unresolved")
	f.boolVar(&o.verbose, false, "write debug logs to stderr (secrets and tokens are never logged)", "v", "verbose")
	return f
}

func applyCommand() *command {
	return &command{
		name:    "apply",
		usage:   "-f <path>... [flags]",
		summary: "plan and apply connection manifests (the default command)",
		help: `Apply compares the manifests with the lock file and the connections in
Adobe Experience Platform, prints the plan, then creates, updates, adopts,
renames and (with --prune and --allow-replace) deletes and replaces
connections to match. The lock file maps each manifest name to its
connection id.

Exit status: 0 success; 1 failure, including a partial apply and invalid
manifests; 2 invalid command line; 3 changes pending (only with
--dry-run --detailed-exitcode).

The result (the plan and the summary, or the JSON or Markdown document)
is written to stdout; progress, warnings, logs and errors go to stderr.
A run that fails before it has a plan writes its errors to every
--output-file and the job summary instead, and with -o json to stdout
too. The JSON form is then a failure document with no summary and no
actions: {"formatVersion": 1, "dryRun": <bool>, "error": true,
"errors": [<one line per error>]}.

Examples:
  # Try it against the built-in emulator, with no account:
  apply -f examples/connections/ --emulator

  # Show what would change:
  apply -f connections/ --dry-run

  # Plan for a pull request: text to the log, Markdown for a comment:
  apply -f connections/ --dry-run --output-file markdown=plan.md

  # Plan offline from the lock file, without credentials:
  apply -f connections/ --dry-run --refresh=false --allow-unresolved

  # Apply, deleting connections whose manifests were removed:
  apply -f connections/ --prune`,
		flags: func() *flagSet { return applyFlags(&applyOptions{}) },
		run:   runApply,
	}
}

// validate checks the options against each other and returns every
// problem found.
func (o *applyOptions) validate(f *flagSet) []string {
	var problems []string
	if len(o.paths) == 0 {
		problems = append(problems, "missing -f: name at least one manifest file or directory")
	}
	if o.parallelism < 1 {
		problems = append(problems, fmt.Sprintf("invalid --parallelism %d: want at least 1", o.parallelism))
	}
	if o.lockTimeout < 0 {
		problems = append(problems, fmt.Sprintf("invalid --lock-timeout %s: want 0 or more", o.lockTimeout))
	}
	if o.pendingGrace <= 0 {
		problems = append(problems, fmt.Sprintf("invalid --pending-grace %s: want more than 0", o.pendingGrace))
	}
	if o.rateLimit < 0 {
		problems = append(problems, fmt.Sprintf("invalid --rate-limit %g: want 0 (no limit) or more requests per second", o.rateLimit))
	}
	if o.verifyTimeout <= 0 {
		problems = append(problems, fmt.Sprintf("invalid --verify-timeout %s: want more than 0", o.verifyTimeout))
	}

	// Flags that need another flag, or exclude one.
	if !o.refresh && !o.dryRun {
		problems = append(problems, "--refresh=false needs --dry-run: applying needs the remote state")
	}
	if o.detailedExitcode && !o.dryRun {
		problems = append(problems, "--detailed-exitcode needs --dry-run")
	}
	if o.allowUnresolved && !o.dryRun {
		problems = append(problems, "--allow-unresolved needs --dry-run: applying needs every value")
	}
	if o.allowUnresolved && o.verify {
		problems = append(problems, "--allow-unresolved and --verify cannot be combined: verifying needs every value")
	}
	if o.emulator && o.endpoint != "" {
		problems = append(problems, "--emulator and --endpoint cannot be combined")
	}
	if o.emulator && !o.refresh {
		problems = append(problems, "--emulator and --refresh=false cannot be combined")
	}
	if f.isSet("verify-timeout") && !o.verify {
		problems = append(problems, "--verify-timeout needs --verify")
	}
	seen := make(map[string]bool)
	for _, of := range o.outputFiles {
		if seen[of.path] {
			problems = append(problems, fmt.Sprintf("--output-file names %s twice", of.path))
		}
		seen[of.path] = true
	}
	return problems
}

func runApply(ctx context.Context, e *env, args []string) error {
	o := &applyOptions{output: formatValue(apply.FormatText)}
	f := applyFlags(o)
	problems, help := f.parse(args)
	if help {
		printCommandHelp(e.stdout, applyCommand())
		return nil
	}
	problems = append(problems, o.validate(f)...)
	// The overwrite check runs first, because checkOutputFiles opens, and
	// so may create, each output file that passes it.
	targetProblems, writable := checkOutputTargets(o)
	problems = append(problems, targetProblems...)
	problems = append(problems, checkOutputFiles(writable)...)
	problems = append(problems, checkStepSummary(e)...)
	if len(problems) > 0 {
		return &usageError{command: "apply", problems: problems}
	}
	if o.output == "" {
		o.output = formatValue(apply.FormatText)
	}
	out := newResultWriter(e, o)
	err := applyManifests(ctx, e, o, out)
	if err != nil && !out.written && !errors.Is(err, errChangesPending) {
		// The run stopped before it had a plan to show. Every output
		// gets the errors instead, so that a pull-request comment built
		// from one explains why there is no plan, and no file is left
		// with the result of an earlier run.
		if werr := out.writeFailure(err); werr != nil {
			fmt.Fprintf(e.stderr, "apply: %v\n", werr)
		}
	}
	return err
}

// applyManifests runs the apply command with valid options and writes
// the result through out.
func applyManifests(ctx context.Context, e *env, o *applyOptions, out *resultWriter) error {
	logger := newLogger(e.stderr, o.verbose)

	// Settle where the run goes and with which credentials, before any
	// file is read or any request is sent.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	interrupted := watchInterrupts(e, stop, cancel)
	defer interrupted.release()
	conn, err := connect(ctx, e, o, logger)
	if err != nil {
		return err
	}
	defer conn.close()

	// Load and validate the manifests.
	lookup := e.lookupEnv
	if o.emulator {
		lookup = conn.placeholders.lookup
	}
	loaded, err := loadManifests(e, o.paths, spec.LoadOptions{LookupEnv: lookup, AllowUnresolved: o.allowUnresolved, Logger: logger})
	if err != nil {
		return err
	}
	if o.emulator {
		conn.placeholders.warn(e.stderr)
	}

	if o.verify {
		if o.verbose {
			defer setDefaultLogger(logger)()
		}
		if err := verifyManifests(ctx, e, loaded.Manifests, o.parallelism, o.verifyTimeout); err != nil {
			return err
		}
	}

	// Plan.
	session, err := apply.Open(ctx, apply.Config{
		Client:        conn.client,
		Target:        conn.target,
		LockPath:      conn.lockPath,
		LockTimeout:   o.lockTimeout,
		LockKey:       conn.lockKey,
		PendingGrace:  o.pendingGrace,
		Parallelism:   o.parallelism,
		Prune:         o.prune,
		AllowReplace:  o.allowReplace,
		UpdateSecrets: o.updateSecrets,
		FailFast:      o.failFast,
		Refresh:       o.refresh,
		DryRun:        o.dryRun,
		Logger:        logger,
		OnEvent:       conn.progress.event,
	})
	if err != nil {
		return err
	}
	defer session.Close()

	plan, planErr := session.Plan(ctx, loaded.Manifests)
	if plan == nil {
		return planErr
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	annotatePlan(e, plan)
	// The manifest warnings were printed and annotated while loading.
	// They join the rendered plan here, so that a pull-request comment
	// built from the Markdown shows them too.
	plan.Warnings = append(manifestWarnings(loaded), plan.Warnings...)
	if o.dryRun || planErr != nil {
		if err := out.write(plan, nil); err != nil {
			return err
		}
		if planErr != nil {
			return planErr
		}
		if o.detailedExitcode && plan.HasChanges() {
			return errChangesPending
		}
		return nil
	}

	// Apply. The text plan is shown first, so that the reader sees what
	// is about to happen while progress runs on stderr.
	if err := out.writePlanFirst(plan); err != nil {
		return err
	}
	interrupted.applying()
	conn.progress.start(plan)
	report, applyErr := session.Apply(ctx, plan, stop)
	conn.progress.finish()
	if report != nil {
		printFailures(e, report)
		if err := out.write(plan, report); err != nil {
			return err
		}
	}
	if applyErr != nil {
		if report != nil {
			return errShown
		}
		return applyErr
	}
	return nil
}

// printFailures writes a failed lock file write and an interrupt to
// stderr. With the "failed:" line that the progress output writes for each
// failed action as it finishes, they are everything the error of
// [apply.Session.Apply] joins.
func printFailures(e *env, r *apply.Report) {
	if r.LockErr != nil {
		fmt.Fprintf(e.stderr, "apply: %v; the next run finds the connections created since the last write by name\n", r.LockErr)
	}
	if r.Interrupted {
		fmt.Fprintln(e.stderr, "apply: interrupted; the lock file records every action that completed, and the next run continues from there")
	}
}

// interruptWatch turns SIGINT and SIGTERM into a graceful stop, then a
// cancellation.
type interruptWatch struct {
	mu       sync.Mutex
	inApply  bool
	done     chan struct{}
	released sync.Once
}

// watchInterrupts handles interrupts until release is called. Before the
// apply starts (while waiting for the lock file or planning), an interrupt
// cancels ctx. While applying, the first interrupt closes stop, so that no
// new action starts and the lock file is written, and the second cancels
// the requests in flight.
func watchInterrupts(e *env, stop chan struct{}, cancel context.CancelFunc) *interruptWatch {
	w := &interruptWatch{done: make(chan struct{})}
	if e.interrupts == nil {
		return w
	}
	go func() {
		count := 0
		for {
			select {
			case <-w.done:
				return
			case <-e.interrupts:
			}
			count++
			w.mu.Lock()
			inApply := w.inApply
			w.mu.Unlock()
			switch {
			case inApply && count == 1:
				fmt.Fprintln(e.stderr, "apply: interrupt received; finishing the running actions and writing the lock file (interrupt again to cancel them)")
				close(stop)
			default:
				fmt.Fprintln(e.stderr, "apply: interrupt received; cancelling")
				cancel()
				return
			}
		}
	}()
	return w
}

func (w *interruptWatch) applying() {
	w.mu.Lock()
	w.inApply = true
	w.mu.Unlock()
}

func (w *interruptWatch) release() { w.released.Do(func() { close(w.done) }) }

// loadManifests loads the manifests and prints their warnings. Invalid
// manifests are printed one problem per line, and as annotations under
// GitHub Actions. The error returned is then a [reportedError].
func loadManifests(e *env, paths []string, opts spec.LoadOptions) (*spec.Result, error) {
	res, err := spec.Load(paths, opts)
	var list spec.ErrorList
	if errors.As(err, &list) {
		var lines []string
		for _, problem := range list {
			lines = append(lines, problem.Error())
		}
		lines = append(lines, countNoun(len(list), "problem")+" found in the manifests")
		if hasUnsetVariable(list) && !opts.AllowUnresolved {
			lines = append(lines, "set the variables, or plan without them with --dry-run --allow-unresolved")
		}
		for i, line := range lines {
			if i >= len(list) {
				line = "apply: " + line
			}
			fmt.Fprintln(e.stderr, line)
		}
		annotate(e, "error", list)
		return nil, &reportedError{lines: lines}
	}
	if err != nil {
		return nil, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w.Error())
	}
	annotate(e, "warning", res.Warnings)
	return res, nil
}

// manifestWarnings returns the loader's warnings as
// "path:line:col: field: message" lines.
func manifestWarnings(res *spec.Result) []string {
	lines := make([]string, 0, len(res.Warnings))
	for _, w := range res.Warnings {
		lines = append(lines, w.Error())
	}
	return lines
}

// hasUnsetVariable reports whether a problem is an unset environment
// variable. Keep the message match in sync with pkg/spec.
func hasUnsetVariable(list spec.ErrorList) bool {
	for _, e := range list {
		if strings.HasPrefix(e.Msg, "environment variable ") && strings.HasSuffix(e.Msg, " is not set") {
			return true
		}
	}
	return false
}

// connection is the client, target and lock file of one run.
type connection struct {
	client       *flowservice.Client // nil for an offline plan
	target       apply.Target
	lockPath     string
	lockKey      []byte
	placeholders *placeholderEnv // set with --emulator
	progress     *progress
	close        func()
}

// connect resolves the target and credentials and builds the client, or
// starts the emulator with --emulator. It sends no request.
func connect(ctx context.Context, e *env, o *applyOptions, logger *slog.Logger) (*connection, error) {
	conn := &connection{
		lockPath: firstSet(o.lockPath, defaultLockPath),
		progress: newProgress(e),
		close:    func() {},
	}
	var problems []string
	if key := e.getenv(envLockKey); key != "" {
		if err := checkLockKey(key); err != nil {
			problems = append(problems, fmt.Sprintf("invalid %s: %v", envLockKey, err))
		}
		conn.lockKey = []byte(key)
	}
	if o.emulator {
		if len(problems) > 0 {
			return nil, &configError{problems}
		}
		return connectEmulator(ctx, e, o, conn, logger)
	}

	t, targetProblems := resolveTarget(e, o.endpoint, o.org, o.sandbox)
	problems = append(problems, targetProblems...)
	conn.target = apply.Target{Endpoint: t.endpoint, OrgID: t.orgID, Sandbox: t.sandbox}
	if !o.refresh {
		// An offline plan reads only the lock file, so it needs no
		// credentials. The session compares only the target fields that
		// are set, so defaults are left out: a fork's pull request that
		// sets nothing is still planned against the lock file's target.
		conn.target = apply.Target{
			Endpoint: firstSet(o.endpoint, e.getenv(envEndpoint)),
			OrgID:    t.orgID,
			Sandbox:  firstSet(o.sandbox, e.getenv(envSandbox)),
		}
		if len(problems) > 0 {
			return nil, &configError{problems}
		}
		return conn, nil
	}
	creds, credProblems := resolveCredentials(e, t)
	problems = append(problems, credProblems...)
	if len(credProblems) > 0 && o.dryRun {
		problems = append(problems, "to plan without credentials, add --refresh=false (offline, from the lock file) or --emulator")
	}
	if len(problems) > 0 {
		return nil, &configError{problems}
	}
	client, err := newClient(t, creds, o.rateLimit, logger)
	if err != nil {
		return nil, err
	}
	conn.client = client
	return conn, nil
}

// configError lists missing or invalid settings from the environment.
type configError struct{ problems []string }

func (e *configError) Error() string {
	s := "configuration is incomplete:"
	for _, p := range e.problems {
		s += "\n  " + p
	}
	return s
}

// countNoun returns "1 problem" or "3 problems".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
