package apply

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// MaxCommentSize is GitHub's limit on the body of an issue or pull-request
// comment, in characters.
const MaxCommentSize = 65536

// DefaultMarkdownSize leaves room below [MaxCommentSize] for text that a
// workflow adds around the plan, such as a heading or a link to the run.
const DefaultMarkdownSize = 60000

// MarkdownOptions controls the Markdown rendering.
type MarkdownOptions struct {
	// Title is the heading of the comment. Empty means "apply plan".
	Title string
	// MaxSize is the maximum size of the document in characters, and 0
	// means [DefaultMarkdownSize]. A plan that does not fit lists only the
	// first actions of each group and states how many it left out.
	MaxSize int
	// Report, when set, adds the outcome of an apply and its failures.
	Report *Report
}

// WriteMarkdown writes the plan as a pull-request comment. The comment has
// a heading, the summary line, a caution banner when the plan was made
// offline and a warning banner when the plan deletes or replaces a
// connection. The plan warnings follow, then one collapsible section per
// action group, skipped actions last. Sensitive values are shown as
// "(sensitive)".
func WriteMarkdown(w io.Writer, p *Plan, opts MarkdownOptions) error {
	_, err := io.WriteString(w, RenderMarkdown(p, opts))
	return err
}

// RenderMarkdown returns what [WriteMarkdown] writes.
func RenderMarkdown(p *Plan, opts MarkdownOptions) string {
	limit := opts.MaxSize
	if limit <= 0 {
		limit = DefaultMarkdownSize
	}
	head := markdownHead(p, opts.Title) + markdownResults(opts.Report, limit/4)
	groups := groupActions(p)

	full := head + markdownGroups(groups, -1, true)
	if charCount(full) <= limit {
		return full
	}

	// The plan is too long for one comment, so find the largest number of
	// actions per group that fits, dropping field details first.
	note := "\n> [!NOTE]\n> This plan is too long for one comment, so each section lists only its first actions. The job log and the JSON output (`--output json`) hold the full plan.\n"
	best := head + note + markdownGroups(groups, 0, false)
	lo, hi := 1, maxGroupSize(groups)
	for lo <= hi {
		n := (lo + hi) / 2
		doc := head + note + markdownGroups(groups, n, false)
		if charCount(doc) <= limit {
			best, lo = doc, n+1
		} else {
			hi = n - 1
		}
	}
	return best
}

func charCount(s string) int { return len([]rune(s)) }

func maxGroupSize(groups []group) int {
	n := 0
	for _, g := range groups {
		n = max(n, len(g.actions))
	}
	return n
}

// markdownHead returns the heading, summary line, banners and warnings.
func markdownHead(p *Plan, title string) string {
	if title == "" {
		title = "apply plan"
	}

	counts := CountActions(p)
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", html.EscapeString(title))
	fmt.Fprintf(&b, "**%s**\n", counts.SummaryLine())
	if line := outcomeLine(p, counts); line != "" {
		fmt.Fprintf(&b, "\n%s\n", html.EscapeString(line))
	}

	if !p.Refreshed {
		b.WriteString("\n> [!CAUTION]\n")
		b.WriteString("> This plan was made offline (`--refresh=false`) from the lock file alone: it trusts the lock file and cannot see the connections in the sandbox. " +
			"A lock file changed by a pull request, especially one from a fork, can be forged (ids swapped, digests recomputed), so review the lock file's diff before trusting this plan.\n")
	}
	if banner := destructiveBanner(p); banner != "" {
		b.WriteString("\n> [!WARNING]\n")
		b.WriteString(banner)
	}

	var notes []string
	for _, w := range p.Warnings {
		if w != offlineWarning { // shown as the caution above
			notes = append(notes, w)
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n> [!NOTE]\n")
		for _, w := range notes {
			fmt.Fprintf(&b, "> - %s\n", html.EscapeString(printable(w)))
		}
	}
	return b.String()
}

// destructiveBanner returns the body of the warning shown when the plan
// deletes or replaces connections, or would with --prune or
// --allow-replace. It returns "" when it does neither.
func destructiveBanner(p *Plan) string {
	var deletes, replaces, skipped int
	for _, a := range p.Actions {
		switch {
		case a.Kind != Delete && a.Kind != Replace:
		case a.Skipped != "":
			skipped++
		case a.Kind == Delete:
			deletes++
		default:
			replaces++
		}
	}
	var b strings.Builder
	if deletes > 0 {
		fmt.Fprintf(&b, "> This plan **deletes %s**. The service rejects deleting a connection that a dataflow uses (error 1418-400), so delete those dataflows first, or that delete fails.\n", countNoun(deletes, "connection"))
	}
	if replaces > 0 {
		fmt.Fprintf(&b, "> This plan **replaces %s**. A replaced connection gets a new id. The service rejects deleting the old connection while a dataflow uses it (error 1418-400), so that delete fails until those dataflows use the new id or are deleted.\n", countNoun(replaces, "connection"))
	}
	if skipped > 0 {
		if b.Len() > 0 {
			b.WriteString(">\n")
		}
		fmt.Fprintf(&b, "> %s to delete or replace will be skipped; see the reasons below.\n", countNoun(skipped, "connection"))
	}
	return b.String()
}

// markdownGroups returns one <details> section per group. With limit < 0,
// every action is listed. Otherwise each section lists at most limit
// actions and states how many it left out. details adds the changed fields
// of each action.
func markdownGroups(groups []group, limit int, details bool) string {
	var b strings.Builder
	for _, g := range groups {
		shown := g.actions
		if limit >= 0 && len(shown) > limit {
			shown = shown[:limit]
		}
		var body strings.Builder
		for _, a := range shown {
			fmt.Fprintln(&body, g.line(a))
			if details {
				for _, line := range actionDetails(a) {
					fmt.Fprintf(&body, "    %s\n", line)
				}
			} else {
				if a.Error != "" {
					fmt.Fprintf(&body, "    error: %s\n", printable(a.Error))
				}
				if a.Warning != "" {
					fmt.Fprintf(&body, "    warning: %s\n", printable(a.Warning))
				}
			}
		}

		fmt.Fprintf(&b, "\n<details><summary>%s</summary>\n\n", html.EscapeString(g.heading()))
		if len(shown) > 0 {
			fence := codeFence(body.String())
			fmt.Fprintf(&b, "%sdiff\n%s%s\n", fence, body.String(), fence)
		}
		if left := len(g.actions) - len(shown); left > 0 {
			fmt.Fprintf(&b, "\n… and %d more not shown.\n", left)
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// codeFence returns a run of backticks longer than any run inside s, so
// that no manifest name can close the code block early.
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

// markdownResults returns the outcome line of an apply, the notes of its
// results and a section listing the actions that failed or did not start,
// cut to about maxSize characters. It returns "" for a nil report.
func markdownResults(r *Report, maxSize int) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n**%s**\n", CountResults(r).SummaryLine())
	if notes := resultNotes(r); len(notes) > 0 {
		b.WriteString("\n> [!IMPORTANT]\n")
		for _, line := range notes {
			fmt.Fprintf(&b, "> - %s\n", html.EscapeString(line))
		}
	}

	var lines []string
	for _, res := range r.Results {
		if res.Status == StatusFailed || res.Status == StatusNotStarted {
			lines = append(lines, DescribeResult(res))
		}
	}
	if len(lines) == 0 {
		return b.String()
	}
	var body strings.Builder
	shown := 0
	for _, line := range lines {
		if body.Len()+len(line) > maxSize {
			break
		}
		body.WriteString(line + "\n")
		shown++
	}
	fence := codeFence(body.String())
	fmt.Fprintf(&b, "\n<details><summary>Not applied (%d)</summary>\n\n%s\n%s%s\n", len(lines), fence, body.String(), fence)
	if shown < len(lines) {
		fmt.Fprintf(&b, "\n… and %d more not shown.\n", len(lines)-shown)
	}
	b.WriteString("\n</details>\n")
	return b.String()
}
