package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/apply-cli/apply/pkg/apply"
)

// resultWriter writes the result of a run in every form the flags ask
// for: one on stdout, others to files, and the Markdown form to the GitHub
// Actions job summary.
type resultWriter struct {
	e      *env
	format apply.Format
	files  []outputFile
	dryRun bool
	color  bool

	planShown bool // the text plan was already written to stdout
}

func newResultWriter(e *env, o *applyOptions) *resultWriter {
	return &resultWriter{
		e:      e,
		format: apply.Format(o.output),
		files:  o.outputFiles,
		dryRun: o.dryRun,
		color:  useColor(e, e.stdout),
	}
}

// useColor reports whether w is a terminal and NO_COLOR is unset or empty.
func useColor(e *env, w io.Writer) bool {
	return isTerminal(w) && e.getenv("NO_COLOR") == ""
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writePlanFirst writes the text plan to stdout before an apply starts.
// The other forms hold the results too, so they wait for the end.
func (w *resultWriter) writePlanFirst(p *apply.Plan) error {
	if w.format != apply.FormatText {
		return nil
	}
	w.planShown = true
	return apply.WriteText(w.e.stdout, p, apply.TextOptions{Color: w.color})
}

// write writes the plan, and the report when there is one, to stdout, to
// every --output-file and to the job summary.
func (w *resultWriter) write(p *apply.Plan, r *apply.Report) error {
	if w.format == apply.FormatText && w.planShown {
		if err := writeReportLine(w.e.stdout, r); err != nil {
			return err
		}
	} else if err := w.render(w.e.stdout, w.format, p, r, w.color); err != nil {
		return err
	}

	for _, f := range w.files {
		var b bytes.Buffer
		if err := w.render(&b, f.format, p, r, false); err != nil {
			return err
		}
		if err := os.WriteFile(f.path, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write --output-file: %w", err)
		}
	}
	return appendStepSummary(w.e, p, r, w.dryRun)
}

// render writes one form of the result to out.
func (w *resultWriter) render(out io.Writer, format apply.Format, p *apply.Plan, r *apply.Report, color bool) error {
	switch format {
	case apply.FormatJSON:
		return apply.WriteJSON(out, p, apply.JSONOptions{DryRun: w.dryRun, Report: r})
	case apply.FormatMarkdown:
		return apply.WriteMarkdown(out, p, apply.MarkdownOptions{Title: markdownTitle(w.dryRun), Report: r})
	}
	if err := apply.WriteText(out, p, apply.TextOptions{Color: color}); err != nil {
		return err
	}
	return writeReportLine(out, r)
}

// writeReportLine writes the outcome line of an apply. It writes nothing
// for a plan, or for an apply of a plan without changes, whose text
// already shows "No changes".
func writeReportLine(out io.Writer, r *apply.Report) error {
	if r == nil || (r.Plan != nil && !r.Plan.HasChanges() && !r.Interrupted) {
		return nil
	}
	_, err := fmt.Fprintln(out, apply.CountResults(r).SummaryLine())
	return err
}

func markdownTitle(dryRun bool) string {
	if dryRun {
		return "apply plan"
	}
	return "apply result"
}
