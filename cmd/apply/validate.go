package main

import (
	"context"
	"fmt"

	"github.com/apply-cli/apply/pkg/spec"
)

type validateOptions struct {
	paths   pathList
	verbose bool
}

func validateFlags(o *validateOptions) *flagSet {
	f := newFlagSet("validate")
	f.add(&o.paths, "<path>", "manifest file or directory of manifests; repeat for several (required)", "f", "filename")
	f.boolVar(&o.verbose, false, "write debug logs to stderr", "v", "verbose")
	return f
}

func validateCommand() *command {
	return &command{
		name:    "validate",
		usage:   "validate -f <path>... [flags]",
		summary: "check manifests offline, without credentials",
		help: `Validate checks manifests against the manifest schema and the connection
specs built into apply, and reports every problem as file:line:col: field:
message. It sends no request and needs no credentials. Variables that the
manifests reference may be unset: validate warns about each, because apply
will need them.

Exit status: 0 when every manifest is valid, 1 when one is not, 2 for an
invalid command line.

Examples:
  apply validate -f connections/`,
		flags: func() *flagSet { return validateFlags(&validateOptions{}) },
		run:   runValidate,
	}
}

func runValidate(ctx context.Context, e *env, args []string) error {
	o := &validateOptions{}
	f := validateFlags(o)
	problems, help := f.parse(args)
	if help {
		printCommandHelp(e.stdout, validateCommand())
		return nil
	}
	if len(o.paths) == 0 {
		problems = append(problems, "missing -f: name at least one manifest file or directory")
	}
	if len(problems) > 0 {
		return &usageError{command: "validate", problems: problems}
	}

	logger := newLogger(e.stderr, o.verbose)
	loaded, err := loadManifests(e, o.paths, spec.LoadOptions{LookupEnv: e.lookupEnv, AllowUnresolved: true, Logger: logger})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s valid\n", countNoun(len(loaded.Manifests), "manifest"))
	return nil
}
