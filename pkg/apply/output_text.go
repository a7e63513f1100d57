package apply

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// TextOptions controls the text rendering.
type TextOptions struct {
	// Color adds ANSI colours. Callers set it only when the output is a
	// terminal and NO_COLOR is unset.
	Color bool

	// Report, when set, adds the outcome of an apply after the plan: the
	// notes of its results and the line "Apply complete: ...", as the
	// Markdown and docs/output.md have them.
	Report *Report
}

// ANSI escape sequences used by the text renderer.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

var kindColor = map[ActionKind]string{
	Create:   ansiGreen,
	Recreate: ansiGreen,
	Adopt:    ansiCyan,
	Rename:   ansiYellow,
	Update:   ansiYellow,
	Replace:  ansiRed,
	Delete:   ansiRed,
}

// WriteText writes the plan for a reader: one group per action kind, each
// action with its changed fields as before → after, and the summary line
// last. With opts.Report, the notes of the results and the outcome line of
// the apply follow. Sensitive values are shown as "(sensitive)". Plan
// warnings are not written, because callers print them on their diagnostics
// stream.
func WriteText(w io.Writer, p *Plan, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	paint := func(color, s string) string {
		if !opts.Color || color == "" {
			return s
		}
		return color + s + ansiReset
	}

	counts := CountActions(p)
	for _, g := range groupActions(p) {
		fmt.Fprintln(bw, paint(ansiBold, g.heading()))
		for _, a := range g.actions {
			color := kindColor[a.Kind]
			if g.kind == "" {
				color = ""
			}
			line := g.line(a)
			fmt.Fprintf(bw, "  %s%s\n", paint(color, g.symbol), strings.TrimPrefix(line, g.symbol))
			for _, detail := range actionDetails(a) {
				fmt.Fprintf(bw, "      %s\n", detail)
			}
		}
		fmt.Fprintln(bw)
	}
	if line := outcomeLine(p, counts); line != "" {
		fmt.Fprintln(bw, line)
	}
	fmt.Fprintln(bw, paint(ansiBold, counts.SummaryLine()))
	if opts.Report != nil {
		writeTextResult(bw, opts.Report, paint)
	}
	return bw.Flush()
}

// WriteTextResult writes only the outcome of an apply: the notes of its
// results and the line "Apply complete: ...". It is for callers that wrote
// the plan with [WriteText] before the apply started.
func WriteTextResult(w io.Writer, r *Report, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	writeTextResult(bw, r, func(color, s string) string {
		if !opts.Color {
			return s
		}
		return color + s + ansiReset
	})
	return bw.Flush()
}

// writeTextResult writes nothing after a plan that had nothing to do,
// because the plan's text already reads "No changes".
func writeTextResult(w io.Writer, r *Report, paint func(color, s string) string) {
	notes := resultNotes(r)
	if r.Plan != nil && !r.Plan.HasChanges() && r.Plan.Summary().Skipped == 0 && !r.Interrupted && len(notes) == 0 {
		return
	}
	for _, line := range notes {
		fmt.Fprintln(w, "note: "+line)
	}
	fmt.Fprintln(w, paint(ansiBold, CountResults(r).SummaryLine()))
}
