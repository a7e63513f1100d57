// Package emulator is an in-process emulator of the Adobe Experience Platform
// Flow Service API (base connections and connection specs) and of the Adobe
// IMS token endpoint, for tests, demos and benchmarks.
//
// An [Emulator] is an [http.Handler]: mount it on an httptest server, or run
// it with [ListenAndServe]. It follows the request and response shapes of the
// public Flow Service documentation: items wrappers, quoted Cosmos-style
// etags, epoch-millisecond times, relative continuation links and the Flow
// Service error catalog. Where the documentation leaves a behaviour open, the
// code that implements the guess carries a NOTE: comment.
//
// The emulator shares no wire types or helpers with the client package on
// purpose: both are pinned to the documented JSON by their own tests, so that
// neither can drift along with the other.
//
// Connection specs come from the embedded schemas package, and auth params
// are validated against the JSON Schema of the chosen auth spec. State lives
// in memory, or in a JSON file written atomically after every change when
// [Options.StatePath] is set. Faults (latency, rate limiting, server errors
// and lost responses) are drawn from a random source seeded by
// [Options.Seed], so a sequential client sees the same faults on every run.
package emulator
