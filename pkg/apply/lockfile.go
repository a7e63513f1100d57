package apply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// lockVersion is the format version written to, and accepted from, the
// lock file. Keep in sync with docs/lock-file.md.
const lockVersion = 1

// lockHeader is the first field of every lock file, telling readers that
// apply rewrites the file whole.
const lockHeader = "Maintained by apply, which rewrites this file whole: do not edit it by hand."

// lockFile is the decoded lock file.
type lockFile struct {
	Target  Target
	Entries map[string]*lockEntry // by manifest name
}

// lockEntry records one connection that apply manages.
type lockEntry struct {
	Name           string
	ID             string // empty while Pending
	ConnectionSpec specRef
	AuthSpecName   string
	Digest         string // the manifest's digest when last applied, which contains no secret

	// SecretHMAC is a keyed HMAC of the sensitive params last sent, and
	// SecretKeyID identifies the lock key it was computed with. Both are
	// empty when no key was given or the sensitive params were never sent.
	// SecretSalt is the entry's random salt, from which the HMAC's key is
	// derived (see entryKey), so that two connections with the same
	// password have different HMACs. It is set with the entry's first HMAC
	// and kept afterwards. Entries written before salts existed have an
	// HMAC without one, keyed with the lock key itself.
	SecretSalt  string
	SecretHMAC  string
	SecretKeyID string

	// Pending marks a create whose request may have been sent but whose
	// id is not recorded yet. The next run resolves it by name.
	Pending bool

	// PendingSince is when the entry became pending, in UTC with
	// millisecond precision. It is zero for entries that are not pending
	// and for pending entries written before the field existed.
	PendingSince time.Time

	// Replaces is the connection that a replace deletes once this entry's
	// connection exists.
	Replaces string
}

type specRef struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
}

func newLockFile(t Target) *lockFile {
	return &lockFile{Target: t, Entries: make(map[string]*lockEntry)}
}

// clone returns a deep copy of l, so that the executor can change entries
// while a snapshot is being encoded.
func (l *lockFile) clone() *lockFile {
	c := newLockFile(l.Target)
	for name, e := range l.Entries {
		copied := *e
		c.Entries[name] = &copied
	}
	return c
}

// lockDoc is the wire form of the lock file, which fixes the field order of
// the normal form. Keep in sync with decodeLock and docs/lock-file.md.
type lockDoc struct {
	Header      string     `json:"//"`
	Version     int        `json:"version"`
	Endpoint    string     `json:"endpoint"`
	OrgID       string     `json:"orgId"`
	Sandbox     string     `json:"sandbox"`
	Connections []entryDoc `json:"connections"`
}

type entryDoc struct {
	Name           string  `json:"name"`
	ID             string  `json:"id,omitempty"`
	ConnectionSpec specRef `json:"connectionSpec"`
	AuthSpecName   string  `json:"authSpecName,omitempty"`
	Digest         string  `json:"digest,omitempty"`
	SecretSalt     string  `json:"secretSalt,omitempty"`
	SecretHMAC     string  `json:"secretHmac,omitempty"`
	SecretKeyID    string  `json:"secretKeyId,omitempty"`
	Pending        bool    `json:"pending,omitempty"`
	PendingSince   string  `json:"pendingSince,omitempty"`
	Replaces       string  `json:"replaces,omitempty"`
}

// pendingSinceLayout is RFC 3339 in UTC with milliseconds, the form of
// pendingSince in the lock file.
const pendingSinceLayout = "2006-01-02T15:04:05.000Z"

// pendingTime returns t as PendingSince stores it: UTC, rounded up to the
// millisecond, so that the recorded time is never earlier than t.
func pendingTime(t time.Time) time.Time {
	t = t.UTC().Round(0)
	if up := t.Truncate(time.Millisecond); !up.Equal(t) {
		return up.Add(time.Millisecond)
	}
	return t
}

func newEntryDoc(e *lockEntry) entryDoc {
	d := entryDoc{
		Name:           e.Name,
		ID:             e.ID,
		ConnectionSpec: e.ConnectionSpec,
		AuthSpecName:   e.AuthSpecName,
		Digest:         e.Digest,
		SecretSalt:     e.SecretSalt,
		SecretHMAC:     e.SecretHMAC,
		SecretKeyID:    e.SecretKeyID,
		Pending:        e.Pending,
		Replaces:       e.Replaces,
	}
	if !e.PendingSince.IsZero() {
		d.PendingSince = e.PendingSince.UTC().Format(pendingSinceLayout)
	}
	return d
}

// encode returns the normal form of l: two-space indented JSON, entries
// sorted by name, fields in a fixed order, a trailing newline and nothing
// that depends on when it was written.
func (l *lockFile) encode() []byte {
	doc := lockDoc{
		Header:      lockHeader,
		Version:     lockVersion,
		Endpoint:    l.Target.Endpoint,
		OrgID:       l.Target.OrgID,
		Sandbox:     l.Target.Sandbox,
		Connections: make([]entryDoc, 0, len(l.Entries)),
	}
	for _, e := range l.Entries {
		doc.Connections = append(doc.Connections, newEntryDoc(e))
	}
	sort.Slice(doc.Connections, func(i, j int) bool {
		return doc.Connections[i].Name < doc.Connections[j].Name
	})

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		// Only strings, ints and bools go in, which always encode.
		panic(fmt.Sprintf("encode lock file: %v", err))
	}
	return buf.Bytes()
}

// decodeLock parses a lock file strictly. Each of the following is an error
// that gives its line and column: a syntax error, an unknown or repeated
// field, a value of the wrong type, an unsupported version, and a repeated
// name or id. So are a replaces that names a recorded connection or that
// another entry replaces too, and an entry that is neither recorded nor
// pending.
func decodeLock(data []byte) (*lockFile, error) {
	r := newStrictReader(data)
	l := newLockFile(Target{})
	version := -1
	ids := make(map[string]string)      // id -> name, to reject an id listed twice
	replaced := make(map[string]string) // replaces -> name, to reject a replaces that names a recorded connection

	err := r.object(func(key string, at int64) error {
		var err error
		switch key {
		case "//":
			_, err = r.str()
		case "version":
			var v int64
			v, err = r.integer()
			version = int(v)
			if err == nil && v != lockVersion {
				if v > lockVersion {
					return r.errorf(at, "version %d is newer than this apply supports (%d): upgrade apply", v, lockVersion)
				}
				return r.errorf(at, "unsupported version %d (want %d)", v, lockVersion)
			}
		case "endpoint":
			l.Target.Endpoint, err = r.str()
		case "orgId":
			l.Target.OrgID, err = r.str()
		case "sandbox":
			l.Target.Sandbox, err = r.str()
		case "connections":
			err = r.array(func(at int64) error {
				e, err := decodeEntry(r)
				if err != nil {
					return err
				}
				if err := checkEntry(e); err != nil {
					return r.errorf(at, "connection %q: %v", e.Name, err)
				}
				if _, dup := l.Entries[e.Name]; dup {
					return r.errorf(at, "connection %q is listed twice", e.Name)
				}
				if other, dup := ids[e.ID]; dup && e.ID != "" {
					return r.errorf(at, "connections %q and %q have the same id %s", other, e.Name, e.ID)
				}
				if err := checkReplaces(e, ids, replaced); err != nil {
					return r.errorf(at, "%v", err)
				}
				l.Entries[e.Name] = e
				if e.ID != "" {
					ids[e.ID] = e.Name
				}
				if e.Replaces != "" {
					replaced[e.Replaces] = e.Name
				}
				return nil
			})
		default:
			return r.errorf(at, "unknown field %q", key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, r.errorf(0, "missing field \"version\"")
	}
	return l, nil
}

func decodeEntry(r *strictReader) (*lockEntry, error) {
	e := new(lockEntry)
	err := r.object(func(key string, at int64) error {
		var err error
		switch key {
		case "name":
			e.Name, err = r.str()
		case "id":
			e.ID, err = r.str()
		case "connectionSpec":
			err = r.object(func(key string, at int64) error {
				var err error
				switch key {
				case "id":
					e.ConnectionSpec.ID, err = r.str()
				case "version":
					e.ConnectionSpec.Version, err = r.str()
				default:
					return r.errorf(at, "unknown field %q", "connectionSpec."+key)
				}
				return err
			})
		case "authSpecName":
			e.AuthSpecName, err = r.str()
		case "digest":
			e.Digest, err = r.str()
		case "secretSalt":
			e.SecretSalt, err = r.str()
		case "secretHmac":
			e.SecretHMAC, err = r.str()
		case "secretKeyId":
			e.SecretKeyID, err = r.str()
		case "pending":
			e.Pending, err = r.boolean()
		case "pendingSince":
			var text string
			text, err = r.str()
			if err == nil {
				e.PendingSince, err = time.Parse(time.RFC3339, text)
				if err != nil {
					return r.errorf(at, "pendingSince %q is not an RFC 3339 time", text)
				}
				e.PendingSince = e.PendingSince.UTC()
			}
		case "replaces":
			e.Replaces, err = r.str()
		default:
			return r.errorf(at, "unknown field %q", key)
		}
		return err
	})
	return e, err
}

// checkReplaces returns an error when e's replaces names a connection that
// an entry read before records (ids) or replaces too (replaced), or when an
// entry read before replaces e's own connection. A plan deletes the
// connection in replaces without --allow-replace, to finish an interrupted
// replace, so such a lock file, for example from a merge conflict resolved
// by hand, would delete a connection that a manifest still manages.
func checkReplaces(e *lockEntry, ids, replaced map[string]string) error {
	if other, ok := replaced[e.ID]; ok && e.ID != "" {
		return fmt.Errorf("connection %q has id %s, which connection %q replaces: an entry may replace only a connection that no entry records", e.Name, e.ID, other)
	}
	if e.Replaces == "" {
		return nil
	}
	if other, ok := ids[e.Replaces]; ok {
		return fmt.Errorf("connection %q replaces %s, which is the id of connection %q: an entry may replace only a connection that no entry records", e.Name, e.Replaces, other)
	}
	if other, ok := replaced[e.Replaces]; ok {
		return fmt.Errorf("connections %q and %q both replace %s", other, e.Name, e.Replaces)
	}
	return nil
}

// checkEntry returns an error naming what makes e inconsistent, or nil.
func checkEntry(e *lockEntry) error {
	var problems []string
	if e.Name == "" {
		problems = append(problems, "missing name")
	}
	if e.ConnectionSpec.ID == "" {
		problems = append(problems, "missing connectionSpec.id")
	}
	if e.Pending && e.ID != "" {
		problems = append(problems, "a pending entry has no id yet, but id is set")
	}
	if !e.Pending && e.ID == "" {
		problems = append(problems, "missing id (only a pending entry has none)")
	}
	if !e.Pending && !e.PendingSince.IsZero() {
		problems = append(problems, "pendingSince is set, but the entry is not pending")
	}
	if (e.SecretHMAC == "") != (e.SecretKeyID == "") {
		problems = append(problems, "secretHmac and secretKeyId must be set together")
	}
	if e.SecretSalt != "" && e.SecretHMAC == "" {
		problems = append(problems, "secretSalt is set without secretHmac")
	}
	if e.Replaces != "" && e.Replaces == e.ID {
		problems = append(problems, "an entry cannot replace itself")
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}
