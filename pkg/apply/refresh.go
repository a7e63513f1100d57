package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/spec"
)

// listPageSize is the page size of the listing that reads the remote
// state. Larger pages mean fewer round trips at thousands of connections.
//
// NOTE: the public documentation gives neither the default nor the
// maximum page size of GET /connections. /connections/search caps limit at
// 1000, so this stays at that value. A server that caps lower still pages
// correctly, with more requests.
const listPageSize = 1000

// remoteState is the set of remote connections of the connection specs in
// use.
type remoteState struct {
	byID   map[string]*flowservice.Connection
	byName map[string][]*flowservice.Connection
	gone   map[string]bool // ids for which GET returned 404
}

// refresh reads the remote state with one paged listing of the connections
// whose spec is used by a manifest or a lock entry. It then reads one by
// one the recorded ids that the listing did not return, to tell a deleted
// connection from one the filter missed.
func (s *Session) refresh(ctx context.Context, manifests []*spec.Manifest) (*remoteState, error) {
	specIDs := make(map[string]bool)
	for _, m := range manifests {
		specIDs[m.ConnectionSpec.ID] = true
	}
	for _, e := range s.lock.Entries {
		specIDs[e.ConnectionSpec.ID] = true
	}
	rs := &remoteState{
		byID:   make(map[string]*flowservice.Connection),
		byName: make(map[string][]*flowservice.Connection),
		gone:   make(map[string]bool),
	}
	if len(specIDs) > 0 {
		conns, err := s.cfg.Client.ListConnections(ctx, flowservice.ListOptions{
			Properties: []string{"connectionSpec.id==" + strings.Join(sortedKeys(specIDs), ",")},
			Limit:      listPageSize,
		})
		if err != nil {
			return nil, fmt.Errorf("read remote connections: %w", err)
		}
		for i := range conns {
			rs.add(&conns[i])
		}
	}
	s.log.Debug("listed remote connections", "count", len(rs.byID), "specs", len(specIDs))

	var missing []string
	for _, e := range s.lock.Entries {
		for _, id := range []string{e.ID, e.Replaces} {
			if id != "" && rs.byID[id] == nil {
				missing = append(missing, id)
			}
		}
	}
	sort.Strings(missing)
	if err := s.readByID(ctx, rs, missing); err != nil {
		return nil, err
	}
	if err := s.readNameClashes(ctx, rs, manifests); err != nil {
		return nil, err
	}
	return rs, nil
}

// nameBatchSize is the number of names that one listing filters by in
// readNameClashes, which keeps the request URL short.
const nameBatchSize = 50

// readNameClashes adds to rs every connection, of any connection spec, whose
// name is that of a manifest without a lock entry under that name. The
// planner uses them to warn when a create or a rename would make a second
// connection with a name already in use, which the listing by connection
// spec cannot show.
func (s *Session) readNameClashes(ctx context.Context, rs *remoteState, manifests []*spec.Manifest) error {
	var plain []string
	for _, m := range manifests {
		if e := s.lock.Entries[m.Name]; e != nil && !e.Pending {
			continue
		}
		if strings.ContainsAny(m.Name, "\"\\,=<>!") {
			// NOTE: the filter grammar is not documented for such names,
			// so each is looked up on its own, which lists every connection.
			conns, err := s.cfg.Client.FindConnectionsByName(ctx, m.Name)
			if err != nil {
				return fmt.Errorf("read remote connections named %q: %w", m.Name, err)
			}
			for i := range conns {
				rs.add(&conns[i])
			}
			continue
		}
		plain = append(plain, `"`+m.Name+`"`)
	}

	// The batches are listed concurrently: one after another they would add
	// a round trip per 50 new manifests to every first apply.
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Parallelism) // the limit protects the service
	for start := 0; start < len(plain); start += nameBatchSize {
		batch := plain[start:min(start+nameBatchSize, len(plain))]
		g.Go(func() error {
			conns, err := s.cfg.Client.ListConnections(ctx, flowservice.ListOptions{
				Properties: []string{"name==" + strings.Join(batch, ",")},
				Limit:      listPageSize,
			})
			if err != nil {
				return fmt.Errorf("read remote connections by name: %w", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range conns {
				rs.add(&conns[i])
			}
			return nil
		})
	}
	return g.Wait()
}

// readByID reads the connections with the given ids concurrently, adding
// each to rs or marking it gone.
func (s *Session) readByID(ctx context.Context, rs *remoteState, ids []string) error {
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Parallelism) // the limit protects the service
	for _, id := range ids {
		g.Go(func() error {
			conn, err := s.cfg.Client.GetConnection(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, flowservice.ErrNotFound):
				rs.gone[id] = true
			case err != nil:
				return fmt.Errorf("read connection %s: %w", id, err)
			default:
				rs.add(conn)
			}
			return nil
		})
	}
	return g.Wait()
}

func (rs *remoteState) add(c *flowservice.Connection) {
	if rs.byID[c.ID] != nil {
		return
	}
	rs.byID[c.ID] = c
	rs.byName[c.Name] = append(rs.byName[c.Name], c)
}

// nameClashes returns the connections named name whose id is neither
// except nor claimed, sorted by id.
func (rs *remoteState) nameClashes(name, except string, claimed map[string]bool) []*flowservice.Connection {
	var found []*flowservice.Connection
	for _, c := range rs.byName[name] {
		if c.ID != except && !claimed[c.ID] {
			found = append(found, c)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	return found
}

// matches returns the connections named name with connection spec specID,
// leaving out those whose id is claimed, sorted by id.
func (rs *remoteState) matches(name, specID string, claimed map[string]bool) []*flowservice.Connection {
	var found []*flowservice.Connection
	for _, c := range rs.byName[name] {
		if c.ConnectionSpec.ID == specID && !claimed[c.ID] {
			found = append(found, c)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	return found
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
