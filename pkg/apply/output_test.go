package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// canary is planted as the value of sensitive changes. No output may show it.
const canary = "canary-Secr3t-7f3a9c"

// Output plans shared by the renderer tests, named for what they exercise.
var outputPlans = map[string]*Plan{
	"empty": {Refreshed: true},
	"no-changes": {Refreshed: true, Actions: []Action{
		{Kind: NoChange, Name: "crm", ID: "c-1", File: "connections/crm.yaml", Line: 1},
		{Kind: NoChange, Name: "orders", ID: "c-2", File: "connections/orders.yaml", Line: 1},
	}},
	"one-match": {Refreshed: true, Actions: []Action{
		{Kind: NoChange, Name: "crm", ID: "c-1", File: "connections/crm.yaml", Line: 1},
	}},
	"only-skipped": {
		Refreshed:           true,
		SecretsUndetectable: true,
		Actions: []Action{
			{Kind: NoChange, Name: "crm", ID: "c-1", File: "connections/crm.yaml", Line: 1},
			{Kind: Delete, Name: "old", ID: "c-7", Skipped: "its manifest is gone: run with --prune to delete the connection"},
		},
		Warnings: []string{"no lock key (APPLY_LOCK_KEY) is set, so changes of sensitive params cannot be detected for 1 connection(s); --update-secrets sends them again"},
	},
	"field-changes": {Refreshed: true, Actions: []Action{
		{Kind: Update, Name: "orders", ID: "c-2", File: "connections/orders.yaml", Line: 1, Changes: []FieldChange{
			{Path: "auth.specName", Before: "Basic Authentication", After: "Connection String Based Authentication"},
			{Path: "auth.params.password", Before: canary, Sensitive: true, Removed: true},
			{Path: "auth.params.server", Before: "db.example", Removed: true},
			{Path: "auth.params.connectionString", After: canary, Sensitive: true},
		}},
		{Kind: Adopt, Name: "sales", ID: "c-4", File: "connections/sales.yaml", Line: 1, Changes: []FieldChange{
			{Path: "auth.params.sslMode", After: "REQUIRED", Added: true},
			{Path: "auth.params.password", After: canary, Sensitive: true, Resent: true},
		}},
		{Kind: Update, Name: "crm", ID: "c-1", File: "connections/crm.yaml", Line: 1, Changes: []FieldChange{
			{Path: "auth.params.password", After: canary, Sensitive: true, Unknown: true},
		}},
	}},
	"offline": {
		Actions: []Action{
			{Kind: Update, Name: "sales", ID: "c-4", File: "connections/sales.yaml", Line: 1,
				Note: "planned offline: the lock file records that the description or the auth params changed, but not which, so the manifest's values are listed",
				Changes: []FieldChange{
					{Path: "description", After: "Sales database", Possible: true},
					{Path: "auth.params.port", After: "3306", Possible: true},
				}},
			{Kind: NoChange, Name: "crm", ID: "c-1", File: "connections/crm.yaml", Line: 1},
		},
		Warnings: []string{offlineWarning},
	},
	"mixed": {
		Refreshed: true,
		Actions: []Action{
			{Kind: Create, Name: "orders", File: "connections/orders.yaml", Line: 1},
			{Kind: Create, Name: "warehouse", File: "connections/warehouse.yaml", Line: 3, Changes: []FieldChange{
				{Path: "description", After: "Warehouse"},
				{Path: "auth.params.password", After: canary, Sensitive: true},
			}},
			{Kind: Adopt, Name: "crm", ID: "c-9", File: "connections/crm.yaml", Line: 1},
			{Kind: Rename, Name: "billing", OldName: "billing-old", ID: "c-3", File: "connections/billing.yaml", Line: 1,
				Changes: []FieldChange{{Path: "name", Before: "billing-old", After: "billing"}}},
			{Kind: Update, Name: "sales", ID: "c-4", File: "connections/sales.yaml", Line: 1, Changes: []FieldChange{
				{Path: "description", Before: "Sales DB", After: "Sales database"},
				{Path: "auth.params.password", Before: canary, After: canary + "-new", Sensitive: true},
				{Path: "auth.params.port", Before: "3306", After: "3307"},
			}},
			{Kind: NoChange, Name: "unchanged", ID: "c-5", File: "connections/unchanged.yaml", Line: 1},
		},
		Warnings: []string{"no lock key is set (APPLY_LOCK_KEY), so changed secrets cannot be detected"},
	},
	"destructive": {Refreshed: true, Actions: []Action{
		{Kind: Replace, Name: "legacy", ID: "c-6", File: "connections/legacy.yaml", Line: 1,
			Changes: []FieldChange{{Path: "connectionSpec.id", Before: "26d738e0", After: "3c9b37f8"}}},
		{Kind: Replace, Name: "reports", ID: "c-8", File: "connections/reports.yaml", Line: 1,
			Skipped: "the connection spec changed; rerun with --allow-replace to replace it",
			Changes: []FieldChange{{Path: "connectionSpec.id", Before: "26d738e0", After: "3c9b37f8"}}},
		{Kind: Delete, Name: "old", ID: "c-7"},
		{Kind: Delete, Name: "retired", ID: "c-11", Skipped: "its manifest is gone: run with --prune to delete the connection"},
		{Kind: Recreate, Name: "gone", ID: "c-10", File: "connections/gone.yaml", Line: 1,
			Changes: []FieldChange{{Path: "auth.params.password", Sensitive: true, Unknown: true}}},
	}},
	"notes-and-errors": {Refreshed: true, Actions: []Action{
		{Kind: Create, Name: "orders", File: "connections/orders.yaml", Line: 1,
			Note: "completes an interrupted create"},
		{Kind: Update, Name: "sales", ID: "c-4", File: "connections/sales.yaml", Line: 1,
			Note:    "the connection changed since the plan was made",
			Changes: []FieldChange{{Path: "description", Before: "Sales", After: "Sales database"}}},
		{Kind: Adopt, Name: "crm", File: "connections/crm.yaml", Line: 1,
			Error: "2 connections are named crm (ids c-1, c-2); delete one or record the right id in the lock file"},
	}},
	"awkward-names": {Refreshed: true, Actions: []Action{
		{Kind: Create, Name: "two\nlines", File: "connections/a.yaml", Line: 1},
		{Kind: Create, Name: "fence ``` inside <b>", File: "connections/b.yaml", Line: 1},
	}},
}

// appliedReport returns a report of the "mixed" plan in which one action
// failed and one did not start.
func appliedReport() *Report {
	p := outputPlans["mixed"]
	r := &Report{Plan: p}
	for i, a := range p.Actions {
		res := Result{Action: a, Status: StatusApplied, ID: fmt.Sprintf("id-%d", i), Etag: fmt.Sprintf("\"etag-%d\"", i)}
		switch {
		case a.Kind == NoChange:
			res = Result{Action: a, Status: StatusUnchanged, ID: a.ID}
		case a.Name == "sales":
			res = Result{Action: a, Status: StatusFailed, ID: a.ID, Err: errors.New("update sales: 400 Bad Request: invalid port")}
		case a.Name == "warehouse":
			res = Result{Action: a, Status: StatusNotStarted}
		}
		r.Results = append(r.Results, res)
	}
	return r
}

func TestResultSummaryLine(t *testing.T) {
	tests := []struct {
		name   string
		report *Report
		want   string
	}{
		{"failure", appliedReport(), "Apply failed: 1 created, 0 updated, 0 deleted, 1 adopted, 1 renamed, 1 failed, 1 not started"},
		{"interrupted", &Report{Interrupted: true, Results: []Result{
			{Action: Action{Kind: Create, Name: "a"}, Status: StatusApplied},
			{Action: Action{Kind: Create, Name: "b"}, Status: StatusNotStarted},
		}}, "Apply interrupted: 1 created, 0 updated, 0 deleted, 1 not started"},
		{"interrupted with cancelled requests", &Report{Interrupted: true, Results: []Result{
			{Action: Action{Kind: Create, Name: "a"}, Status: StatusApplied},
			{Action: Action{Kind: Create, Name: "b"}, Status: StatusFailed, Err: errors.New("create b: context canceled")},
		}}, "Apply interrupted: 1 created, 0 updated, 0 deleted, 1 failed"},
		{"complete", &Report{Results: []Result{
			{Action: Action{Kind: Delete, Name: "a"}, Status: StatusApplied},
			{Action: Action{Kind: NoChange, Name: "b"}, Status: StatusUnchanged},
		}}, "Apply complete: 0 created, 0 updated, 1 deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CountResults(tt.report).SummaryLine(); got != tt.want {
				t.Errorf("SummaryLine() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderReportGolden(t *testing.T) {
	r := appliedReport()
	var js, md bytes.Buffer
	if err := WriteJSON(&js, r.Plan, JSONOptions{Report: r}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r.Plan, MarkdownOptions{Report: r}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "output", "report.json"), js.String())

	r.LockErr = errors.New("update lock file: disk full")
	var withLockErr bytes.Buffer
	if err := WriteJSON(&withLockErr, r.Plan, JSONOptions{Report: r}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"complete": false`, `"update lock file: disk full"`} {
		if !strings.Contains(withLockErr.String(), want) {
			t.Errorf("JSON of a report with a lock file error lacks %s:\n%s", want, withLockErr.String())
		}
	}
	checkGolden(t, filepath.Join("testdata", "output", "report.md"), md.String())
	for _, out := range []string{js.String(), md.String()} {
		if strings.Contains(out, canary) {
			t.Errorf("report output shows a sensitive value:\n%s", out)
		}
	}
}

func TestCountsSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		plan string
		want string
	}{
		{"empty plan", "empty", "Plan: 0 to create, 0 to update, 0 to delete"},
		{"nothing to change", "no-changes", "Plan: 0 to create, 0 to update, 0 to delete"},
		{"extras follow the three counts", "mixed", "Plan: 2 to create, 1 to update, 0 to delete, 1 to adopt, 1 to rename"},
		{"skipped actions counted apart", "destructive", "Plan: 0 to create, 0 to update, 1 to delete, 1 to replace, 1 to recreate, 2 skipped"},
		{"planning errors counted apart", "notes-and-errors", "Plan: 1 to create, 1 to update, 0 to delete, 1 with errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CountActions(outputPlans[tt.plan]).SummaryLine()
			if got != tt.want {
				t.Errorf("SummaryLine() of plan %q = %q, want %q", tt.plan, got, tt.want)
			}
		})
	}
}

func TestOutcomeLine(t *testing.T) {
	tests := []struct {
		plan string
		want string
	}{
		{"no-changes", "No changes. 2 connections match the manifests."},
		{"one-match", "No changes. 1 connection matches the manifests."},
		{"only-skipped", "Nothing will change in this run: 1 delete skipped (needs --prune), changes of sensitive params cannot be detected (see the warnings)."},
		{"mixed", ""},
		{"offline", ""},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			p := outputPlans[tt.plan]
			if got := outcomeLine(p, CountActions(p)); got != tt.want {
				t.Errorf("outcomeLine(%s) = %q, want %q", tt.plan, got, tt.want)
			}
		})
	}

	offline := &Plan{Actions: []Action{{Kind: NoChange, Name: "crm"}}}
	if got, want := outcomeLine(offline, CountActions(offline)), "No changes. 1 connection matches the manifests, as far as the lock file records."; got != want {
		t.Errorf("outcomeLine(offline plan) = %q, want %q", got, want)
	}
	withError := &Plan{Refreshed: true, Actions: []Action{{Kind: Adopt, Name: "crm", Error: "ambiguous"}}}
	if got := outcomeLine(withError, CountActions(withError)); !strings.HasPrefix(got, "Nothing will change in this run: 1 action with errors") {
		t.Errorf("outcomeLine(plan with an error) = %q, want it to name the error", got)
	}
}

func TestSkippedActionsGroupedApart(t *testing.T) {
	var text bytes.Buffer
	if err := WriteText(&text, outputPlans["only-skipped"], TextOptions{}); err != nil {
		t.Fatal(err)
	}
	md := RenderMarkdown(outputPlans["only-skipped"], MarkdownOptions{})
	for form, out := range map[string]string{"text": text.String(), "markdown": md} {
		if strings.Contains(out, "To delete") {
			t.Errorf("%s output lists a skipped delete under To delete:\n%s", form, out)
		}
		if !strings.Contains(out, "Skipped (1)") || !strings.Contains(out, "! delete old") {
			t.Errorf("%s output lacks the skipped delete in its own group:\n%s", form, out)
		}
		if strings.Contains(out, "No changes") {
			t.Errorf("%s output says No changes although a delete is skipped:\n%s", form, out)
		}
	}
}

// TestRenderGolden compares every plan in every form with the files in
// testdata/output. Run with UPDATE_GOLDEN=1 to rewrite them.
func TestRenderGolden(t *testing.T) {
	renderers := map[string]func(*Plan) (string, error){
		"txt": func(p *Plan) (string, error) {
			var b bytes.Buffer
			err := WriteText(&b, p, TextOptions{})
			return b.String(), err
		},
		"color.txt": func(p *Plan) (string, error) {
			var b bytes.Buffer
			err := WriteText(&b, p, TextOptions{Color: true})
			return b.String(), err
		},
		"json": func(p *Plan) (string, error) {
			var b bytes.Buffer
			err := WriteJSON(&b, p, JSONOptions{DryRun: true})
			return b.String(), err
		},
		"md": func(p *Plan) (string, error) {
			var b bytes.Buffer
			err := WriteMarkdown(&b, p, MarkdownOptions{})
			return b.String(), err
		},
	}
	for name, plan := range outputPlans {
		for ext, render := range renderers {
			t.Run(name+"."+ext, func(t *testing.T) {
				got, err := render(plan)
				if err != nil {
					t.Fatalf("render %s: %v", ext, err)
				}
				if strings.Contains(got, canary) {
					t.Errorf("output shows a sensitive value:\n%s", got)
				}
				checkGolden(t, filepath.Join("testdata", "output", name+"."+ext), got)
			})
		}
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with UPDATE_GOLDEN=1 to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestWriteJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, outputPlans["mixed"], JSONOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion int `json:"formatVersion"`
		Summary       struct {
			Create  int  `json:"create"`
			Changes bool `json:"changes"`
		} `json:"summary"`
		Actions []struct {
			Name    string           `json:"name"`
			Changes []map[string]any `json:"changes"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("decode JSON output: %v\n%s", err, b.String())
	}
	if doc.FormatVersion != JSONFormatVersion {
		t.Errorf("formatVersion = %d, want %d", doc.FormatVersion, JSONFormatVersion)
	}
	if doc.Summary.Create != 2 || !doc.Summary.Changes {
		t.Errorf("summary = %+v, want 2 creates and changes", doc.Summary)
	}
	var sensitive map[string]any
	for _, a := range doc.Actions {
		for _, c := range a.Changes {
			if c["path"] == "auth.params.password" {
				sensitive = c
			}
		}
	}
	want := map[string]any{"path": "auth.params.password", "sensitive": true, "unknown": false}
	if diff := cmp.Diff(want, sensitive); diff != "" {
		t.Errorf("sensitive change (-want +got):\n%s", diff)
	}
}

func TestRenderMarkdownLongPlan(t *testing.T) {
	tests := []struct {
		name    string
		actions int
		maxSize int
	}{
		{"10000 creates default size", 10000, 0},
		{"10000 creates exact comment limit", 10000, MaxCommentSize},
		{"300 creates small limit", 300, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{}
			for i := range tt.actions {
				kind := []ActionKind{Create, Update, Delete}[i%3]
				p.Actions = append(p.Actions, Action{
					Kind: kind, Name: fmt.Sprintf("connection-%05d", i), ID: fmt.Sprintf("id-%05d", i),
					File: fmt.Sprintf("connections/c-%05d.yaml", i), Line: 1,
					Changes: []FieldChange{{Path: "description", Before: "old", After: "new"}},
				})
			}
			limit := tt.maxSize
			if limit == 0 {
				limit = DefaultMarkdownSize
			}
			got := RenderMarkdown(p, MarkdownOptions{MaxSize: tt.maxSize})
			if n := charCount(got); n > limit {
				t.Errorf("RenderMarkdown of %d actions has %d characters, want at most %d", tt.actions, n, limit)
			}
			if n := charCount(got); n < limit/2 {
				t.Errorf("RenderMarkdown of %d actions has %d characters, want it to use most of the %d allowed", tt.actions, n, limit)
			}
			summary := CountActions(p).SummaryLine()
			if !strings.Contains(got, summary) {
				t.Errorf("summarised Markdown lacks the summary line %q", summary)
			}
			if !strings.Contains(got, "more not shown") {
				t.Error("summarised Markdown does not say that actions were left out")
			}
			if !strings.Contains(got, "[!WARNING]") {
				t.Error("summarised Markdown lost the delete warning")
			}
			if open, closed := strings.Count(got, "<details>"), strings.Count(got, "</details>"); open != 3 || closed != 3 {
				t.Errorf("got %d <details> and %d </details>, want 3 of each", open, closed)
			}
		})
	}
}

func TestCodeFence(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", "```"},
		{"one ` tick", "```"},
		{"three ``` ticks", "````"},
		{"five ````` ticks", "``````"},
	}
	for _, tt := range tests {
		if got := codeFence(tt.in); got != tt.want {
			t.Errorf("codeFence(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, nil", f, got, err, f)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "text, json, markdown") {
		t.Errorf("ParseFormat(%q) error = %v, want one listing the valid formats", "yaml", err)
	}
}
