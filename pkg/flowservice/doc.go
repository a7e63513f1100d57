// Package flowservice is a client for Adobe Experience Platform's Flow
// Service API: base connections and connection specs under
// /data/foundation/flowservice, plus the Adobe IMS token exchange
// ([NewIMSTokenSource]) that supplies its access tokens.
//
// The client retries what is safe to retry: 429, 500, 502, 503, 504 and
// connection errors, honouring Retry-After, with capped exponential backoff
// and full jitter. It never retries a create blindly, because POST
// /connections is not idempotent. A create that fails after the request may
// have reached the server returns [ErrOutcomeUnknown], and the caller
// resolves it by name with [Client.FindConnectionsByName]. A create whose 2xx
// response cannot be read also matches [ErrCreatedIDUnknown], because the
// connection then exists. Updates carry If-Match, so replaying an update
// that succeeded fails with 412 instead of applying it twice.
//
// Every request sends Authorization, x-api-key, x-gw-ims-org-id and
// x-sandbox-name. Credentials travel only over https://, except to loopback
// hosts, and a plain-HTTP connection is closed unless the address it reached
// is a loopback address. Errors and debug logs show method, path, status
// and request id, never header values or request bodies.
//
// The emulator in the emulator subpackage shares no types or helpers with
// this package, so that a mistake in one cannot hide in the other. Tests pin
// both to the documented JSON.
package flowservice
