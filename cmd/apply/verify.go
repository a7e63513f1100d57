package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"time"

	"github.com/apply-cli/apply/pkg/spec"
	"github.com/apply-cli/apply/pkg/verify"
)

type verifyOptions struct {
	paths       pathList
	timeout     time.Duration
	parallelism int
	verbose     bool
}

func verifyFlags(o *verifyOptions) *flagSet {
	f := newFlagSet("verify")
	f.add(&o.paths, "<path>", "manifest file or directory of manifests; repeat for several (required)", "f", "filename")
	f.durationVar(&o.timeout, verify.DefaultTimeout, "<duration>", fmt.Sprintf("connect timeout of each database (default %s)", verify.DefaultTimeout), "timeout")
	f.intVar(&o.parallelism, verify.DefaultParallelism, "<n>", fmt.Sprintf("maximum number of databases checked at once (default %d)", verify.DefaultParallelism), "parallelism")
	f.boolVar(&o.verbose, false, "write debug logs to stderr", "v", "verbose")
	return f
}

func verifyCommand() *command {
	return &command{
		name:    "verify",
		usage:   "verify -f <path>... [flags]",
		summary: "check MySQL and MariaDB sources against the real database",
		help: `Verify connects to every MySQL and MariaDB database that the manifests
describe, from this machine, with the credentials the manifests resolve to,
and prints one line per source: reachable (with the server version),
unreachable, authentication failed, unknown database, TLS required or TLS
failed, with a hint for the fix. It never prints a password. Sources of
other types are left out. Documented in docs/verify.md.

Exit status: 0 when every source is reachable, 1 when one is not, 2 for an
invalid command line.

Examples:
  apply verify -f connections/ --timeout 5s`,
		flags: func() *flagSet { return verifyFlags(&verifyOptions{}) },
		run:   runVerify,
	}
}

func runVerify(ctx context.Context, e *env, args []string) error {
	o := &verifyOptions{}
	f := verifyFlags(o)
	problems, help := f.parse(args)
	if help {
		printCommandHelp(e.stdout, verifyCommand())
		return nil
	}
	if len(o.paths) == 0 {
		problems = append(problems, "missing -f: name at least one manifest file or directory")
	}
	if o.timeout <= 0 {
		problems = append(problems, fmt.Sprintf("invalid --timeout %s: want more than 0", o.timeout))
	}
	if o.parallelism < 1 {
		problems = append(problems, fmt.Sprintf("invalid --parallelism %d: want at least 1", o.parallelism))
	}
	if len(problems) > 0 {
		return &usageError{command: "verify", problems: problems}
	}

	logger := newLogger(e.stderr, o.verbose)
	loaded, err := loadManifests(e, o.paths, spec.LoadOptions{LookupEnv: e.lookupEnv, Logger: logger})
	if err != nil {
		return err
	}
	if o.verbose {
		defer setDefaultLogger(logger)()
	}
	return checkSources(ctx, e, e.stdout, loaded.Manifests, o.parallelism, o.timeout)
}

// setDefaultLogger makes logger the default slog logger, which pkg/verify
// logs through, and returns a function that restores the previous one and
// the log package's output and flags.
func setDefaultLogger(logger *slog.Logger) (restore func()) {
	previous := slog.Default()
	output, flags := log.Writer(), log.Flags()
	slog.SetDefault(logger)
	return func() {
		slog.SetDefault(previous)
		// slog.SetDefault sends the log package's output to the new
		// handler. Setting back Go's initial default logger does not undo
		// that, and that logger writes through the log package, so without
		// these lines both would still write to this run's stderr.
		log.SetOutput(output)
		log.SetFlags(flags)
	}
}

// verifyManifests runs the checks of --verify before a plan. Its lines go
// to stderr, because stdout carries the plan.
func verifyManifests(ctx context.Context, e *env, manifests []*spec.Manifest, parallelism int, timeout time.Duration) error {
	return checkSources(ctx, e, e.stderr, manifests, parallelism, timeout)
}

// checkSources checks every MySQL and MariaDB source and writes one line
// per manifest to out. Other sources get a "skipped" line. When any
// source fails, it returns a [reportedError] with the failed lines.
func checkSources(ctx context.Context, e *env, out io.Writer, manifests []*spec.Manifest, parallelism int, timeout time.Duration) error {
	results := verify.Run(ctx, manifests, verify.Options{Parallelism: parallelism, Timeout: timeout})
	checked := 0
	var failures []string
	for _, r := range results {
		line := verify.FormatResult(r)
		fmt.Fprintln(out, line)
		switch r.Outcome {
		case verify.Skipped:
		case verify.Reachable:
			checked++
		default:
			checked++
			failures = append(failures, line)
		}
	}
	switch {
	case checked == 0:
		fmt.Fprintln(e.stderr, "apply: no MySQL or MariaDB sources to verify")
	case len(failures) > 0:
		summary := fmt.Sprintf("%d of %s failed verification", len(failures), countNoun(checked, "source"))
		fmt.Fprintf(e.stderr, "apply: %s\n", summary)
		return &reportedError{lines: append(failures, summary)}
	}
	return nil
}
