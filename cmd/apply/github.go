package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/apply-cli/apply/pkg/apply"
	"github.com/apply-cli/apply/pkg/spec"
)

// inGitHubActions reports whether the run is a GitHub Actions job, which
// sets GITHUB_ACTIONS=true.
func inGitHubActions(e *env) bool { return e.getenv("GITHUB_ACTIONS") == "true" }

// annotate writes each problem as a GitHub Actions workflow command, such
// as "::error file=a.yaml,line=3,col=5::message", so that the job marks
// the line in the pull request. level is "error" or "warning". Outside
// GitHub Actions it writes nothing.
func annotate(e *env, level string, problems []*spec.Error) {
	if !inGitHubActions(e) {
		return
	}
	for _, p := range problems {
		props := []string{"file=" + escapeProperty(p.Pos.File)}
		if p.Pos.Line > 0 {
			props = append(props, "line="+strconv.Itoa(p.Pos.Line))
			if p.Pos.Col > 0 {
				props = append(props, "col="+strconv.Itoa(p.Pos.Col))
			}
		}
		msg := p.Msg
		if p.Field != "" {
			msg = p.Field + ": " + msg
		}
		fmt.Fprintf(e.stderr, "::%s %s::%s\n", level, strings.Join(props, ","), escapeData(msg))
	}
}

// annotatePlan writes a warning workflow command for each plan warning and
// each action that the plan skips, so that a run which leaves work undone
// is not silently green. A skipped action carries its manifest position
// when it has one. Outside GitHub Actions it writes nothing.
func annotatePlan(e *env, p *apply.Plan) {
	if !inGitHubActions(e) {
		return
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(e.stderr, "::warning::%s\n", escapeData(w))
	}
	for _, a := range p.Actions {
		if a.Skipped != "" {
			annotateAction(e, a, fmt.Sprintf("skipped %s %s: %s", a.Kind, a.Name, a.Skipped))
		}
		if a.Warning != "" {
			annotateAction(e, a, fmt.Sprintf("%s %s: %s", a.Kind, a.Name, a.Warning))
		}
	}
}

// annotateAction emits one ::warning command for an action, at its
// manifest's file and line when the action has one.
func annotateAction(e *env, a apply.Action, msg string) {
	var props []string
	if a.File != "" {
		props = append(props, "file="+escapeProperty(a.File))
		if a.Line > 0 {
			props = append(props, "line="+strconv.Itoa(a.Line))
		}
	}
	command := "warning"
	if len(props) > 0 {
		command += " " + strings.Join(props, ",")
	}
	fmt.Fprintf(e.stderr, "::%s::%s\n", command, escapeData(msg))
}

// escapeData escapes the message of a workflow command as the runner
// expects: "%", CR and LF become %25, %0D and %0A.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value of a workflow command, where
// ":" and "," also need escaping.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// appendStepSummary appends the Markdown result to the file named by
// GITHUB_STEP_SUMMARY, which GitHub shows on the job's summary page.
func appendStepSummary(e *env, p *apply.Plan, r *apply.Report, dryRun bool) error {
	if stepSummaryPath(e) == "" {
		return nil
	}
	var b bytes.Buffer
	if err := apply.WriteMarkdown(&b, p, apply.MarkdownOptions{Title: markdownTitle(dryRun), Report: r}); err != nil {
		return fmt.Errorf("write job summary: %w", err)
	}
	return appendStepSummaryText(e, b.Bytes())
}

// appendStepSummaryText appends Markdown to the job summary, when the run
// is a GitHub Actions job.
func appendStepSummaryText(e *env, markdown []byte) error {
	path := stepSummaryPath(e)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write job summary: %w", err)
	}
	_, err = f.Write(markdown)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write job summary: %w", err)
	}
	return nil
}

// checkStepSummary returns a problem when the run is a GitHub Actions job
// whose GITHUB_STEP_SUMMARY cannot be written. A run checks it before any
// request, like an --output-file, so that an apply never fails on it
// after the changes are made.
func checkStepSummary(e *env) []string {
	path := stepSummaryPath(e)
	if path == "" {
		return nil
	}
	if err := checkWritable(path); err != nil {
		return []string{fmt.Sprintf("invalid GITHUB_STEP_SUMMARY %s: cannot write the file: %v", path, err)}
	}
	return nil
}

// stepSummaryPath returns the job summary file of a GitHub Actions job, or
// "" outside GitHub Actions.
func stepSummaryPath(e *env) string {
	if !inGitHubActions(e) {
		return ""
	}
	return e.getenv("GITHUB_STEP_SUMMARY")
}
