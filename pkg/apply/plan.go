package apply

import "errors"

// ActionKind is the operation that a plan performs on one connection.
type ActionKind string

// Action kinds.
const (
	Create   ActionKind = "create"
	Adopt    ActionKind = "adopt"
	Update   ActionKind = "update"
	Replace  ActionKind = "replace"
	Delete   ActionKind = "delete"
	Recreate ActionKind = "recreate"
	Rename   ActionKind = "rename"
	NoChange ActionKind = "no-change"
)

// Action is one planned change.
type Action struct {
	Kind    ActionKind
	Name    string // manifest name, or the lock entry's name for a delete
	OldName string // previous name of a rename
	ID      string // remote connection id, when known
	OldID   string // connection that a replace deletes once its successor exists
	File    string // manifest file, empty for a delete
	Line    int

	Changes []FieldChange

	// Skipped is the reason the action will not run, for example a replace
	// without --allow-replace or a delete without --prune.
	Skipped string

	// Note adds context a reviewer needs, such as "completes an
	// interrupted create" or "connection no longer exists remotely".
	Note string

	// Warning is a risk of this action that a reviewer must weigh before
	// applying, such as a create that makes a second connection with a name
	// already in use. Unlike Error, it does not stop the apply.
	Warning string

	// Error is a problem found while planning, such as two remote
	// connections matching one manifest. A plan with any Error cannot be
	// applied.
	Error string

	step *step // executor state, nil for plans built by hand
}

// FieldChange is one field that differs, shown as Before → After.
type FieldChange struct {
	Path      string // such as "description" or "auth.params.password"
	Before    string
	After     string
	Sensitive bool // Before and After are never shown
	Unknown   bool // the value cannot be known until apply

	Added   bool // the field is absent before the change, so Before is empty
	Removed bool // the field is absent after the change, so After is empty

	// Resent marks sensitive params that are sent again, with other auth
	// params, although no change of them was detected.
	Resent bool

	// Possible marks a field whose change an offline plan cannot confirm,
	// because the lock file records only that the manifest changed. After
	// is the manifest's value.
	Possible bool
}

// Plan is the set of actions for one run, sorted by kind and name.
type Plan struct {
	Actions  []Action
	Warnings []string

	// Refreshed is true when the plan compared manifests with the remote
	// state, false when it was computed offline from the lock file alone.
	Refreshed bool

	// SecretsUndetectable is true when a change of a sensitive param
	// cannot be seen for at least one connection: no lock key was given,
	// the key changed, or the lock file contains no HMAC for it.
	SecretsUndetectable bool

	// SecretsUnresolved is the number of connections whose sensitive params
	// use unset variables, so their changes are unknown.
	SecretsUnresolved int

	// AuthUnchecked is the number of connections whose description and
	// auth params an offline plan cannot compare with the lock file. Their
	// connection spec is not built in, so their auth params are checked,
	// and their values shown, only online.
	AuthUnchecked int

	session    *Session
	generation int // the session's count of applies when the plan was made
}

// Err joins the plan-time problems recorded in Action.Error, or returns nil.
func (p *Plan) Err() error {
	var errs []error
	for _, a := range p.Actions {
		if a.Error != "" {
			errs = append(errs, errors.New(a.Name+": "+a.Error))
		}
	}
	return errors.Join(errs...)
}

// Summary counts the actions of a plan.
type Summary struct {
	Kinds   map[ActionKind]int // actions that will run, by kind, no-change included
	Skipped int                // actions with Skipped set, not counted in Kinds
	Errors  int                // actions with Error set, not counted in Kinds
}

// Summary counts p's actions by kind.
func (p *Plan) Summary() Summary {
	s := Summary{Kinds: make(map[ActionKind]int)}
	for _, a := range p.Actions {
		switch {
		case a.Error != "":
			s.Errors++
		case a.Skipped != "":
			s.Skipped++
		default:
			s.Kinds[a.Kind]++
		}
	}
	return s
}

// HasChanges reports whether applying p would run any action other than
// no-change. Skipped actions do not count, but actions with an Error do.
func (p *Plan) HasChanges() bool {
	for _, a := range p.Actions {
		if a.Error != "" || (a.Skipped == "" && a.Kind != NoChange) {
			return true
		}
	}
	return false
}
