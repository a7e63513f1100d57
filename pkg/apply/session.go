package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/apply-cli/apply/pkg/flowservice"
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
	// Client is the Flow Service client. It may be nil only when Refresh
	// is false, for a plan computed offline from the lock file alone.
	Client *flowservice.Client

	// Target is the endpoint, organization and sandbox of the
	// connections. A lock file recorded for another target is rejected.
	// With a nil Client, empty fields are not compared, so that an offline
	// plan needs no credentials. With a Client, an empty Sandbox means
	// flowservice.DefaultSandbox, as for the client.
	Target Target

	// LockPath is the path of the lock file, which need not exist yet.
	// Runs on it are serialized by a file lock on an empty sibling file
	// named ".<base name>.flock", which Open creates and leaves in place.
	LockPath    string
	LockTimeout time.Duration // maximum time Open waits for another run's file lock, 0 to try once

	// LockKey keys the HMAC of sensitive params recorded in the lock file,
	// usually from APPLY_LOCK_KEY. Without it, secret changes cannot be
	// detected. Its printed forms hide it.
	LockKey LockKey

	// Parallelism is the maximum number of concurrent API calls. 0 means
	// [DefaultParallelism].
	Parallelism int

	// PendingGrace is the time after a create was recorded as pending
	// during which its request may still be in flight at the service. 0
	// means [DefaultPendingGrace]. A plan that finds a pending entry
	// younger than this and no connection for it waits until the grace
	// period has passed. It then reads the remote state again, so that it
	// adopts what a killed run's create made instead of creating a
	// duplicate.
	PendingGrace time.Duration

	Prune         bool // carry out deletes of lock entries that have no manifest
	AllowReplace  bool // carry out replaces, which create a connection with a new id, then delete the old one
	UpdateSecrets bool // send sensitive params even when no change is detected
	FailFast      bool // start no new action after the first failure
	Refresh       bool // read the remote state while planning, or plan from the lock file alone when false

	// DryRun opens the session read-only: Open takes a shared file lock,
	// so dry runs do not block each other, and Apply returns an error.
	DryRun bool

	Logger *slog.Logger // debug logs, discarded when nil

	// OnEvent, when set, is called as each action starts and finishes,
	// and with an [EventNotice] for each message the user should see
	// while Plan or Apply runs, such as a wait. Apply calls it from
	// several goroutines at once, so it must be safe for concurrent use,
	// and it should return quickly because the action's worker waits for
	// it.
	OnEvent func(Event)
}

// DefaultParallelism is the number of concurrent API calls when
// Config.Parallelism is 0.
const DefaultParallelism = 10

// DefaultPendingGrace is Config.PendingGrace when it is 0: the client's
// timeout of one request, after which the client no longer waits for a
// create it sent.
//
// NOTE: the documentation does not say how long the service may take to
// commit a create after the client gave up on it. This assumes it takes no
// longer than the client's request timeout.
const DefaultPendingGrace = 60 * time.Second

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
	// cfg is a pointer, so that printing a Session by value shows none
	// of the client's fields, and its LockKey is moved to lockKey.
	cfg *Config
	// lockKey returns Config.LockKey. A function prints as an address
	// with every fmt verb, so no printed form of a Session shows the key.
	lockKey func() []byte
	log     *slog.Logger
	flock   *flock.Flock

	lock   *lockFile // as last read or written
	onDisk []byte    // the lock file's bytes, nil when it does not exist
	keyID  string    // identifies the lock key in the lock file, empty without a key

	applies int // calls of Apply that got past their checks, to reject stale plans
}

// Open validates cfg, takes the file lock and reads the lock file. The
// file lock is exclusive, or shared when cfg.DryRun is set. Open waits for
// it up to cfg.LockTimeout and then fails with an error wrapping
// [ErrLocked]. A lock file that is malformed, or recorded for another
// target ([ErrForeignTarget]), is an error. Open writes nothing but the
// empty file that carries the file lock (see [Config.LockPath]).
func Open(ctx context.Context, cfg Config) (*Session, error) {
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	key := []byte(cfg.LockKey)
	cfg.LockKey = nil
	s := &Session{cfg: &cfg, lockKey: func() []byte { return key }, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if len(key) > 0 {
		s.keyID = lockKeyID(key)
	}

	s.flock, err = acquireFileLock(ctx, cfg.LockPath, cfg.DryRun, cfg.LockTimeout)
	if err != nil {
		return nil, err
	}
	if err := s.readLock(); err != nil {
		s.flock.Close()
		return nil, err
	}
	return s, nil
}

func checkConfig(cfg Config) (Config, error) {
	var problems []error
	if cfg.LockPath == "" {
		problems = append(problems, errors.New("missing lock file path"))
	}
	if cfg.Refresh && cfg.Client == nil {
		problems = append(problems, errors.New("refreshing the remote state needs a client"))
	}
	if cfg.Client != nil {
		if cfg.Target.Sandbox == "" {
			cfg.Target.Sandbox = flowservice.DefaultSandbox
		}
		if cfg.Target.Endpoint == "" {
			problems = append(problems, errors.New("missing target endpoint"))
		}
		if cfg.Target.OrgID == "" {
			problems = append(problems, errors.New("missing target organization id"))
		}
	}
	if cfg.Parallelism < 0 {
		problems = append(problems, fmt.Errorf("parallelism %d is negative", cfg.Parallelism))
	}
	if cfg.Parallelism == 0 {
		cfg.Parallelism = DefaultParallelism
	}
	if cfg.PendingGrace < 0 {
		problems = append(problems, fmt.Errorf("pending grace period %v is negative", cfg.PendingGrace))
	}
	if cfg.PendingGrace == 0 {
		cfg.PendingGrace = DefaultPendingGrace
	}
	cfg.Target.Endpoint = strings.TrimRight(cfg.Target.Endpoint, "/")
	if err := errors.Join(problems...); err != nil {
		return cfg, fmt.Errorf("invalid apply configuration: %w", err)
	}
	return cfg, nil
}

// readLock reads the lock file, or starts an empty one when it does not
// exist, and checks that it belongs to the configured target.
func (s *Session) readLock() error {
	path := s.cfg.LockPath
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.lock = newLockFile(s.cfg.Target)
		s.onDisk = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("read lock file: %w", err)
	}
	l, err := decodeLock(data)
	if err != nil {
		return fmt.Errorf("read lock file %s:%w", path, err)
	}
	if err := checkTarget(path, l.Target, s.cfg.Target); err != nil {
		return err
	}
	// An offline plan may leave the target out, and then keeps the
	// recorded one.
	l.Target = fillTarget(s.cfg.Target, l.Target)
	s.lock = l
	s.onDisk = data
	return nil
}

// checkTarget returns an error wrapping [ErrForeignTarget] when the lock
// file recorded another target than want. Empty fields of want match
// anything.
func checkTarget(path string, got, want Target) error {
	same := (want.Endpoint == "" || want.Endpoint == strings.TrimRight(got.Endpoint, "/")) &&
		(want.OrgID == "" || want.OrgID == got.OrgID) &&
		(want.Sandbox == "" || want.Sandbox == got.Sandbox)
	if same {
		return nil
	}
	return fmt.Errorf("%w: %s records sandbox %q of organization %s at %s, but this run targets sandbox %q of organization %s at %s; "+
		"use a separate lock file for each sandbox, or move this one aside to start over (existing connections are then adopted by name)",
		ErrForeignTarget, path, got.Sandbox, got.OrgID, got.Endpoint, want.Sandbox, want.OrgID, want.Endpoint)
}

func fillTarget(t, from Target) Target {
	if t.Endpoint == "" {
		t.Endpoint = from.Endpoint
	}
	if t.OrgID == "" {
		t.OrgID = from.OrgID
	}
	if t.Sandbox == "" {
		t.Sandbox = from.Sandbox
	}
	return t
}

// writeEncoded writes data, an encoded lock file, unless the file already
// contains the same bytes. Callers serialize calls.
func (s *Session) writeEncoded(data []byte) error {
	if bytes.Equal(data, s.onDisk) {
		return nil
	}
	if err := writeFileAtomic(s.cfg.LockPath, data, 0o644); err != nil {
		return fmt.Errorf("update lock file: %w", err)
	}
	s.onDisk = data
	return nil
}

// String describes the session by its lock file, for logs and errors.
func (s *Session) String() string {
	return "apply.Session(" + s.cfg.LockPath + ")"
}

// Close releases the file lock. It writes nothing. Calling it again does
// nothing.
func (s *Session) Close() error {
	if s.flock == nil {
		return nil
	}
	err := s.flock.Close()
	s.flock = nil
	if err != nil {
		return fmt.Errorf("release lock file: %w", err)
	}
	return nil
}
