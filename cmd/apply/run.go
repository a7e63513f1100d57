package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// lookupEnvFunc reads an environment variable, like [os.LookupEnv].
type lookupEnvFunc func(name string) (string, bool)

// env is the standard streams and the environment of a command. Tests
// fill it with buffers and a map.
type env struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv lookupEnvFunc

	// interrupts delivers SIGINT and SIGTERM. It is nil in tests that send
	// none.
	interrupts <-chan os.Signal
}

// getenv returns the value of an environment variable, or "".
func (e *env) getenv(name string) string {
	v, _ := e.lookupEnv(name)
	return v
}

// command is one subcommand.
type command struct {
	name    string
	usage   string // usage line, after "apply"
	summary string // one line for the command list
	help    string // paragraphs shown by "apply help <name>", examples included
	flags   func() *flagSet
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands in the order "apply help" shows them. The
// apply command itself runs when the first argument names none of them.
func commands() []*command {
	return []*command{applyCommand(), validateCommand(), verifyCommand(), emulatorCommand(), versionCommand(), helpCommand()}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run runs the command line args and returns the exit status. main calls
// it with the process's streams and environment, and tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv lookupEnvFunc) int {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: lookupEnv, interrupts: signals}
	return runEnv(context.Background(), e, args)
}

// runEnv runs args with e and returns the exit status. Tests call it with
// their own interrupt channel.
func runEnv(ctx context.Context, e *env, args []string) int {
	err := dispatch(ctx, e, args)
	reportError(e.stderr, err)
	return exitCode(err)
}

// dispatch picks the subcommand named by args[0], or the apply command.
func dispatch(ctx context.Context, e *env, args []string) error {
	cmd := applyCommand()
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		printUsage(e.stdout)
		return nil
	}
	if len(args) > 0 {
		if c := findCommand(args[0]); c != nil {
			cmd, args = c, args[1:]
		}
	}
	if len(args) == 0 && cmd.name == "apply" {
		// A bare "apply" is a request for help, not an attempt to apply
		// nothing, so the usage goes to stderr and the exit status is 2.
		printUsage(e.stderr)
		return errUsageShown
	}
	if cmd.name != "apply" && cmd.name != "emulator" && e.interrupts != nil {
		// The apply and emulator commands handle interrupts themselves,
		// and the others stop at the first one.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-e.interrupts:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return cmd.run(ctx, e, args)
}

// reportError prints err to stderr once, unless it was already shown.
func reportError(stderr io.Writer, err error) {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, errShown), errors.Is(err, errChangesPending), errors.Is(err, errUsageShown):
	case errors.As(err, &usage):
		fmt.Fprint(stderr, usage.Error())
	default:
		fmt.Fprintf(stderr, "apply: %v\n", err)
	}
}
