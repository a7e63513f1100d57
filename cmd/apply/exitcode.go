package main

import (
	"errors"
	"fmt"
	"strings"
)

// Exit statuses. Keep in sync with the help text of the apply command and
// with the README's exit code table.
const (
	exitOK      = 0 // success, and with --detailed-exitcode no changes pending
	exitError   = 1 // any failure, including a partial apply and invalid manifests
	exitUsage   = 2 // the command line is invalid
	exitChanges = 3 // --dry-run --detailed-exitcode: the plan has changes
)

// Errors that carry an exit status rather than a message.
var (
	// errShown means the failure was already reported on stderr.
	errShown = errors.New("failure already reported")
	// errUsageShown means usage was printed for a command line that
	// cannot run.
	errUsageShown = errors.New("usage already reported")
	// errChangesPending means a dry run with --detailed-exitcode found
	// changes. It is not a failure.
	errChangesPending = errors.New("changes pending")
)

// reportedError is a failure whose lines were already printed on stderr.
// It matches errShown, and keeps the lines for the documents that report
// the failure elsewhere, such as a Markdown file for a pull request.
type reportedError struct {
	lines []string
}

func (e *reportedError) Error() string { return strings.Join(e.lines, "\n") }

// Is makes errors.Is(err, errShown) true, so that the lines are not
// printed twice and the exit status is that of errShown.
func (e *reportedError) Is(target error) bool { return target == errShown }

// usageError is every problem found on one command line.
type usageError struct {
	command  string   // subcommand, such as "validate", or "" for apply itself
	problems []string // one per invalid or missing flag or argument
}

func (e *usageError) Error() string {
	var b strings.Builder
	for _, p := range e.problems {
		fmt.Fprintf(&b, "apply: %s\n", p)
	}
	help := "apply help"
	if e.command != "" {
		help += " " + e.command
	}
	fmt.Fprintf(&b, "Run '%s' for usage.\n", help)
	return b.String()
}

// exitCode maps the error a command returned to the process exit status.
// It is the only place that does.
func exitCode(err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errChangesPending):
		return exitChanges
	case errors.As(err, &usage), errors.Is(err, errUsageShown):
		return exitUsage
	default:
		return exitError
	}
}
