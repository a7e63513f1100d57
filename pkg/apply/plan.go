package apply

// ActionKind is what the plan does with one connection.
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
	File    string // manifest file, empty for a delete
	Line    int

	Changes []FieldChange

	// Skipped says why the action will not run, for example a replace
	// without --allow-replace or a delete without --prune.
	Skipped string
}

// FieldChange is one field that differs, shown as Before → After.
type FieldChange struct {
	Path      string // such as "description" or "auth.params.password"
	Before    string
	After     string
	Sensitive bool // Before and After are never shown
	Unknown   bool // the value cannot be known until apply
}

// Plan is the set of actions for one run, sorted by kind and name.
type Plan struct {
	Actions  []Action
	Warnings []string
}
