package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/spec"
)

// Plan compares manifests with the lock file and, when Config.Refresh is
// set, with the remote state, and returns one action per manifest and per
// lock entry left over. Plan only reads: it sends no write request and
// does not write the lock file. When a pending entry of an interrupted run
// has no connection yet, Plan may wait up to Config.PendingGrace for its
// create to land. Cancelling ctx ends the wait with an error.
//
// Problems tied to one connection, such as an ambiguous name match, are
// recorded in its Action.Error, and Plan returns the plan together with an
// error joining them. Other failures (the manifests contradict each other,
// the remote state cannot be read, an auth param fails the connection spec
// fetched online) return a nil plan.
func (s *Session) Plan(ctx context.Context, manifests []*spec.Manifest) (*Plan, error) {
	if s.flock == nil {
		return nil, errors.New("plan: session is closed")
	}
	if err := checkManifests(manifests); err != nil {
		return nil, err
	}

	pl := &planner{
		s:        s,
		claimed:  make(map[string]bool),
		consumed: make(map[string]bool),
		byName:   make(map[string]*spec.Manifest, len(manifests)),
	}
	for _, m := range manifests {
		pl.byName[m.Name] = m
	}
	for _, e := range s.lock.Entries {
		pl.claimed[e.ID] = true
		pl.claimed[e.Replaces] = true
	}
	delete(pl.claimed, "")

	var authWarnings []string
	if s.cfg.Refresh {
		docs, warnings, err := s.checkAuthOnline(ctx, manifests)
		if err != nil {
			return nil, err
		}
		pl.specDocs = docs
		authWarnings = warnings
		rs, err := s.refreshSettled(ctx, manifests)
		if err != nil {
			return nil, err
		}
		pl.rs = rs
	}

	p := &Plan{Refreshed: s.cfg.Refresh, session: s, generation: s.applies}
	for _, m := range manifests {
		p.Actions = append(p.Actions, pl.planManifest(m))
	}
	for _, name := range sortedEntryNames(s.lock.Entries) {
		if !pl.consumed[name] {
			p.Actions = append(p.Actions, pl.planOrphan(s.lock.Entries[name]))
		}
	}
	sort.SliceStable(p.Actions, func(i, j int) bool {
		a, b := p.Actions[i], p.Actions[j]
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return a.Name < b.Name
	})
	p.Warnings = append(pl.warnings(), authWarnings...)
	p.SecretsUndetectable = pl.undetectable > 0
	p.AuthUnchecked = pl.authUnchecked
	p.SecretsUnresolved = pl.unresolved
	return p, p.Err()
}

// kindOrder is the order of action kinds in a plan.
var kindOrder = map[ActionKind]int{
	Create: 0, Adopt: 1, Recreate: 2, Rename: 3, Update: 4, Replace: 5, Delete: 6, NoChange: 7,
}

// planner is the state of planning one run.
type planner struct {
	s        *Session
	rs       *remoteState // nil for an offline plan
	byName   map[string]*spec.Manifest
	claimed  map[string]bool // connection ids recorded in the lock file
	consumed map[string]bool // lock entries matched to a manifest

	// specDocs maps ids to the connection spec documents fetched while
	// planning, for specs that apply does not have built in.
	specDocs map[string][]byte

	// Counts for the warnings.
	undetectable int // connections whose secret changes cannot be seen
	otherKey     int // ... because the lock key changed
	noHMAC       int // ... because no HMAC was recorded
	unresolved   int // connections with unset variables

	// authUnchecked counts the connections of an offline plan whose auth
	// params stay unchecked, so their digest and HMAC cannot be compared.
	authUnchecked int
}

// checkManifests rejects manifests that contradict each other: a name
// used twice, or renamedFrom naming another manifest, itself, or a name
// that another manifest was renamed from too.
func checkManifests(manifests []*spec.Manifest) error {
	var errs spec.ErrorList
	names := make(map[string]*spec.Manifest)
	renamedFrom := make(map[string]*spec.Manifest)
	for _, m := range manifests {
		if first := names[m.Name]; first != nil {
			errs = append(errs, fieldError(m, "name", fmt.Sprintf("name %q is already used at %s", m.Name, posString(first.Pos))))
		}
		names[m.Name] = m
	}
	for _, m := range manifests {
		if m.RenamedFrom == "" {
			continue
		}
		switch {
		case m.RenamedFrom == m.Name:
			errs = append(errs, fieldError(m, "renamedFrom", "renamedFrom names the manifest itself"))
		case names[m.RenamedFrom] != nil:
			errs = append(errs, fieldError(m, "renamedFrom", fmt.Sprintf("%q is the name of the manifest at %s, so this one cannot have been renamed from it", m.RenamedFrom, posString(names[m.RenamedFrom].Pos))))
		case renamedFrom[m.RenamedFrom] != nil:
			errs = append(errs, fieldError(m, "renamedFrom", fmt.Sprintf("the manifest at %s was renamed from %q too", posString(renamedFrom[m.RenamedFrom].Pos), m.RenamedFrom)))
		default:
			renamedFrom[m.RenamedFrom] = m
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func fieldError(m *spec.Manifest, field, msg string) *spec.Error {
	pos, ok := m.Fields[field]
	if !ok {
		pos = m.Pos
	}
	return &spec.Error{Pos: pos, Field: field, Msg: msg}
}

func posString(p spec.Position) string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// checkAuthOnline checks the auth params of manifests whose connection
// spec is not known offline against the spec the service returns, fetching
// each spec once. It returns the fetched documents by id and the check's
// warnings, such as a literal secret, each starting with its file:line:col.
func (s *Session) checkAuthOnline(ctx context.Context, manifests []*spec.Manifest) (map[string][]byte, []string, error) {
	specs := make(map[string][]byte)
	var errs spec.ErrorList
	var warnings []string
	for _, m := range manifests {
		if m.AuthChecked {
			continue
		}
		id := m.ConnectionSpec.ID
		raw, ok := specs[id]
		if !ok {
			cs, err := s.cfg.Client.GetConnectionSpec(ctx, id)
			if errors.Is(err, flowservice.ErrNotFound) {
				errs = append(errs, fieldError(m, "connectionSpec.id", fmt.Sprintf("connection spec %s does not exist in this sandbox", id)))
				specs[id] = nil
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("check auth params: %w", err)
			}
			raw = cs.Raw
			specs[id] = raw
		}
		if raw == nil {
			continue
		}
		checkErrs, checkWarnings := spec.CheckAuthWithWarnings(m, raw)
		errs = append(errs, checkErrs...)
		for _, w := range checkWarnings {
			warnings = append(warnings, w.Error())
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return specs, warnings, nil
}

// entryFor returns the lock entry of m and its name: the entry under m's
// name, else the entry under the name m was renamed from.
func (pl *planner) entryFor(m *spec.Manifest) (*lockEntry, string) {
	if e := pl.s.lock.Entries[m.Name]; e != nil {
		return e, m.Name
	}
	if m.RenamedFrom == "" {
		return nil, ""
	}
	if e := pl.s.lock.Entries[m.RenamedFrom]; e != nil {
		return e, m.RenamedFrom
	}
	return nil, ""
}

func (pl *planner) planManifest(m *spec.Manifest) Action {
	a := Action{Name: m.Name, File: m.Pos.File, Line: m.Pos.Line}
	st := &step{manifest: m}
	a.step = st
	e, lockName := pl.entryFor(m)
	st.salt = newSalt()
	if e != nil && e.SecretSalt != "" {
		st.salt = e.SecretSalt
	}
	if e != nil {
		st.lockName = lockName
		pl.consumed[lockName] = true
		if lockName != m.Name {
			a.OldName = lockName
		}
	}

	switch {
	case pl.rs == nil:
		pl.planOffline(&a, e)
	case e == nil:
		pl.planNew(&a)
	case e.Pending:
		pl.planPending(&a, e)
	default:
		pl.planRecorded(&a, e)
	}
	pl.checkUnresolved(&a)
	pl.checkRenamedFrom(&a, e)
	pl.checkNameClash(&a)
	return a
}

// checkRenamedFrom warns when m's renamedFrom matches no lock entry and the
// action creates a connection, which most often means a typo in renamedFrom.
func (pl *planner) checkRenamedFrom(a *Action, e *lockEntry) {
	m := a.step.manifest
	if m.RenamedFrom == "" || e != nil || !a.step.create {
		return
	}
	w := fmt.Sprintf("renamedFrom %q matches no lock entry", m.RenamedFrom)
	if pl.rs != nil {
		w += " and no remote connection"
	}
	a.Warning = joinNotes(a.Warning, w+"; this plans a create, not a rename")
}

// checkNameClash warns when a create or a rename gives a connection a name
// that another connection, recorded under no lock entry, already has. The
// service allows two connections with one name, but the next run finds
// them by name, and people mix them up.
func (pl *planner) checkNameClash(a *Action) {
	if pl.rs == nil || a.Error != "" {
		return
	}
	var verb string
	switch {
	case a.step.create && a.Kind != Replace:
		verb = "apply creates a second one"
	case a.Kind == Rename:
		verb = "the rename gives a second connection that name"
	default:
		return
	}
	clashes := pl.rs.nameClashes(a.Name, a.ID, pl.claimed)
	if len(clashes) == 0 {
		return
	}
	described := make([]string, len(clashes))
	for i, c := range clashes {
		described[i] = "connection spec " + specLabel(c.ConnectionSpec.ID) + ", id " + c.ID
	}
	a.Warning = joinNotes(a.Warning, fmt.Sprintf("a connection named %q already exists with %s; %s. Rename the manifest or delete the other connection",
		a.Name, strings.Join(described, ", and with "), verb))
}

// planNew plans a manifest that has no lock entry: adopt the one remote
// connection with its name and spec, or create one.
func (pl *planner) planNew(a *Action) {
	m := a.step.manifest
	matches := pl.rs.matches(m.Name, m.ConnectionSpec.ID, pl.claimed)
	if len(matches) == 0 && m.RenamedFrom != "" {
		matches = pl.rs.matches(m.RenamedFrom, m.ConnectionSpec.ID, pl.claimed)
	}
	switch len(matches) {
	case 0:
		pl.planCreate(a, Create)
	case 1:
		pl.planAdopt(a, matches[0], nil)
		a.Note = joinNotes(a.Note, "found by name; not yet recorded in the lock file")
	default:
		a.Kind = Adopt
		a.Error = ambiguous(m.Name, matches)
	}
}

// planPending plans a manifest whose create may have been sent by a run
// that ended before recording the id: adopt what that create made, or
// create it now.
func (pl *planner) planPending(a *Action, e *lockEntry) {
	matches := pl.rs.matches(e.Name, e.ConnectionSpec.ID, pl.claimed)
	switch len(matches) {
	case 0:
		if e.Replaces != "" {
			pl.planUnfinishedReplace(a, e)
			return
		}
		pl.planNew(a)
	case 1:
		resolved := *e
		resolved.ID = matches[0].ID
		resolved.Pending = false
		resolved.PendingSince = time.Time{}
		pl.claimed[resolved.ID] = true
		pl.planRecorded(a, &resolved)
		if a.Kind == NoChange || a.Kind == Update {
			a.Kind = Adopt
		}
	default:
		a.Kind = Adopt
		a.Error = ambiguous(e.Name, matches)
		return
	}
	a.Note = joinNotes("completes an interrupted create", a.Note)
}

// planUnfinishedReplace plans a manifest whose pending entry replaces
// connection e.Replaces, when no connection of the replace's create exists
// because the run that recorded it was interrupted before the create took
// effect.
// The replace is carried out again only if the manifest's connection spec
// still differs from the old connection's, and only with --allow-replace,
// since the manifest may have changed since that run. Otherwise the old
// connection stays the recorded one.
func (pl *planner) planUnfinishedReplace(a *Action, e *lockEntry) {
	m := a.step.manifest
	old := pl.rs.byID[e.Replaces]
	if old == nil {
		pl.planNew(a)
		a.Note = joinNotes(fmt.Sprintf("an interrupted replace created nothing, and connection %s that it replaced no longer exists", e.Replaces), a.Note)
		return
	}

	// The pending entry describes the replacement, so the old connection's
	// entry is rebuilt from the remote state. Its digest and secret HMAC
	// are unknown.
	recorded := &lockEntry{
		Name:           e.Name,
		ID:             old.ID,
		ConnectionSpec: specRef{ID: old.ConnectionSpec.ID, Version: old.ConnectionSpec.Version},
		AuthSpecName:   remoteAuthSpec(old),
	}
	if specChanged(m, old.ConnectionSpec.ID, old.ConnectionSpec.Version) {
		pl.planReplace(a, recorded, old)
		a.Note = "completes an interrupted replace, which created nothing yet"
		return
	}
	pl.planRecorded(a, recorded)
	a.Note = joinNotes(fmt.Sprintf("an interrupted replace created nothing; the manifest's connection spec matches connection %s again, so it stays", old.ID), a.Note)
}

// planRecorded plans a manifest whose lock entry records a connection id.
func (pl *planner) planRecorded(a *Action, e *lockEntry) {
	m, st := a.step.manifest, a.step
	c := pl.rs.byID[e.ID]
	if c == nil {
		pl.planGone(a, e)
		return
	}
	if specChanged(m, c.ConnectionSpec.ID, c.ConnectionSpec.Version) {
		if old := pl.rs.byID[e.Replaces]; old != nil && !specChanged(m, old.ConnectionSpec.ID, old.ConnectionSpec.Version) {
			pl.planReplaceReverted(a, e, old)
			return
		}
		pl.planReplace(a, e, c)
		return
	}

	a.ID, st.id, st.remote, st.recorded = c.ID, c.ID, c, e
	a.Changes = compareRemote(m, c, pl.remoteSecrets(c))
	pl.compareSecrets(a, e)
	switch {
	case st.lockName != m.Name:
		a.Kind = Rename
	case len(a.Changes) > 0:
		a.Kind = Update
	default:
		a.Kind = NoChange
	}
	if e.Replaces != "" && pl.rs.byID[e.Replaces] != nil {
		// A replace created this connection, then stopped before deleting
		// the one it replaces. The earlier run was allowed to replace.
		a.Kind = Replace
		a.OldID = e.Replaces
		st.deleteIDs = []string{e.Replaces}
		a.Note = "completes an interrupted replace: deletes the old connection " + e.Replaces
	}
}

// planReplaceReverted plans a manifest whose entry records both ends of an
// interrupted replace, when the manifest's connection spec matches the old
// connection again. The old connection becomes the recorded one. The new
// one, made by the interrupted run, is deleted with --allow-replace.
func (pl *planner) planReplaceReverted(a *Action, e *lockEntry, old *flowservice.Connection) {
	recorded := &lockEntry{
		Name:           e.Name,
		ID:             old.ID,
		ConnectionSpec: specRef{ID: old.ConnectionSpec.ID, Version: old.ConnectionSpec.Version},
		AuthSpecName:   remoteAuthSpec(old),
	}
	pl.planRecorded(a, recorded)
	if a.Kind == NoChange || a.Kind == Update {
		a.Kind = Replace
	}
	a.OldID = e.ID
	a.step.deleteIDs = []string{e.ID}
	a.Note = joinNotes(fmt.Sprintf("an interrupted replace created connection %s, but the manifest's connection spec matches the old connection %s again: keeps %s and deletes %s", e.ID, old.ID, old.ID, e.ID), a.Note)
	if !pl.s.cfg.AllowReplace {
		a.Skipped = fmt.Sprintf("deleting connection %s breaks the dataflows that use it: run with --allow-replace to carry it out", e.ID)
	}
}

// planGone plans a manifest whose recorded connection no longer exists.
func (pl *planner) planGone(a *Action, e *lockEntry) {
	m := a.step.manifest
	matches := pl.rs.matches(m.Name, m.ConnectionSpec.ID, pl.claimed)
	switch len(matches) {
	case 0:
		pl.planCreate(a, Recreate)
		a.Note = fmt.Sprintf("connection %s no longer exists remotely", e.ID)
	case 1:
		pl.planAdopt(a, matches[0], nil)
		a.Note = fmt.Sprintf("connection %s no longer exists remotely; adopts %s, found by name", e.ID, matches[0].ID)
	default:
		a.Kind = Recreate
		a.Error = fmt.Sprintf("connection %s no longer exists remotely, and %s", e.ID, ambiguous(m.Name, matches))
	}
	if e.Replaces != "" && pl.rs.byID[e.Replaces] != nil {
		a.OldID = e.Replaces
		a.step.deleteIDs = []string{e.Replaces}
		a.Note = joinNotes(a.Note, "completes an interrupted replace: deletes the old connection "+e.Replaces)
	}
}

// planCreate plans creating m's connection, as kind.
func (pl *planner) planCreate(a *Action, kind ActionKind) {
	a.Kind = kind
	a.step.create = true
	a.Changes = createChanges(a.step.manifest)
}

// planAdopt plans recording c as m's connection and patching what differs.
// recorded is the lock entry whose HMAC describes c's sensitive params, or
// nil. Without it they are unknown, so they are sent only with
// --update-secrets or when the params are patched anyway.
func (pl *planner) planAdopt(a *Action, c *flowservice.Connection, recorded *lockEntry) {
	m, st := a.step.manifest, a.step
	a.Kind = Adopt
	a.ID, st.id, st.remote, st.recorded = c.ID, c.ID, c, recorded
	pl.claimed[c.ID] = true
	a.Changes = compareRemote(m, c, pl.remoteSecrets(c))
	pl.compareSecrets(a, recorded)
}

// planReplace plans creating m's connection anew and then deleting e's
// connection, because the connection spec cannot be patched. old is that
// connection as read remotely, or nil for an offline plan. The changes
// compare the manifest with it.
func (pl *planner) planReplace(a *Action, e *lockEntry, old *flowservice.Connection) {
	m, st := a.step.manifest, a.step
	a.Kind = Replace
	a.OldID = e.ID
	st.create = true
	st.deleteIDs = []string{e.ID}
	before := specString(e.ConnectionSpec.ID, e.ConnectionSpec.Version)
	if old != nil {
		before = specString(old.ConnectionSpec.ID, old.ConnectionSpec.Version)
	}
	a.Changes = []FieldChange{{
		Path:   "connectionSpec",
		Before: before,
		After:  specString(m.ConnectionSpec.ID, m.ConnectionSpec.Version),
	}}
	if old != nil {
		a.Changes = append(a.Changes, compareRemote(m, old, pl.remoteSecrets(old))...)
	} else {
		if e.Name != m.Name {
			a.Changes = append(a.Changes, FieldChange{Path: "name", Before: e.Name, After: m.Name})
		}
		if e.AuthSpecName != m.Auth.SpecName {
			a.Changes = append(a.Changes, FieldChange{Path: "auth.specName", Before: e.AuthSpecName, After: m.Auth.SpecName})
		}
		a.Note = "planned offline: the other fields are compared with the old connection only online"
	}
	pl.compareSecrets(a, e)
	if !pl.s.cfg.AllowReplace {
		a.Skipped = fmt.Sprintf("the connection spec of a connection cannot be changed, so replacing it creates a new connection and deletes connection %s, which breaks the dataflows that use it: run with --allow-replace to carry it out", e.ID)
	}
}

// planOffline plans m from the lock file alone.
func (pl *planner) planOffline(a *Action, e *lockEntry) {
	m, st := a.step.manifest, a.step
	switch {
	case e == nil:
		pl.planCreate(a, Create)
		a.Note = "planned offline: if a connection with this name exists, apply adopts it instead"
		return
	case e.Pending:
		pl.planCreate(a, Create)
		a.Note = "completes an interrupted create; planned offline, so it may turn out to adopt the connection that create made"
		return
	case specChanged(m, e.ConnectionSpec.ID, e.ConnectionSpec.Version):
		pl.planReplace(a, e, nil)
		return
	}

	a.ID, st.id, st.recorded = e.ID, e.ID, e
	if st.lockName != m.Name {
		a.Changes = append(a.Changes, FieldChange{Path: "name", Before: st.lockName, After: m.Name})
	}
	if e.AuthSpecName != m.Auth.SpecName {
		a.Changes = append(a.Changes, FieldChange{Path: "auth.specName", Before: e.AuthSpecName, After: m.Auth.SpecName})
	}
	switch {
	case !m.AuthChecked:
		// The loader hides every param of a manifest whose connection spec
		// is not built in, which changes the digest and the HMAC, while the
		// lock file contains the values computed after the online check.
		pl.authUnchecked++
		a.Note = "planned offline: the description and auth params " + mayHaveChanged
	case e.Digest == m.Digest():
	case st.lockName != m.Name:
		// The digest covers the name, so it differs after any rename.
		a.Note = "planned offline: whether fields other than the name changed is seen only online"
	default:
		a.Changes = append(a.Changes, possibleChanges(m)...)
		a.Note = "planned offline: the lock file records that the description or the auth params changed, but not which, so the manifest's values are listed"
	}
	pl.compareSecrets(a, e)
	switch {
	case st.lockName != m.Name:
		a.Kind = Rename
	case len(a.Changes) > 0:
		a.Kind = Update
	default:
		a.Kind = NoChange
	}
}

// mayHaveChanged ends the note of an offline action whose manifest's auth
// params are unchecked.
const mayHaveChanged = "may have changed (auth params not checked offline)"

// planOrphan plans a lock entry that no manifest claims: delete its
// connection with --prune, and drop entries whose connection is gone.
func (pl *planner) planOrphan(e *lockEntry) Action {
	st := &step{lockName: e.Name}
	a := Action{Kind: Delete, Name: e.Name, ID: e.ID, step: st}
	if e.ID != "" {
		st.deleteIDs = append(st.deleteIDs, e.ID)
	}
	if e.Replaces != "" {
		a.OldID = e.Replaces
		st.deleteIDs = append(st.deleteIDs, e.Replaces)
	}

	if pl.rs != nil {
		if e.Pending {
			matches := pl.rs.matches(e.Name, e.ConnectionSpec.ID, pl.claimed)
			if len(matches) > 1 {
				a.Error = ambiguous(e.Name, matches)
				return a
			}
			if len(matches) == 1 {
				a.ID = matches[0].ID
				st.deleteIDs = append(st.deleteIDs, a.ID)
			}
		}
		var live []string
		for _, id := range st.deleteIDs {
			if pl.rs.byID[id] != nil {
				live = append(live, id)
			}
		}
		st.deleteIDs = live
		if len(live) == 0 {
			a.Note = "its connection no longer exists remotely, so only the lock entry is removed"
			return a
		}
	}
	if !pl.s.cfg.Prune {
		a.Skipped = "its manifest is gone: run with --prune to delete the connection"
	}
	return a
}

// compareSecrets adds the change of m's sensitive params to a, judged
// from the HMAC recorded in e, which may be nil. With --update-secrets
// they are sent regardless of the HMAC. The HMAC of a manifest whose auth
// params are unchecked covers every param, so it is not compared.
func (pl *planner) compareSecrets(a *Action, e *lockEntry) {
	m, st := a.step.manifest, a.step
	if needsParams(a.Changes) {
		st.sendParams = true
	}
	if len(sensitiveNames(m)) == 0 {
		return
	}
	if len(unresolvedVars(m)) > 0 {
		pl.unresolved++
		return
	}

	comparable := m.AuthChecked && pl.s.keyID != "" && e != nil && e.SecretHMAC != "" && e.SecretKeyID == pl.s.keyID
	changed := comparable && pl.s.secretHMAC(m, e.SecretSalt) != e.SecretHMAC
	st.rehash = comparable && !changed && e.SecretSalt == ""
	switch {
	case changed:
		a.Changes = append(a.Changes, secretsChange(m, false, false))
		st.sendParams = true
	case pl.s.cfg.UpdateSecrets:
		a.Changes = append(a.Changes, secretsChange(m, true, false))
		st.sendParams = true
	case st.sendsParams():
		// Sent anyway, with the other params or by a create.
		a.Changes = append(a.Changes, secretsChange(m, false, true))
	case comparable:
		// Unchanged.
	case !m.AuthChecked:
		// Unknown: planOffline notes it and warnings() counts it.
	default:
		pl.undetectable++
		switch {
		case pl.s.keyID == "":
		case e != nil && e.SecretHMAC != "":
			pl.otherKey++
		default:
			pl.noHMAC++
		}
	}
}

// checkUnresolved marks an action that would send params with unset
// variables: a dry run can show it, but it cannot be applied.
func (pl *planner) checkUnresolved(a *Action) {
	st := a.step
	if a.Skipped != "" || !st.sendsParams() {
		return
	}
	vars := unresolvedVars(st.manifest)
	if len(vars) == 0 {
		return
	}
	for i := range a.Changes {
		if a.Changes[i].Sensitive {
			a.Changes[i].Unknown = true
		}
	}
	if !pl.s.cfg.DryRun {
		a.Error = fmt.Sprintf("the auth params must be sent, but variables %s are not set", strings.Join(vars, ", "))
	}
}

// offlineWarning is the plan warning of an offline plan.
const offlineWarning = "planned offline from the lock file alone: the plan trusts the lock file and cannot see the connections in the sandbox, so changes made outside apply are not seen, and a create may turn out to adopt an existing connection. " +
	"A lock file from an untrusted source, such as a pull request from a fork, can be forged (ids swapped, digests recomputed): review the lock file's diff before trusting this plan"

func (pl *planner) warnings() []string {
	var w []string
	if pl.rs == nil {
		w = append(w, offlineWarning)
	}
	if pl.s.keyID == "" && pl.undetectable > 0 {
		w = append(w, fmt.Sprintf("no lock key (APPLY_LOCK_KEY) is set, so changes of sensitive params cannot be detected for %d connection(s); --update-secrets sends them again", pl.undetectable))
	}
	if pl.otherKey > 0 {
		w = append(w, fmt.Sprintf("the lock key differs from the one that recorded %d connection(s), so changes of their sensitive params cannot be detected; --update-secrets sends them again and records them with the current key", pl.otherKey))
	}
	if pl.noHMAC > 0 {
		w = append(w, fmt.Sprintf("the lock file records no HMAC of the sensitive params of %d connection(s) (adopted, or recorded without a key), so their changes cannot be detected; --update-secrets sends them again and records them", pl.noHMAC))
	}
	if pl.unresolved > 0 {
		w = append(w, fmt.Sprintf("%d connection(s) have sensitive params with unset variables, so their changes are not shown", pl.unresolved))
	}
	if pl.authUnchecked > 0 {
		w = append(w, fmt.Sprintf("%d connection(s) use a connection spec that is not built in, so their description and auth params %s; plan online to compare them", pl.authUnchecked, mayHaveChanged))
	}
	return w
}

func ambiguous(name string, matches []*flowservice.Connection) string {
	ids := make([]string, len(matches))
	for i, c := range matches {
		ids[i] = c.ID
	}
	return fmt.Sprintf("%d remote connections are named %q with this connection spec (ids %s) and none is recorded in the lock file: delete or rename all but one of them in the sandbox, then run again",
		len(matches), name, strings.Join(ids, ", "))
}

// createChanges lists the fields of a new connection, with sensitive
// values hidden.
func createChanges(m *spec.Manifest) []FieldChange {
	changes := []FieldChange{
		{Path: "name", After: m.Name},
		{Path: "connectionSpec", After: specString(m.ConnectionSpec.ID, m.ConnectionSpec.Version)},
	}
	if m.Description != "" {
		changes = append(changes, FieldChange{Path: "description", After: m.Description})
	}
	changes = append(changes, FieldChange{Path: "auth.specName", After: m.Auth.SpecName})
	names := make([]string, 0, len(m.Auth.Params))
	for k := range m.Auth.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := m.Auth.Params[k]
		changes = append(changes, FieldChange{
			Path:      "auth.params." + k,
			After:     v.String(),
			Sensitive: v.Sensitive(),
			Unknown:   len(v.Unresolved()) > 0,
		})
	}
	return changes
}

// specChanged reports whether m's connection spec differs from the
// recorded one. NOTE: a version left out on either side is taken to match,
// as the service then uses the latest version.
func specChanged(m *spec.Manifest, id, version string) bool {
	if m.ConnectionSpec.ID != id {
		return true
	}
	return m.ConnectionSpec.Version != "" && version != "" && m.ConnectionSpec.Version != version
}

func specString(id, version string) string {
	if version == "" {
		return id
	}
	return id + " (version " + version + ")"
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

func sortedEntryNames(entries map[string]*lockEntry) []string {
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
