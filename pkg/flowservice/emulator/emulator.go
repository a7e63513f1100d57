// Package emulator is an in-process emulator of the Flow Service API and the
// Adobe IMS token endpoint, for tests, demos and benchmarks. It follows the
// public documentation of the API; behaviour the documentation leaves open is
// marked NOTE: where it is implemented.
//
// It shares no wire types or helpers with the client package on purpose.
package emulator

import (
	"log/slog"
	"net/http"
	"time"
)

// Options configures an [Emulator].
type Options struct {
	Token     string // when set, only this access token is accepted
	StatePath string // when set, state persists in this file (atomic writes)
	Seed      int64  // seeds every random choice, for reproducible faults

	Latency          time.Duration // added to every request
	LatencyJitter    time.Duration // uniform extra latency in [0, LatencyJitter)
	RateLimit        float64       // requests per second before answering 429; 0 means none
	ErrorRate        float64       // fraction answered 500/503 before any effect
	LostResponseRate float64       // fraction of successful writes whose response is dropped

	Logger *slog.Logger // nil discards
}

// Emulator is an http.Handler serving the emulated API. It is safe for
// concurrent use.
type Emulator struct {
	opts Options
}

// New returns an emulator, loading state from opts.StatePath if it exists.
func New(opts Options) (*Emulator, error) { panic("not implemented") }

// ServeHTTP implements [http.Handler].
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { panic("not implemented") }
