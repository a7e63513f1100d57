package apply

import "errors"

// Status is the outcome of one action.
type Status string

// Action outcomes.
const (
	StatusApplied    Status = "applied"     // the action ran and succeeded
	StatusUnchanged  Status = "unchanged"   // a no-change action, so nothing was sent
	StatusFailed     Status = "failed"      // the action ran and failed with Err
	StatusSkipped    Status = "skipped"     // the action was planned with Skipped set
	StatusNotStarted Status = "not-started" // an interrupt or --fail-fast stopped it first
)

// Result is the outcome of one action of an applied plan.
type Result struct {
	Action Action
	Status Status
	ID     string // connection id after the action, when there is one
	Etag   string // etag returned by the last write, when there was one
	Err    error  // cause of the failure, which never contains a sensitive value

	// Note is context the user needs about an action that ran, such as a
	// patch that overwrote a change made outside apply since the plan.
	// It contains field paths, never values.
	Note string
}

// Report is the outcome of [Session.Apply]: one result per action of the
// plan, in the plan's order.
type Report struct {
	Plan        *Plan
	Results     []Result
	Interrupted bool // stop was closed or the context cancelled before every action finished

	// LockErr is the error of the lock file's final write, or nil. After
	// such an error, the next run finds by name the connections created
	// since the last successful write.
	LockErr error
}

// Err joins the errors of failed results, or returns nil. It leaves out
// LockErr.
func (r *Report) Err() error {
	var errs []error
	for _, res := range r.Results {
		if res.Err != nil {
			errs = append(errs, res.Err)
		}
	}
	return errors.Join(errs...)
}

// unfinished reports whether an action failed or did not start.
func (r *Report) unfinished() bool {
	for _, res := range r.Results {
		if res.Status == StatusFailed || res.Status == StatusNotStarted {
			return true
		}
	}
	return false
}

// EventKind is the kind of a progress event.
type EventKind string

// Event kinds.
const (
	EventStarted  EventKind = "started"
	EventFinished EventKind = "finished"

	// EventNotice carries a message for the user in Event.Message, such
	// as a wait for the creates of an earlier run, or a connection that
	// changed outside apply while it was patched. It belongs to no action.
	EventNotice EventKind = "notice"
)

// Event reports progress of [Session.Plan] and [Session.Apply] to
// Config.OnEvent.
type Event struct {
	Kind    EventKind
	Index   int     // the action's index in Plan.Actions, or -1 for EventNotice
	Action  Action  // the action, zero for EventNotice
	Result  *Result // set for EventFinished
	Message string  // set for EventNotice: one line that contains no secret
}
