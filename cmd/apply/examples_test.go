package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkflowExampleCommandsParse checks that every apply command line in
// the GitHub Actions example is valid for the current flags, so that the
// example cannot drift from the command.
func TestWorkflowExampleCommandsParse(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "github-actions", "connections.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := workflowApplyCommands(string(data))
	if len(lines) < 3 {
		t.Fatalf("found %d apply command lines in %s, want the validate, plan and apply steps:\n%q", len(lines), path, lines)
	}

	// The plan step passes its mode flags through a shell array; both
	// values it can take are checked.
	modes := []string{"--refresh=true", "--refresh=false --allow-unresolved"}
	for _, line := range lines {
		variants := []string{line}
		if strings.Contains(line, `"${mode[@]}"`) {
			variants = nil
			for _, m := range modes {
				variants = append(variants, strings.Replace(line, `"${mode[@]}"`, m, 1))
			}
		}
		for _, v := range variants {
			args := strings.Fields(v)[1:] // drop "apply"
			if problems := checkCommandLine(args); len(problems) > 0 {
				t.Errorf("%s: %q is invalid:\n%s", path, v, strings.Join(problems, "\n"))
			}
		}
	}
}

// workflowApplyCommands returns the apply command lines of a workflow,
// with backslash continuations joined and a trailing "|| ..." removed.
func workflowApplyCommands(workflow string) []string {
	var commands []string
	var current string
	for _, raw := range strings.Split(workflow, "\n") {
		line := strings.TrimSpace(raw)
		line = strings.TrimPrefix(line, "run: ")
		if current == "" && !strings.HasPrefix(line, "apply ") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			current += cont + " "
			continue
		}
		current += line
		if before, _, found := strings.Cut(current, "||"); found {
			current = before
		}
		commands = append(commands, strings.TrimSpace(current))
		current = ""
	}
	return commands
}

// checkCommandLine returns the usage problems of args, as the command
// would report them, without running anything.
func checkCommandLine(args []string) []string {
	if len(args) > 0 && args[0] == "validate" {
		o := &validateOptions{}
		problems, _ := validateFlags(o).parse(args[1:])
		return problems
	}
	o := &applyOptions{}
	f := applyFlags(o)
	problems, _ := f.parse(args)
	return append(problems, o.validate(f)...)
}

// TestDocCommandsParse checks the command lines that the README and the
// output documentation show in code blocks.
func TestDocCommandsParse(t *testing.T) {
	for _, doc := range []string{"README.md", filepath.Join("docs", "output.md")} {
		path := filepath.Join("..", "..", doc)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, raw := range strings.Split(string(data), "\n") {
			line, ok := strings.CutPrefix(raw, "go run ./cmd/apply ")
			if !ok {
				line, ok = strings.CutPrefix(raw, "apply ")
			}
			if !ok || !strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "validate ") {
				continue
			}
			checked++
			if problems := checkCommandLine(strings.Fields(line)); len(problems) > 0 {
				t.Errorf("%s: %q is invalid:\n%s", doc, raw, strings.Join(problems, "\n"))
			}
		}
		if checked == 0 {
			t.Errorf("%s: found no command line to check", doc)
		}
	}
}
