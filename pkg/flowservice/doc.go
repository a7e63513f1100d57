// Package flowservice is a client for Adobe Experience Platform's Flow
// Service API: base connections and connection specs under
// /data/foundation/flowservice, plus the Adobe IMS token exchange.
//
// The client retries what is safe to retry (429, 502, 503, 504 and
// connection errors, honouring Retry-After) and never retries a create
// blindly: POST /connections is not idempotent, so an ambiguous failure is
// reported as [ErrOutcomeUnknown] for the caller to resolve by name.
//
// The emulator in the emulator subpackage shares no types or helpers with
// this package, so that a mistake in one cannot hide in the other.
package flowservice
