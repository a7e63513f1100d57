package apply

import (
	"time"
)

// commitInterval is how often results are written to the lock file while
// actions run. A write costs a few milliseconds next to API calls that
// take tens to hundreds, and at most this much work is redone by name
// lookups after a kill.
const commitInterval = 200 * time.Millisecond

// markPending records a pending entry for every create among the actions,
// and reports whether there was any.
func (x *executor) markPending(actions []int) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	now := pendingTime(time.Now())
	marked := false
	for _, i := range actions {
		st := x.plan.Actions[i].step
		if !st.create {
			continue
		}
		m := st.manifest
		e := &lockEntry{
			Name:           m.Name,
			ConnectionSpec: specRef{ID: m.ConnectionSpec.ID, Version: m.ConnectionSpec.Version},
			AuthSpecName:   m.Auth.SpecName,
			Digest:         m.Digest(),
			Pending:        true,
			PendingSince:   now,
		}
		x.setHMAC(e, st)
		if len(st.deleteIDs) == 1 {
			e.Replaces = st.deleteIDs[0]
		}
		if st.lockName != "" && st.lockName != m.Name {
			delete(x.lock.Entries, st.lockName)
		}
		x.lock.Entries[m.Name] = e
		marked = true
	}
	if marked {
		x.dirty = true
	}
	return marked
}

// restore puts back the lock entry that the step started from, or drops
// the step's pending entry if it started from none. It undoes markPending
// for a create that was never sent or that the service rejected. The
// session's lock still contains the entries as the run started, since Apply
// replaces it only at its end.
func (x *executor) restore(st *step) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.lock.Entries, st.manifest.Name)
	if start := x.s.lock.Entries[st.lockName]; st.lockName != "" && start != nil {
		restored := *start
		x.lock.Entries[st.lockName] = &restored
	}
	x.dirty = true
}

// recordReplacing records the connection a replace created while the old
// one still exists.
func (x *executor) recordReplacing(st *step, id string) {
	e := x.entryAfter(st, id)
	if len(st.deleteIDs) == 1 {
		e.Replaces = st.deleteIDs[0]
	}
	x.put(st, e)
}

// record records the outcome of a successful step for manifest st.manifest.
func (x *executor) record(st *step, id string) {
	x.put(st, x.entryAfter(st, id))
}

func (x *executor) put(st *step, e *lockEntry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if st.lockName != "" && st.lockName != e.Name {
		delete(x.lock.Entries, st.lockName)
	}
	if old := x.lock.Entries[e.Name]; old == nil || *old != *e {
		x.lock.Entries[e.Name] = e
		x.dirty = true
	}
	x.claimed[e.ID] = true
}

// entryAfter returns the lock entry of a step that succeeded, leaving the
// connection id to the caller.
func (x *executor) entryAfter(st *step, id string) *lockEntry {
	m := st.manifest
	e := &lockEntry{
		Name:           m.Name,
		ID:             id,
		ConnectionSpec: specRef{ID: m.ConnectionSpec.ID, Version: m.ConnectionSpec.Version},
		AuthSpecName:   m.Auth.SpecName,
		Digest:         m.Digest(),
	}
	switch {
	case st.sendsParams() || st.rehash:
		// With rehash, the remote connection already has the manifest's
		// secrets, as an unsalted HMAC showed.
		x.setHMAC(e, st)
	case st.recorded != nil:
		// The sensitive params were not sent, so the remote connection
		// still has the ones this HMAC describes.
		e.SecretSalt, e.SecretHMAC, e.SecretKeyID = st.recorded.SecretSalt, st.recorded.SecretHMAC, st.recorded.SecretKeyID
	}
	return e
}

// setHMAC records in e the salted HMAC of the sensitive params of the
// step's manifest, with the salt and the key's id, or leaves the three
// fields empty without a key or without sensitive params.
func (x *executor) setHMAC(e *lockEntry, st *step) {
	e.SecretSalt, e.SecretHMAC, e.SecretKeyID = "", "", ""
	if x.s.keyID == "" {
		return
	}
	if mac := x.s.secretHMAC(st.manifest, st.salt); mac != "" {
		e.SecretSalt, e.SecretHMAC, e.SecretKeyID = st.salt, mac, x.s.keyID
	}
}

// flush writes the lock file if it changed since the last write.
func (x *executor) flush() error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.mu.Lock()
	if !x.dirty {
		x.mu.Unlock()
		return nil
	}
	if len(x.lock.Entries) == 0 && x.s.onDisk == nil {
		// Nothing to record and no file yet: leave it absent.
		x.dirty = false
		x.mu.Unlock()
		return nil
	}
	data := x.lock.encode()
	x.dirty = false
	x.mu.Unlock()

	if err := x.s.writeEncoded(data); err != nil {
		x.mu.Lock()
		x.dirty = true
		x.mu.Unlock()
		return err
	}
	return nil
}

// commitLoop flushes the lock file every commitInterval until done is
// closed.
func (x *executor) commitLoop(done <-chan struct{}) {
	ticker := time.NewTicker(commitInterval)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
			if err := x.flush(); err != nil {
				x.s.log.Warn("lock file write failed; retrying at the next commit", "err", err)
			}
		}
	}
}
