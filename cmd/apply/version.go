package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		usage:   "version",
		summary: "print the version of apply",
		help:    `Version prints the module version of apply and the Go version it was built with.`,
		flags:   func() *flagSet { return newFlagSet("version") },
		run:     runVersion,
	}
}

func runVersion(ctx context.Context, e *env, args []string) error {
	problems, help := newFlagSet("version").parse(args)
	if help {
		printCommandHelp(e.stdout, versionCommand())
		return nil
	}
	if len(problems) > 0 {
		return &usageError{command: "version", problems: problems}
	}
	fmt.Fprintf(e.stdout, "apply %s (%s)\n", moduleVersion(), runtime.Version())
	return nil
}

// moduleVersion returns the version "go install" recorded, such as v1.2.0,
// or "(devel)" for a build from a working tree.
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}
