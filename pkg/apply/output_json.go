package apply

import (
	"encoding/json"
	"io"
)

// JSONFormatVersion is the version of the JSON document that [WriteJSON]
// writes. It changes only when a field is removed or changes meaning. New
// fields may appear within a version. Keep in sync with docs/output.md.
const JSONFormatVersion = 1

// jsonDocument is the JSON output. Field order and names are part of the
// documented format.
type jsonDocument struct {
	FormatVersion int          `json:"formatVersion"`
	DryRun        bool         `json:"dryRun"`
	Refreshed     bool         `json:"refreshed"`
	Summary       jsonSummary  `json:"summary"`
	Actions       []jsonAction `json:"actions"`
	Warnings      []string     `json:"warnings"`
	Results       []jsonResult `json:"results,omitempty"`
	Applied       *jsonApplied `json:"applied,omitempty"`
	Errors        []string     `json:"errors,omitempty"`
}

type jsonSummary struct {
	Create   int  `json:"create"`
	Update   int  `json:"update"`
	Delete   int  `json:"delete"`
	Replace  int  `json:"replace"`
	Adopt    int  `json:"adopt"`
	Rename   int  `json:"rename"`
	Recreate int  `json:"recreate"`
	NoChange int  `json:"noChange"`
	Skipped  int  `json:"skipped"`
	Errors   int  `json:"errors"`
	Changes  bool `json:"changes"`
}

type jsonAction struct {
	Action  ActionKind   `json:"action"`
	Name    string       `json:"name"`
	OldName string       `json:"oldName,omitempty"`
	ID      string       `json:"id,omitempty"`
	OldID   string       `json:"oldId,omitempty"`
	File    string       `json:"file,omitempty"`
	Line    int          `json:"line,omitempty"`
	Skipped string       `json:"skipped,omitempty"`
	Note    string       `json:"note,omitempty"`
	Warning string       `json:"warning,omitempty"`
	Error   string       `json:"error,omitempty"`
	Changes []jsonChange `json:"changes"`
}

// jsonChange is one changed field. Before and After are pointers so that a
// value that is hidden or does not exist carries no key at all, rather
// than an empty string that a reader could take for a real value.
type jsonChange struct {
	Path      string  `json:"path"`
	Before    *string `json:"before,omitempty"`
	After     *string `json:"after,omitempty"`
	Sensitive bool    `json:"sensitive"`
	Unknown   bool    `json:"unknown"`
	Added     bool    `json:"added,omitempty"`
	Removed   bool    `json:"removed,omitempty"`
	Resent    bool    `json:"resent,omitempty"`
	Possible  bool    `json:"possible,omitempty"`
}

type jsonResult struct {
	Action ActionKind `json:"action"`
	Name   string     `json:"name"`
	Status Status     `json:"status"`
	ID     string     `json:"id,omitempty"`
	Etag   string     `json:"etag,omitempty"`
	Error  string     `json:"error,omitempty"`
	Note   string     `json:"note,omitempty"`
}

type jsonApplied struct {
	Complete    bool `json:"complete"`
	Interrupted bool `json:"interrupted"`
	Applied     int  `json:"applied"`
	Unchanged   int  `json:"unchanged"`
	Failed      int  `json:"failed"`
	Skipped     int  `json:"skipped"`
	NotStarted  int  `json:"notStarted"`
}

// JSONOptions contains what the JSON document records besides the plan.
type JSONOptions struct {
	DryRun bool
	// Report, when set, adds the results of an apply.
	Report *Report
	// Errors are run-level failures to record, such as a lock that could not
	// be taken. Callers must not pass messages that contain secrets.
	Errors []string
}

// WriteJSON writes the plan, and the results of opts.Report when set, as
// one indented JSON document, documented in docs/output.md. Sensitive
// values never appear in it. A sensitive change contains only its path and
// "sensitive": true.
func WriteJSON(w io.Writer, p *Plan, opts JSONOptions) error {
	doc := newJSONDocument(p, opts)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func newJSONDocument(p *Plan, opts JSONOptions) *jsonDocument {
	c := CountActions(p)
	doc := &jsonDocument{
		FormatVersion: JSONFormatVersion,
		DryRun:        opts.DryRun,
		Refreshed:     p.Refreshed,
		Summary: jsonSummary{
			Create: c.Create, Update: c.Update, Delete: c.Delete,
			Replace: c.Replace, Adopt: c.Adopt, Rename: c.Rename,
			Recreate: c.Recreate, NoChange: c.NoChange, Skipped: c.Skipped,
			Errors: c.Errors, Changes: c.Changes(),
		},
		Actions:  make([]jsonAction, 0, len(p.Actions)),
		Warnings: append([]string{}, p.Warnings...),
		Errors:   opts.Errors,
	}
	for _, a := range p.Actions {
		doc.Actions = append(doc.Actions, newJSONAction(a))
	}
	if r := opts.Report; r != nil {
		doc.Results = make([]jsonResult, 0, len(r.Results))
		for _, res := range r.Results {
			jr := jsonResult{Action: res.Action.Kind, Name: res.Action.Name, Status: res.Status, ID: res.ID, Etag: res.Etag, Note: res.Note}
			if res.Err != nil {
				jr.Error = res.Err.Error()
			}
			doc.Results = append(doc.Results, jr)
		}
		rc := CountResults(r)
		applied := 0
		for _, n := range rc.Applied {
			applied += n
		}
		if r.LockErr != nil {
			doc.Errors = append(doc.Errors, r.LockErr.Error())
		}
		doc.Applied = &jsonApplied{
			Complete:    rc.Failed == 0 && !rc.Interrupted && r.LockErr == nil,
			Interrupted: rc.Interrupted,
			Applied:     applied,
			Unchanged:   rc.Unchanged,
			Failed:      rc.Failed,
			Skipped:     rc.Skipped,
			NotStarted:  rc.NotStarted,
		}
	}
	return doc
}

func newJSONAction(a Action) jsonAction {
	ja := jsonAction{
		Action:  a.Kind,
		Name:    a.Name,
		OldName: a.OldName,
		ID:      a.ID,
		OldID:   a.OldID,
		File:    a.File,
		Line:    a.Line,
		Skipped: a.Skipped,
		Note:    a.Note,
		Warning: a.Warning,
		Error:   a.Error,
		Changes: make([]jsonChange, 0, len(a.Changes)),
	}
	for _, c := range a.Changes {
		ja.Changes = append(ja.Changes, newJSONChange(c))
	}
	return ja
}

// newJSONChange returns c with before only where a value existed before
// and is not sensitive, and after only where it exists after, is known
// and is not sensitive.
func newJSONChange(c FieldChange) jsonChange {
	jc := jsonChange{
		Path: c.Path, Sensitive: c.Sensitive, Unknown: c.Unknown,
		Added: c.Added, Removed: c.Removed, Resent: c.Resent, Possible: c.Possible,
	}
	if c.Sensitive {
		return jc
	}
	if !c.Added && !c.Possible {
		before := c.Before
		jc.Before = &before
	}
	if !c.Unknown && !c.Removed {
		after := c.After
		jc.After = &after
	}
	return jc
}
