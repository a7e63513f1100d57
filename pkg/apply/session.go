package apply

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/spec"
)

// Target is the place a lock file belongs to: one sandbox of one
// organization behind one endpoint.
type Target struct {
	Endpoint string // gateway base URL, such as https://platform.adobe.io
	OrgID    string // IMS organization id, such as 5C13...@AdobeOrg
	Sandbox  string // sandbox name, such as prod
}

// Config configures a [Session].
type Config struct {
	// Client talks to the Flow Service. It may be nil only when Refresh
	// is false, for a plan computed offline from the lock file alone.
	Client *flowservice.Client

	// Target is where the connections live. A lock file recorded for
	// another target is rejected. With a nil Client, empty fields are not
	// compared, so that an offline plan needs no credentials.
	Target Target

	LockPath    string        // the lock file; it need not exist yet
	LockTimeout time.Duration // how long Open waits for another run's file lock; 0 tries once

	// LockKey keys the HMAC of sensitive params recorded in the lock file,
	// usually from APPLY_LOCK_KEY. Without it, secret changes cannot be
	// detected.
	LockKey []byte

	// Parallelism caps concurrent API calls while applying; 0 means 10.
	Parallelism int

	Prune         bool // carry out deletes of lock entries that have no manifest
	AllowReplace  bool // carry out replaces, which delete a connection and create another
	UpdateSecrets bool // send sensitive params even when no change is detected
	FailFast      bool // start no new action after the first failure
	Refresh       bool // read the remote state while planning; false plans from the lock file alone

	// DryRun opens the session read-only: Open takes a shared file lock,
	// so dry runs do not block each other, and Apply returns an error.
	DryRun bool

	Logger *slog.Logger // debug logs; nil discards them

	// OnEvent, when set, is called as each action starts and finishes.
	// Apply calls it from several goroutines at once, so it must be safe
	// for concurrent use, and it should return quickly because the action's
	// worker waits for it.
	OnEvent func(Event)
}

// DefaultParallelism is the number of concurrent API calls when
// Config.Parallelism is 0.
const DefaultParallelism = 10

// Errors that callers test with [errors.Is].
var (
	// ErrLocked means another run holds the lock file for longer than
	// Config.LockTimeout.
	ErrLocked = errors.New("lock file is in use by another run")
	// ErrForeignTarget means the lock file belongs to another endpoint,
	// organization or sandbox.
	ErrForeignTarget = errors.New("lock file belongs to another target")
	// ErrInterrupted means Apply stopped early because stop was closed or
	// its context was cancelled.
	ErrInterrupted = errors.New("apply interrupted")
)

// Session is one run against one lock file. It holds the file lock from
// [Open] until [Session.Close]. Its methods must not be called
// concurrently.
type Session struct {
	cfg Config
}

// Open validates cfg, takes the file lock and reads the lock file. The
// file lock is exclusive, or shared when cfg.DryRun is set; Open waits for
// it up to cfg.LockTimeout and then fails with an error wrapping
// [ErrLocked]. A lock file that is malformed, or recorded for another
// target ([ErrForeignTarget]), is an error. Open writes nothing.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	panic("not implemented")
}

// Plan compares manifests with the lock file and, when Config.Refresh is
// set, with the remote state, and returns one action per manifest and per
// lock entry left over. Plan only reads: it sends no write request and
// does not write the lock file.
//
// Problems tied to one connection, such as an ambiguous name match, are
// recorded in its Action.Error, and Plan returns the plan together with an
// error joining them. Other failures (the remote state cannot be read, an
// auth param fails the connection spec fetched online) return a nil plan.
func (s *Session) Plan(ctx context.Context, manifests []*spec.Manifest) (*Plan, error) {
	panic("not implemented")
}

// Apply carries out p, which must come from this session's Plan, running
// up to Config.Parallelism actions at once, and keeps the lock file up to
// date as they complete.
//
// Closing stop asks for a graceful end: no new action starts, running
// actions finish and the lock file is written; Apply then returns an error
// wrapping [ErrInterrupted]. Cancelling ctx also cancels the requests in
// flight; the lock file is still written with what is known.
//
// The report always lists every action's result. The error joins every
// failure, or is nil when all actions succeeded.
func (s *Session) Apply(ctx context.Context, p *Plan, stop <-chan struct{}) (*Report, error) {
	panic("not implemented")
}

// Close releases the file lock. It writes nothing.
func (s *Session) Close() error {
	panic("not implemented")
}
