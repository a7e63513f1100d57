package emulator_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

func TestParallelCreates(t *testing.T) {
	const n = 100
	path := filepath.Join(t.TempDir(), "state.json")
	e, err := emulator.New(emulator.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, e)

	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := send(t, srv, "POST", base+"/connections", nil, mysqlBody(fmt.Sprintf("conn-%03d", i)))
			if err != nil || res.status != 201 {
				t.Errorf("create %d: %v, status %d", i, err, res.status)
				return
			}
			ids[i] = res.object(t)["id"].(string)
		})
	}
	wg.Wait()

	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("id %s returned twice", id)
		}
		seen[id] = true
	}
	if s := e.Stats(); s.Connections != n || s.ByStatus[201] != n {
		t.Errorf("connections %d, 201s %d; want %d", s.Connections, s.ByStatus[201], n)
	}
	srv.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	reopened, err := emulator.New(emulator.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if got := reopened.Stats().Connections; got != n {
		t.Errorf("after reopening: %d connections, want %d", got, n)
	}
}

func TestParallelPatchesWithOneEtag(t *testing.T) {
	const n = 20
	_, srv := start(t, emulator.Options{})
	id, etag := create(t, srv, mysqlBody("orders"))
	h := apiHeaders()
	h.Set("If-Match", etag)

	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ops := []map[string]any{{"op": "replace", "path": "/name", "value": fmt.Sprint("name-", i)}}
			res, err := send(t, srv, "PATCH", base+"/connections/"+id, h, ops)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			count[res.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if count[200] != 1 || count[412] != n-1 {
		t.Errorf("statuses %v, want one 200 and %d 412", count, n-1)
	}
}
