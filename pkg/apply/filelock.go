package apply

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// flockPath returns the file that serializes runs on the lock file at
// path. The lock file itself cannot carry the file lock because every
// write replaces it with a new file by rename, and a lock held on the old
// file would not exclude a run that opens the new one.
func flockPath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".flock")
}

// lockRetryDelay is how often a waiting run tries the file lock again.
const lockRetryDelay = 50 * time.Millisecond

// acquireFileLock takes the file lock of the lock file at path, shared
// when shared is set, waiting up to timeout. The lock is released when the
// process ends, so a killed run never leaves it held.
func acquireFileLock(ctx context.Context, path string, shared bool, timeout time.Duration) (*flock.Flock, error) {
	fl := flock.New(flockPath(path))
	try := fl.TryLock
	tryContext := fl.TryLockContext
	if shared {
		try = fl.TryRLock
		tryContext = fl.TryRLockContext
	}

	var ok bool
	var err error
	if timeout <= 0 {
		ok, err = try()
	} else {
		waitCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		ok, err = tryContext(waitCtx, lockRetryDelay)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s is held by another apply run (waited %v); wait for that run to end or raise the lock timeout", ErrLocked, fl.Path(), timeout)
	}
	return fl, nil
}
