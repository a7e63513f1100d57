package apply

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Format is an output form of a plan and its results.
type Format string

// Output forms.
const (
	FormatText     Format = "text"     // for people: grouped plan and summary line
	FormatJSON     Format = "json"     // for programs: a versioned document
	FormatMarkdown Format = "markdown" // for pull-request comments and job summaries
)

// Formats lists every output form, in the order help text shows them.
var Formats = []Format{FormatText, FormatJSON, FormatMarkdown}

// ParseFormat returns the format named s, or an error listing the valid names.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want %s)", s, formatNames())
}

func formatNames() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Counts is the number of actions of each kind in a plan. Like
// [Plan.Summary], it counts an action with Error set only in Errors and a
// skipped one only in Skipped.
type Counts struct {
	Create, Update, Delete           int
	Replace, Adopt, Rename, Recreate int
	NoChange, Skipped, Errors        int
}

// CountActions counts the actions of p by kind.
func CountActions(p *Plan) Counts {
	s := p.Summary()
	return Counts{
		Create:   s.Kinds[Create],
		Update:   s.Kinds[Update],
		Delete:   s.Kinds[Delete],
		Replace:  s.Kinds[Replace],
		Adopt:    s.Kinds[Adopt],
		Rename:   s.Kinds[Rename],
		Recreate: s.Kinds[Recreate],
		NoChange: s.Kinds[NoChange],
		Skipped:  s.Skipped,
		Errors:   s.Errors,
	}
}

// Changes reports whether carrying out the plan would change anything.
func (c Counts) Changes() bool {
	return c.Create+c.Update+c.Delete+c.Replace+c.Adopt+c.Rename+c.Recreate > 0
}

// SummaryLine returns the one-line plan summary, such as
// "Plan: 2 to create, 1 to update, 0 to delete". The first three counts are
// always present, so that scripts can match them. Replace, adopt, rename,
// recreate, skipped and error counts follow only when they are not zero.
func (c Counts) SummaryLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d to delete", c.Create, c.Update, c.Delete)
	extras := []struct {
		n    int
		verb string
	}{
		{c.Replace, "to replace"},
		{c.Adopt, "to adopt"},
		{c.Rename, "to rename"},
		{c.Recreate, "to recreate"},
		{c.Skipped, "skipped"},
		{c.Errors, "with errors"},
	}
	for _, e := range extras {
		if e.n > 0 {
			fmt.Fprintf(&b, ", %d %s", e.n, e.verb)
		}
	}
	return b.String()
}

// group is the actions of one kind, or the skipped actions of every kind,
// in plan order, as the renderers show them.
type group struct {
	kind    ActionKind // empty for the group of skipped actions
	title   string     // heading, such as "To create"
	hint    string     // description of the action, where the title alone is unclear
	symbol  string     // marker before each name, as in a diff
	actions []Action
}

// groupOrder is the order in which renderers show action groups: additions
// first, then changes in place, then the destructive ones, so that a
// reviewer reads the risky groups last and closest to the summary.
var groupOrder = []group{
	{kind: Create, title: "To create", symbol: "+"},
	{kind: Recreate, title: "To recreate", hint: "deleted outside apply", symbol: "+"},
	{kind: Adopt, title: "To adopt", hint: "existing connections with the same name", symbol: "="},
	{kind: Rename, title: "To rename", symbol: "~"},
	{kind: Update, title: "To update", symbol: "~"},
	{kind: Replace, title: "To replace", hint: "created with a new id, then the old connection deleted", symbol: "+/-"},
	{kind: Delete, title: "To delete", symbol: "-"},
}

// skippedGroup contains the actions that will not run, whatever their kind,
// shown last so that none reads as a change this run makes.
var skippedGroup = group{title: "Skipped", hint: "not carried out in this run", symbol: "!"}

// groupActions splits the plan into non-empty groups in groupOrder, then
// the skipped actions. Actions that will not change anything are left out.
func groupActions(p *Plan) []group {
	byKind := make(map[ActionKind][]Action)
	var skipped []Action
	for _, a := range p.Actions {
		if a.Skipped != "" {
			skipped = append(skipped, a)
			continue
		}
		byKind[a.Kind] = append(byKind[a.Kind], a)
	}
	var groups []group
	for _, g := range groupOrder {
		if len(byKind[g.kind]) == 0 {
			continue
		}
		g.actions = byKind[g.kind]
		groups = append(groups, g)
	}
	if len(skipped) > 0 {
		g := skippedGroup
		g.actions = skipped
		groups = append(groups, g)
	}
	return groups
}

// line returns the line that names action a in group g: its marker, its
// kind in the group of skipped actions, and what identifies it.
func (g group) line(a Action) string {
	if g.kind == "" {
		return g.symbol + " " + string(a.Kind) + " " + describeAction(a)
	}
	return g.symbol + " " + describeAction(a)
}

// heading returns the title of g with its size and hint, such as
// "To replace (2): created with a new id, then the old connection deleted".
func (g group) heading() string {
	h := fmt.Sprintf("%s (%d)", g.title, len(g.actions))
	if g.hint != "" {
		h += ": " + g.hint
	}
	return h
}

// actionDetails returns the lines shown under an action: why it is
// skipped or failed to plan, a warning, a note for the reviewer and the changed fields.
func actionDetails(a Action) []string {
	var lines []string
	if a.Error != "" {
		lines = append(lines, "error: "+printable(a.Error))
	}
	if a.Warning != "" {
		lines = append(lines, "warning: "+printable(a.Warning))
	}
	if a.Skipped != "" {
		lines = append(lines, "skipped: "+printable(a.Skipped))
	}
	if a.Note != "" {
		lines = append(lines, "note: "+printable(a.Note))
	}
	for _, c := range a.Changes {
		if a.Kind == Create || a.Kind == Recreate {
			lines = append(lines, describeValue(c))
		} else {
			lines = append(lines, describeChange(c))
		}
	}
	return lines
}

// describeValue returns a field of a new connection as "path: value", the
// form a create shows, with "(sensitive)" in place of a sensitive value.
func describeValue(c FieldChange) string {
	path := printable(c.Path)
	switch {
	case c.Sensitive:
		return path + ": (sensitive)"
	case c.Unknown:
		return path + ": (known after apply)"
	}
	return path + ": " + quoteValue(c.After)
}

// describeChange returns a field change as "path: before → after", with
// "(sensitive)" in place of any sensitive value, "(absent)" and
// "(removed)" for a field that is added or removed, and the new value
// followed by "(may have changed)" when an offline plan cannot tell. Values
// are quoted so that empty strings and spaces are visible.
func describeChange(c FieldChange) string {
	path := printable(c.Path)
	switch {
	case c.Sensitive && c.Removed:
		return path + ": (sensitive) → (removed)"
	case c.Sensitive && c.Unknown:
		return path + ": (sensitive, cannot be compared)"
	case c.Sensitive && c.Resent:
		return path + ": (sensitive, re-sent)"
	case c.Sensitive:
		return path + ": (sensitive)"
	case c.Removed:
		return path + ": " + quoteValue(c.Before) + " → (removed)"
	case c.Possible:
		return path + ": " + quoteValue(c.After) + " (may have changed)"
	case c.Added && c.Unknown:
		return path + ": (absent) → (known after apply)"
	case c.Added:
		return path + ": (absent) → " + quoteValue(c.After)
	case c.Unknown && c.Before == "":
		return path + ": (known after apply)"
	case c.Unknown:
		return path + ": " + quoteValue(c.Before) + " → (known after apply)"
	}
	return path + ": " + quoteValue(c.Before) + " → " + quoteValue(c.After)
}

// outcomeLine returns the line shown above the summary line when carrying
// out p would change nothing, or "" when it would. The line starts "No
// changes" only when nothing is left undone either: no skipped action, no
// planning error, no sensitive params that could not be compared or use
// unset variables, and no auth params left unchecked offline.
// Otherwise it lists what stays undone, such as "Nothing will change in
// this run: 1 delete skipped (needs --prune)."
func outcomeLine(p *Plan, c Counts) string {
	if c.Changes() {
		return ""
	}
	var parts []string
	skipped := make(map[ActionKind]int)
	var kinds []ActionKind
	for _, a := range p.Actions {
		if a.Skipped != "" && a.Error == "" {
			if skipped[a.Kind] == 0 {
				kinds = append(kinds, a.Kind)
			}
			skipped[a.Kind]++
		}
	}
	for _, kind := range kinds {
		part := countNoun(skipped[kind], string(kind)) + " skipped"
		if flag := skipFlag[kind]; flag != "" {
			part += " (needs " + flag + ")"
		}
		parts = append(parts, part)
	}
	if c.Errors > 0 {
		parts = append(parts, countNoun(c.Errors, "action")+" with errors")
	}
	if p.SecretsUndetectable {
		parts = append(parts, "changes of sensitive params cannot be detected (see the warnings)")
	}
	if p.AuthUnchecked > 0 {
		parts = append(parts, countNoun(p.AuthUnchecked, "connection")+" "+mayHaveChanged)
	}
	if p.SecretsUnresolved > 0 {
		parts = append(parts, countNoun(p.SecretsUnresolved, "connection")+" with unset variables in sensitive params, whose changes are unknown")
	}
	if len(parts) > 0 {
		return "Nothing will change in this run: " + strings.Join(parts, ", ") + "."
	}

	verb := "match"
	if c.NoChange == 1 {
		verb = "matches"
	}
	line := fmt.Sprintf("No changes. %s %s the manifests", countNoun(c.NoChange, "connection"), verb)
	if !p.Refreshed {
		line += ", as far as the lock file records"
	}
	return line + "."
}

// skipFlag is the flag that carries out a skipped action of each kind.
var skipFlag = map[ActionKind]string{
	Delete:  "--prune",
	Replace: "--allow-replace",
}

// countNoun returns "1 connection" or "3 connections".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func quoteValue(s string) string { return strconv.Quote(s) }

// describeAction returns the name of an action with what identifies it: the
// old name of a rename, the remote id and the manifest position.
func describeAction(a Action) string {
	var b strings.Builder
	b.WriteString(printable(a.Name))
	if a.OldName != "" {
		fmt.Fprintf(&b, " (was %s)", printable(a.OldName))
	}
	var details []string
	if a.ID != "" {
		details = append(details, "id "+a.ID)
	}
	if a.OldID != "" && a.OldID != a.ID {
		details = append(details, "replaces id "+a.OldID)
	}
	if a.File != "" {
		pos := printable(a.File)
		if a.Line > 0 {
			pos += ":" + strconv.Itoa(a.Line)
		}
		details = append(details, pos)
	}
	if len(details) > 0 {
		b.WriteString("  [")
		b.WriteString(strings.Join(details, ", "))
		b.WriteString("]")
	}
	return b.String()
}

// printable returns s, quoted when it contains a control character such as a
// newline, which would break the line structure of every output form.
func printable(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// ResultCounts is the number of results of each status in a report, with
// the applied ones also counted by action kind.
type ResultCounts struct {
	Applied     map[ActionKind]int
	Unchanged   int
	Failed      int
	Skipped     int
	NotStarted  int
	Interrupted bool
}

// CountResults counts the results of r by status.
func CountResults(r *Report) ResultCounts {
	c := ResultCounts{Applied: make(map[ActionKind]int), Interrupted: r.Interrupted}
	for _, res := range r.Results {
		switch res.Status {
		case StatusApplied:
			c.Applied[res.Action.Kind]++
		case StatusUnchanged:
			c.Unchanged++
		case StatusFailed:
			c.Failed++
		case StatusSkipped:
			c.Skipped++
		case StatusNotStarted:
			c.NotStarted++
		}
	}
	return c
}

// SummaryLine returns the one-line outcome of an apply, such as
// "Apply complete: 2 created, 1 updated, 0 deleted". It starts with
// "Apply interrupted" when the run stopped early, even if actions failed,
// and otherwise with "Apply failed" when an action failed.
func (c ResultCounts) SummaryLine() string {
	var b strings.Builder
	// The interrupted case comes first, because the requests that a second
	// interrupt cancels count as failed, yet the run was stopped, not broken.
	switch {
	case c.Interrupted:
		b.WriteString("Apply interrupted: ")
	case c.Failed > 0:
		b.WriteString("Apply failed: ")
	default:
		b.WriteString("Apply complete: ")
	}
	fmt.Fprintf(&b, "%d created, %d updated, %d deleted", c.Applied[Create], c.Applied[Update], c.Applied[Delete])
	extras := []struct {
		n    int
		verb string
	}{
		{c.Applied[Replace], "replaced"},
		{c.Applied[Adopt], "adopted"},
		{c.Applied[Rename], "renamed"},
		{c.Applied[Recreate], "recreated"},
		{c.Failed, "failed"},
		{c.NotStarted, "not started"},
		{c.Skipped, "skipped"},
	}
	for _, e := range extras {
		if e.n > 0 {
			fmt.Fprintf(&b, ", %d %s", e.n, e.verb)
		}
	}
	return b.String()
}

// DescribeResult returns the line that progress output shows when an
// action finishes, such as "created orders (id 6f1c...)" or "failed:
// update sales: <cause>". The error of a failed result already names the
// action and the connection, as Apply builds it.
func DescribeResult(res Result) string {
	name := printable(res.Action.Name)
	switch res.Status {
	case StatusFailed:
		if res.Err == nil {
			return fmt.Sprintf("failed: %s %s", res.Action.Kind, name)
		}
		return "failed: " + printable(res.Err.Error())
	case StatusNotStarted:
		return fmt.Sprintf("not started: %s %s", res.Action.Kind, name)
	case StatusSkipped:
		return fmt.Sprintf("skipped: %s %s: %s", res.Action.Kind, name, printable(res.Action.Skipped))
	case StatusUnchanged:
		return "unchanged " + name
	}
	line := pastTense[res.Action.Kind] + " " + name
	if res.ID != "" {
		line += " (id " + res.ID + ")"
	}
	return line
}

// resultNotes returns one line per result of r with a Note, such as
// "orders (id 6f1c...): connection changed since the plan (description);
// ...".
func resultNotes(r *Report) []string {
	var lines []string
	for _, res := range r.Results {
		if res.Note == "" {
			continue
		}
		line := printable(res.Action.Name)
		if res.ID != "" {
			line += " (id " + res.ID + ")"
		}
		lines = append(lines, line+": "+printable(res.Note))
	}
	return lines
}

var pastTense = map[ActionKind]string{
	Create:   "created",
	Update:   "updated",
	Delete:   "deleted",
	Replace:  "replaced",
	Adopt:    "adopted",
	Rename:   "renamed",
	Recreate: "recreated",
	NoChange: "unchanged",
}
