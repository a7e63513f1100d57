package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"
)

// stateVersion is the format version of the state file.
const stateVersion = 1

// stateDoc is the content of the state file.
type stateDoc struct {
	Version     int           `json:"version"`
	Connections []*connection `json:"connections"`
}

// stateFile writes the store to disk. Writes are group commits: a request
// waits until a write that includes its change has finished, and one write
// covers every change committed before it started, so concurrent requests
// share writes.
type stateFile struct {
	path string
	lock *flock.Flock

	mu    sync.Mutex // serialises writes
	saved uint64     // highest store sequence number on disk
}

// openState locks path against other emulators and loads the connections it
// contains. A missing file is an empty state.
func openState(path string) (*stateFile, []*connection, error) {
	lock := flock.New(path + ".lock")
	locked, err := lock.TryLock()
	if err != nil {
		return nil, nil, fmt.Errorf("lock state file %s: %w", path, err)
	}
	if !locked {
		return nil, nil, fmt.Errorf("lock state file %s: another emulator is using it", path)
	}
	conns, err := readState(path)
	if err != nil {
		lock.Unlock()
		return nil, nil, err
	}
	return &stateFile{path: path, lock: lock}, conns, nil
}

func readState(path string) ([]*connection, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read state file %s: %w", path, err)
	}
	if doc.Version != stateVersion {
		return nil, fmt.Errorf("read state file %s: unsupported version %d, want %d", path, doc.Version, stateVersion)
	}
	seen := map[string]bool{}
	for i, c := range doc.Connections {
		if c == nil || c.ID == "" || c.IMSOrgID == "" || c.SandboxName == "" {
			return nil, fmt.Errorf("read state file %s: connection %d: missing id, org or sandbox", path, i)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("read state file %s: duplicate connection id %s", path, c.ID)
		}
		seen[c.ID] = true
	}
	return doc.Connections, nil
}

// save writes the store unless a write that includes change seq already
// finished.
func (f *stateFile) save(s *store, seq uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saved >= seq {
		return nil
	}
	conns, current := s.snapshot()
	data, err := json.MarshalIndent(stateDoc{Version: stateVersion, Connections: conns}, "", "  ")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := writeFileAtomic(f.path, append(data, '\n')); err != nil {
		return err
	}
	f.saved = current
	return nil
}

func (f *stateFile) close() error {
	return f.lock.Unlock()
}

// writeFileAtomic replaces path with data: it writes a temporary file in the
// same directory, syncs it and renames it over path, so a crash leaves
// either the old or the new content. The file is readable by its owner only
// because it contains secrets in clear.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}

	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	// Sync the directory so the rename itself survives a crash.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
