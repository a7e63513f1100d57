package emulator

import (
	"maps"
	"sort"
	"sync"
)

// scope is the partition of stored connections: a request reads and changes
// only the connections of its org and sandbox.
type scope struct {
	org     string
	sandbox string
}

// connection is a stored base connection. It is also the record of the state
// file, so its JSON names are the emulator's own and not the wire format.
// Params contain secrets in clear because the test and explore endpoints
// connect to the real database with them. Responses mask them.
type connection struct {
	ID            string         `json:"id"`
	IMSOrgID      string         `json:"imsOrgId"`
	SandboxName   string         `json:"sandboxName"`
	Name          string         `json:"name"`
	Description   string         `json:"description,omitempty"`
	SpecID        string         `json:"connectionSpecId"`
	SpecVersion   string         `json:"connectionSpecVersion"`
	AuthSpecName  string         `json:"authSpecName"`
	Params        map[string]any `json:"params"`
	State         string         `json:"state"`
	Etag          string         `json:"etag"` // with its surrounding quotes
	CreatedAt     int64          `json:"createdAt"`
	UpdatedAt     int64          `json:"updatedAt"`
	CreatedBy     string         `json:"createdBy"`
	UpdatedBy     string         `json:"updatedBy"`
	CreatedClient string         `json:"createdClient"`
	UpdatedClient string         `json:"updatedClient"`
}

func (c *connection) scope() scope { return scope{org: c.IMSOrgID, sandbox: c.SandboxName} }

func (c *connection) clone() *connection {
	cp := *c
	cp.Params = maps.Clone(c.Params)
	return &cp
}

// store contains the connections of every scope. Stored records are never
// changed in place: an update stores a modified clone, so readers may keep
// the pointers they got after the lock is released.
type store struct {
	mu    sync.RWMutex
	conns map[scope]map[string]*connection
	seq   uint64 // counts committed changes, for the state file
}

func newStore(conns []*connection) *store {
	s := &store{conns: map[scope]map[string]*connection{}}
	for _, c := range conns {
		s.putLocked(c)
	}
	return s
}

func (s *store) putLocked(c *connection) {
	m := s.conns[c.scope()]
	if m == nil {
		m = map[string]*connection{}
		s.conns[c.scope()] = m
	}
	m[c.ID] = c
}

func (s *store) get(sc scope, id string) (*connection, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.conns[sc][id]
	return c, ok
}

// list returns the connections of one scope, in no particular order.
func (s *store) list(sc scope) []*connection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*connection, 0, len(s.conns[sc]))
	for _, c := range s.conns[sc] {
		out = append(out, c)
	}
	return out
}

// create stores c and returns the change's sequence number.
func (s *store) create(c *connection) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(c)
	s.seq++
	return s.seq
}

// update applies change to a clone of the connection and stores the clone
// if change returns nil. The lock is held throughout, so a version check
// inside change cannot race with another update.
func (s *store) update(sc scope, id string, change func(*connection) *apiError) (*connection, uint64, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.conns[sc][id]
	if !ok {
		return nil, 0, errNotFound("connections", id)
	}
	next := cur.clone()
	if err := change(next); err != nil {
		return nil, 0, err
	}
	s.putLocked(next)
	s.seq++
	return next, s.seq, nil
}

// remove deletes a connection and returns the change's sequence number.
func (s *store) remove(sc scope, id string) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[sc][id]; !ok {
		return 0, false
	}
	delete(s.conns[sc], id)
	s.seq++
	return s.seq, true
}

func (s *store) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, m := range s.conns {
		n += len(m)
	}
	return n
}

// snapshot returns every connection in a stable order (org, sandbox,
// creation time, id) and the sequence number it includes.
func (s *store) snapshot() ([]*connection, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var all []*connection
	for _, m := range s.conns {
		for _, c := range m {
			all = append(all, c)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.IMSOrgID != b.IMSOrgID {
			return a.IMSOrgID < b.IMSOrgID
		}
		if a.SandboxName != b.SandboxName {
			return a.SandboxName < b.SandboxName
		}
		if a.CreatedAt != b.CreatedAt {
			return a.CreatedAt < b.CreatedAt
		}
		return a.ID < b.ID
	})
	return all, s.seq
}
