package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/apply-cli/apply/pkg/apply"
)

// resultWriter writes the result of a run in every form the flags request:
// one on stdout, others to files, and the Markdown form to the GitHub
// Actions job summary.
type resultWriter struct {
	e      *env
	format apply.Format
	files  []outputFile
	dryRun bool
	color  bool

	planShown bool // the text plan was already written to stdout
	written   bool // the result was written in every form
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
// The other forms contain the results too, so they wait for the end.
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
	w.written = true
	if w.format == apply.FormatText && w.planShown {
		if r != nil {
			if err := apply.WriteTextResult(w.e.stdout, r, apply.TextOptions{Color: w.color}); err != nil {
				return err
			}
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
	return apply.WriteText(out, p, apply.TextOptions{Color: color, Report: r})
}

// writeFailure writes the errors that stopped a run before it had a
// result: as Markdown to every Markdown --output-file and to the job
// summary, as plain lines to every text --output-file, and as a JSON
// failure document (see [writeFailureJSON]) to every JSON --output-file
// and to stdout with -o json. Text and Markdown stdout get nothing,
// because stderr already carries the errors.
func (w *resultWriter) writeFailure(runErr error) error {
	lines := failureLines(runErr)
	var md, doc bytes.Buffer
	writeFailureMarkdown(&md, markdownTitle(w.dryRun), w.dryRun, lines)
	if err := writeFailureJSON(&doc, w.dryRun, lines); err != nil {
		return err
	}

	if w.format == apply.FormatJSON {
		if _, err := w.e.stdout.Write(doc.Bytes()); err != nil {
			return fmt.Errorf("write failure document: %w", err)
		}
	}
	for _, f := range w.files {
		var data []byte
		switch f.format {
		case apply.FormatMarkdown:
			data = md.Bytes()
		case apply.FormatText:
			data = []byte(strings.Join(lines, "\n") + "\n")
		case apply.FormatJSON:
			data = doc.Bytes()
		default:
			continue
		}
		if err := os.WriteFile(f.path, data, 0o644); err != nil {
			return fmt.Errorf("write --output-file: %w", err)
		}
	}
	return appendStepSummaryText(w.e, md.Bytes())
}

// failureDocument is the JSON document of a run that stopped before it had
// a plan. It shares formatVersion, dryRun and errors with the plan document
// that apply.WriteJSON writes, and "error": true distinguishes the two. It
// has no summary and no actions, so that no reader mistakes it for an
// empty plan.
type failureDocument struct {
	FormatVersion int      `json:"formatVersion"`
	DryRun        bool     `json:"dryRun"`
	Error         bool     `json:"error"`
	Errors        []string `json:"errors"`
}

// writeFailureJSON writes the failure document, one error line per
// element, without the indentation of continuation lines.
func writeFailureJSON(out io.Writer, dryRun bool, lines []string) error {
	doc := failureDocument{FormatVersion: apply.JSONFormatVersion, DryRun: dryRun, Error: true, Errors: []string{}}
	for _, line := range lines {
		if line = strings.TrimSpace(line); line != "" {
			doc.Errors = append(doc.Errors, line)
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write failure document: %w", err)
	}
	return nil
}

// Bounds of the error list in a failure document, which must stay well
// under the 65,536 characters GitHub allows in a comment. The job log
// keeps every line.
const (
	maxFailureLines     = 200
	maxFailureLineBytes = 500
	maxFailureBytes     = 40000
)

// failureLines returns the lines that describe err, as stderr showed
// them, without the "apply: " prefix.
func failureLines(err error) []string {
	var reported *reportedError
	var config *configError
	var lines []string
	switch {
	case errors.As(err, &reported):
		lines = reported.lines
	case errors.As(err, &config):
		lines = []string{"configuration is incomplete:"}
		for _, p := range config.problems {
			lines = append(lines, "  "+p)
		}
	case errors.Is(err, errShown):
		lines = []string{"the run failed; the job log shows why"}
	default:
		lines = strings.Split(err.Error(), "\n")
	}
	return lines
}

// writeFailureMarkdown writes a Markdown document that reports a failed
// plan or apply and lists lines in a code block.
func writeFailureMarkdown(out io.Writer, title string, dryRun bool, lines []string) {
	fmt.Fprintf(out, "### %s\n\n", title)
	if dryRun {
		fmt.Fprint(out, "**Plan failed.** No plan was made, because of these errors:\n\n")
	} else {
		fmt.Fprint(out, "**Apply failed.** Nothing was applied, because of these errors:\n\n")
	}
	var body strings.Builder
	listed := 0
	for _, line := range lines {
		if listed == maxFailureLines || body.Len()+len(line) > maxFailureBytes {
			break
		}
		if len(line) > maxFailureLineBytes {
			line = strings.ToValidUTF8(line[:maxFailureLineBytes], "") + " …"
		}
		body.WriteString(line)
		body.WriteByte('\n')
		listed++
	}
	fence := codeFence(body.String())
	fmt.Fprintf(out, "%stext\n%s%s\n", fence, body.String(), fence)
	if n := len(lines) - listed; n > 0 {
		fmt.Fprintf(out, "\n%s more; the job log lists every error.\n", countNoun(n, "line"))
	}
}

// codeFence returns a run of backticks longer than any in s, and at least
// three, so that no line of s can close the code block.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func markdownTitle(dryRun bool) string {
	if dryRun {
		return "apply plan"
	}
	return "apply result"
}

// checkOutputFiles opens every --output-file for writing and returns a
// problem for each that cannot be written. A run checks them before any
// request, so that a mistyped path stops it before it changes anything
// rather than after. A file that did not exist is removed again.
func checkOutputFiles(files []outputFile) []string {
	var problems []string
	for _, of := range files {
		if err := checkWritable(of.path); err != nil {
			problems = append(problems, fmt.Sprintf("invalid --output-file %s=%s: cannot write the file: %v", of.format, of.path, err))
		}
	}
	return problems
}

// checkWritable opens path for writing without truncating it, creating it
// when it is missing, and removes a file that it created.
func checkWritable(path string) error {
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return pathErr.Err // the message names the path already
		}
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if created {
		return os.Remove(path)
	}
	return nil
}
