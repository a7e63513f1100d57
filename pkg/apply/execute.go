package apply

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// Apply carries out p, which must come from this session's Plan with
// Config.Refresh set, running up to Config.Parallelism actions at once,
// and keeps the lock file up to date as they complete.
//
// Before the first create, one write of the lock file marks every planned
// create as pending. Results are then written in batches every
// commitInterval and once more at the end. A run killed at any moment
// therefore loses no id (see the package documentation). A plan with nothing
// to change sends no write request, and the lock file is written only if
// its content changes.
//
// Closing stop requests a graceful stop: no new action starts, running
// actions finish and the lock file is written. Apply then returns an error
// wrapping [ErrInterrupted]. Cancelling ctx also cancels the requests in
// flight, and the lock file is still written with what is known. Unless
// Config.FailFast is set, a failed action does not stop the others. With
// FailFast, no new action starts after the first failure, and running ones
// finish.
//
// The report lists every action's result. The error joins every
// failure, the lock file's final write error (also in Report.LockErr) and
// [ErrInterrupted], or is nil when all actions succeeded. Apply returns a
// nil report only when it started no action: the session or the plan
// cannot be applied, or the planned creates could not be recorded.
func (s *Session) Apply(ctx context.Context, p *Plan, stop <-chan struct{}) (*Report, error) {
	if err := s.checkApplicable(p); err != nil {
		return nil, err
	}
	s.applies++
	x := &executor{
		s:       s,
		plan:    p,
		lock:    s.lock.clone(),
		claimed: make(map[string]bool),
		failed:  make(chan struct{}),
		results: make([]Result, len(p.Actions)),
	}
	for _, e := range s.lock.Entries {
		x.claimed[e.ID] = true
		x.claimed[e.Replaces] = true
	}

	// Settle what needs no request, and find the actions that do.
	var runnable []int
	for i := range p.Actions {
		a := &p.Actions[i]
		x.results[i] = Result{Action: *a, Status: StatusNotStarted, ID: a.ID}
		switch {
		case a.Skipped != "":
			x.results[i].Status = StatusSkipped
		case a.Kind == NoChange:
			x.record(a.step, a.step.id)
			x.results[i].Status = StatusUnchanged
		default:
			runnable = append(runnable, i)
		}
	}

	// Record the intent of every create before the first is sent.
	if x.markPending(runnable) {
		if err := x.flush(); err != nil {
			return nil, fmt.Errorf("record planned creates before sending them: %w", err)
		}
	}

	commitDone := make(chan struct{})
	var committer sync.WaitGroup
	committer.Go(func() { x.commitLoop(commitDone) })

	var g errgroup.Group
	g.SetLimit(s.cfg.Parallelism) // the limit protects the service from a burst of requests
	for _, i := range runnable {
		if x.stopping(ctx, stop) {
			break
		}
		g.Go(func() error {
			if x.stopping(ctx, stop) {
				return nil
			}
			x.runAction(ctx, i)
			return nil
		})
	}
	g.Wait()
	close(commitDone)
	committer.Wait()

	report := x.report()
	for i, res := range report.Results {
		if res.Status == StatusNotStarted && p.Actions[i].step.create {
			// Its create was never sent.
			x.restore(p.Actions[i].step)
		}
	}
	report.Interrupted = (isClosed(stop) || ctx.Err() != nil) && report.unfinished()
	if err := x.flush(); err != nil {
		report.LockErr = err
	}
	errs := []error{report.Err(), report.LockErr}
	if report.Interrupted {
		errs = append(errs, ErrInterrupted)
	}
	s.lock = x.lock.clone()
	return report, errors.Join(errs...)
}

func (s *Session) checkApplicable(p *Plan) error {
	switch {
	case s.flock == nil:
		return errors.New("apply: session is closed")
	case s.cfg.DryRun:
		return errors.New("apply: session was opened for a dry run")
	case p == nil || p.session != s:
		return errors.New("apply: plan was not made by this session")
	case p.generation != s.applies:
		return errors.New("apply: plan is out of date because the session applied a plan since; plan again")
	case !p.Refreshed:
		return errors.New("apply: plan was made offline; applying needs a plan made with the remote state")
	}
	if err := p.Err(); err != nil {
		return fmt.Errorf("apply: plan has errors: %w", err)
	}
	return nil
}

// executor carries out one plan.
type executor struct {
	s    *Session
	plan *Plan

	mu      sync.Mutex
	lock    *lockFile       // working copy, written by flush
	dirty   bool            // lock changed since the last flush
	claimed map[string]bool // ids recorded in the lock file or created by this run
	results []Result

	failOnce sync.Once
	failed   chan struct{} // closed on the first failure with FailFast

	writeMu sync.Mutex // serializes lock file writes
}

// stopping reports whether no new action may start.
func (x *executor) stopping(ctx context.Context, stop <-chan struct{}) bool {
	return isClosed(stop) || isClosed(x.failed) || ctx.Err() != nil
}

func isClosed(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// runAction runs action i and stores its result.
func (x *executor) runAction(ctx context.Context, i int) {
	a := x.plan.Actions[i]
	x.emit(Event{Kind: EventStarted, Index: i, Action: a})
	x.s.log.Debug("action started", "kind", a.Kind, "name", a.Name, "id", a.ID)

	id, etag, err := x.run(ctx, a.step)
	res := Result{Action: a, Status: StatusApplied, ID: id, Etag: etag, Note: a.step.raceNote}
	if err != nil {
		res.Status = StatusFailed
		res.Err = fmt.Errorf("%s %s: %w", a.Kind, a.Name, err)
		x.s.log.Debug("action failed", "kind", a.Kind, "name", a.Name, "err", err)
		if x.s.cfg.FailFast {
			x.failOnce.Do(func() { close(x.failed) })
		}
	} else {
		x.s.log.Debug("action applied", "kind", a.Kind, "name", a.Name, "id", id)
	}

	x.mu.Lock()
	x.results[i] = res
	x.mu.Unlock()
	x.emit(Event{Kind: EventFinished, Index: i, Action: a, Result: &res})
}

func (x *executor) emit(ev Event) {
	if x.s.cfg.OnEvent != nil {
		x.s.cfg.OnEvent(ev)
	}
}

// run carries out one step and returns the connection's id and last etag.
func (x *executor) run(ctx context.Context, st *step) (id, etag string, err error) {
	if st.manifest == nil {
		return x.runDelete(ctx, st)
	}

	id = st.id
	if st.remote != nil {
		etag = st.remote.Etag
	}
	if st.create {
		ref, err := x.create(ctx, st)
		if err != nil {
			if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
				// Nothing was created, so the pending entry must not make
				// the next run adopt, create or delete anything.
				x.restore(st)
			}
			return "", "", err
		}
		id, etag = ref.ID, ref.Etag
	} else {
		ref, err := x.patch(ctx, st)
		if err != nil {
			return id, "", err
		}
		etag = ref.Etag
	}

	if len(st.deleteIDs) > 0 {
		// Record the new connection before deleting the old one, so that
		// a kill in between keeps both ids.
		x.recordReplacing(st, id)
		for _, old := range st.deleteIDs {
			if err := x.delete(ctx, old); err != nil {
				return id, etag, fmt.Errorf("created %s, but deleting the old connection failed (the next run tries again): %w", id, err)
			}
		}
	}
	x.record(st, id)
	return id, etag, nil
}

func (x *executor) runDelete(ctx context.Context, st *step) (string, string, error) {
	for _, id := range st.deleteIDs {
		if err := x.delete(ctx, id); err != nil {
			return id, "", err
		}
	}
	x.mu.Lock()
	delete(x.lock.Entries, st.lockName)
	x.dirty = true
	x.mu.Unlock()
	return "", "", nil
}

// delete deletes a connection. A connection that is already gone counts as
// deleted.
func (x *executor) delete(ctx context.Context, id string) error {
	err := x.s.cfg.Client.DeleteConnection(ctx, id)
	if errors.Is(err, flowservice.ErrNotFound) {
		return nil
	}
	return err
}

// create creates the step's connection. When the outcome of a request is
// unknown (a timeout or a lost response), it looks the connection up by
// name. One match is the connection that request created. No match means
// the request had no effect, so it is sent again.
//
// NOTE: this relies on the listing showing a connection as soon as its
// create returned. The documentation does not say whether listings are
// immediately consistent. If they lag, a retried create could make a
// duplicate, which the next run reports as an ambiguous match.
func (x *executor) create(ctx context.Context, st *step) (flowservice.Ref, error) {
	const maxAttempts = 5
	client := x.s.cfg.Client
	m := st.manifest
	for attempt := 1; ; attempt++ {
		ref, err := client.CreateConnection(ctx, connectionInput(m))
		if err == nil {
			x.claim(ref.ID)
			return ref, nil
		}
		if errors.Is(err, flowservice.ErrCreatedIDUnknown) {
			return x.findCreated(ctx, st, err)
		}
		if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
			return flowservice.Ref{}, err
		}
		x.s.log.Debug("create outcome unknown; looking the connection up by name", "name", m.Name, "attempt", attempt, "err", err)
		found, lookupErr := x.lookup(ctx, m.Name, m.ConnectionSpec.ID)
		switch {
		case lookupErr != nil:
			return flowservice.Ref{}, fmt.Errorf("%w; looking it up by name failed too (the next run resolves it): %v", err, lookupErr)
		case len(found) == 1:
			x.claim(found[0].ID)
			return flowservice.Ref{ID: found[0].ID, Etag: found[0].Etag}, nil
		case len(found) > 1:
			return flowservice.Ref{}, fmt.Errorf("%w, and %s", err, ambiguous(m.Name, found))
		case attempt == maxAttempts:
			return flowservice.Ref{}, fmt.Errorf("%w (after %d attempts)", err, attempt)
		}
	}
}

// findCreated looks up by name the connection that a create made whose
// response could not be read (createErr). The connection exists, so the
// create is never sent again. If the lookup does not find it, the step
// fails, and its entry stays pending for the next run to resolve.
func (x *executor) findCreated(ctx context.Context, st *step, createErr error) (flowservice.Ref, error) {
	m := st.manifest
	x.s.log.Debug("create succeeded but its id could not be read; looking the connection up by name", "name", m.Name, "err", createErr)
	found, err := x.lookup(ctx, m.Name, m.ConnectionSpec.ID)
	switch {
	case err != nil:
		return flowservice.Ref{}, fmt.Errorf("%w; looking it up by name failed too (the next run resolves it by name): %v", createErr, err)
	case len(found) == 1:
		x.claim(found[0].ID)
		return flowservice.Ref{ID: found[0].ID, Etag: found[0].Etag}, nil
	case len(found) > 1:
		return flowservice.Ref{}, fmt.Errorf("%w, and %s", createErr, ambiguous(m.Name, found))
	}
	return flowservice.Ref{}, fmt.Errorf("%w, and it is not listed yet; the next run resolves it by name", createErr)
}

// lookup returns the unclaimed remote connections named name with the
// connection spec specID.
func (x *executor) lookup(ctx context.Context, name, specID string) ([]*flowservice.Connection, error) {
	conns, err := x.s.cfg.Client.FindConnectionsByName(ctx, name)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	var found []*flowservice.Connection
	for i := range conns {
		if conns[i].ConnectionSpec.ID == specID && !x.claimed[conns[i].ID] {
			found = append(found, &conns[i])
		}
	}
	return found, nil
}

func (x *executor) claim(id string) {
	x.mu.Lock()
	x.claimed[id] = true
	x.mu.Unlock()
}

// patch sends what differs between the step's manifest and its remote
// connection. If the connection changed since it was read (412), it reads
// it again and retries once with the new etag.
func (x *executor) patch(ctx context.Context, st *step) (flowservice.Ref, error) {
	client := x.s.cfg.Client
	ops := patchOps(st.manifest, st.remote, st.sendParams)
	if len(ops) == 0 {
		return flowservice.Ref{ID: st.id, Etag: st.remote.Etag}, nil
	}
	ref, err := client.PatchConnection(ctx, st.id, st.remote.Etag, ops)
	if !errors.Is(err, flowservice.ErrPreconditionFailed) {
		return ref, err
	}

	x.s.log.Debug("connection changed since it was read; reading it again", "id", st.id)
	current, err := client.GetConnection(ctx, st.id)
	if err != nil {
		return flowservice.Ref{}, fmt.Errorf("connection changed since the plan was made, and reading it again failed: %w", err)
	}
	ops = patchOps(st.manifest, current, st.sendParams)
	st.raceNote = raceNote(st.remote, current, len(ops) > 0)
	x.s.notify(fmt.Sprintf("%s (id %s): %s", printable(st.manifest.Name), st.id, st.raceNote))
	if len(ops) == 0 {
		return flowservice.Ref{ID: st.id, Etag: current.Etag}, nil
	}
	ref, err = client.PatchConnection(ctx, st.id, current.Etag, ops)
	if errors.Is(err, flowservice.ErrPreconditionFailed) {
		return ref, fmt.Errorf("connection keeps changing while apply updates it; run again once the other change is done: %w", err)
	}
	return ref, err
}

// raceNote describes a connection that changed between the plan (planned)
// and a read after a 412 (current): the fields that differ, by path only,
// and whether the patch is sent again.
func raceNote(planned, current *flowservice.Connection, patched bool) string {
	note := "connection changed since the plan"
	if fields := changedFields(planned, current); len(fields) > 0 {
		note += " (" + strings.Join(fields, ", ") + ")"
	}
	if patched {
		return note + "; patched again to match the manifest, which overwrote that change"
	}
	return note + "; it matches the manifest now, so nothing was sent"
}

// changedFields returns the paths of the fields that differ between two
// reads of one connection, sorted. Values are compared but never returned.
func changedFields(a, b *flowservice.Connection) []string {
	var fields []string
	if a.Name != b.Name {
		fields = append(fields, "name")
	}
	if a.Description != b.Description {
		fields = append(fields, "description")
	}
	var aAuth, bAuth flowservice.ConnectionAuth
	if a.Auth != nil {
		aAuth = *a.Auth
	}
	if b.Auth != nil {
		bAuth = *b.Auth
	}
	if aAuth.SpecName != bAuth.SpecName {
		fields = append(fields, "auth.specName")
	}
	names := make(map[string]bool)
	for k := range aAuth.Params {
		names[k] = true
	}
	for k := range bAuth.Params {
		names[k] = true
	}
	for _, k := range sortedKeys(names) {
		av, aok := aAuth.Params[k]
		bv, bok := bAuth.Params[k]
		if aok != bok || !reflect.DeepEqual(av, bv) {
			fields = append(fields, "auth.params."+k)
		}
	}
	return fields
}

// report returns the results gathered so far.
func (x *executor) report() *Report {
	x.mu.Lock()
	defer x.mu.Unlock()
	return &Report{Plan: x.plan, Results: append([]Result(nil), x.results...)}
}
