package emulator

import (
	"maps"
	"net/http"
	"sync"
)

// Stats counts the API requests an emulator has served since it started or
// since its statistics were last reset. Requests to StatsPath and
// StatsResetPath are not counted.
type Stats struct {
	Requests       int64            `json:"requests"`
	ByMethod       map[string]int64 `json:"byMethod"`
	ByStatus       map[int]int64    `json:"byStatus"`       // responses sent, by HTTP status
	RateLimited    int64            `json:"rateLimited"`    // 429 responses
	InjectedErrors int64            `json:"injectedErrors"` // injected 500 and 503 responses
	LostResponses  int64            `json:"lostResponses"`  // responses dropped after the change was committed
	Connections    int              `json:"connections"`    // connections stored now, in every org and sandbox
}

type statsCounter struct {
	mu sync.Mutex
	s  Stats
}

func newStatsCounter() *statsCounter {
	c := &statsCounter{}
	c.reset()
	return c
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stats{ByMethod: map[string]int64{}, ByStatus: map[int]int64{}}
}

func (c *statsCounter) record(method string, status int, lost bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Requests++
	c.s.ByMethod[method]++
	if lost {
		c.s.LostResponses++
		return
	}
	c.s.ByStatus[status]++
}

func (c *statsCounter) rateLimited() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.RateLimited++
}

func (c *statsCounter) injectedError() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.InjectedErrors++
}

func (c *statsCounter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.ByMethod = maps.Clone(c.s.ByMethod)
	s.ByStatus = maps.Clone(c.s.ByStatus)
	return s
}

// Stats returns the request counts since the emulator started or since the
// last reset. It is safe to call while requests are served.
func (e *Emulator) Stats() Stats {
	s := e.stats.snapshot()
	s.Connections = e.store.count()
	return s
}

// ResetStats sets every request count to zero.
func (e *Emulator) ResetStats() {
	e.stats.reset()
}

// serveStats serves GET StatsPath, the JSON form of [Emulator.Stats], and
// POST StatsResetPath, which resets the counts and returns 204.
func (e *Emulator) serveStats(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == StatsPath && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Stats())
	case r.URL.Path == StatsResetPath && r.Method == http.MethodPost:
		e.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	default:
		allow := "GET"
		if r.URL.Path == StatsResetPath {
			allow = "POST"
		}
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
