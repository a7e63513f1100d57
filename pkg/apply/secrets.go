package apply

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/apply-cli/apply/pkg/spec"
)

// LockKey is the key of the lock file's secret HMACs. Every printed form
// of it (fmt verbs, JSON, text and slog) shows "(sensitive)", or "(none)"
// when it is empty, never the key.
type LockKey []byte

// String returns the redaction marker.
func (k LockKey) String() string {
	if len(k) == 0 {
		return "(none)"
	}
	return "(sensitive)"
}

// GoString returns the redaction marker, so %#v does not show the key.
func (k LockKey) GoString() string { return "apply.LockKey" + k.String() }

// Format prints the redaction marker for every verb, including %x and %d,
// which would otherwise print the bytes.
func (k LockKey) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, k.GoString())
		return
	}
	fmt.Fprint(f, k.String())
}

// MarshalJSON encodes the redaction marker as a JSON string.
func (k LockKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// MarshalText returns the redaction marker.
func (k LockKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LogValue implements [slog.LogValuer] with the redaction marker.
func (k LockKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// lockKeyIDLabel is the message whose HMAC identifies a lock key.
const lockKeyIDLabel = "apply lock key id"

// entrySaltLabel prefixes an entry's salt in the message whose HMAC is the
// entry's key.
const entrySaltLabel = "apply entry salt:"

// lockKeyID returns a fingerprint of key for the lock file, so that a
// changed key is noticed. It is keyed itself, so without the key it reveals
// nothing about it and cannot be used to test guesses of a secret.
func lockKeyID(key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(lockKeyIDLabel))
	return hex.EncodeToString(mac.Sum(nil))[:16]
}

// newSalt returns a random salt for a lock entry: 26 base32 characters,
// with at least 128 random bits.
func newSalt() string { return rand.Text() }

// entryKey returns the key of one lock entry's secret HMAC: an HMAC-SHA256,
// keyed with the lock key, of the entry's salt. Connections that share a
// password then have unrelated HMACs, so the lock file does not reveal the
// reuse.
func entryKey(lockKey []byte, salt string) []byte {
	mac := hmac.New(sha256.New, lockKey)
	mac.Write([]byte(entrySaltLabel + salt))
	return mac.Sum(nil)
}

// secretHMAC returns the HMAC of m's sensitive params for a lock entry
// with the given salt, or "" when there is no lock key or nothing to hash
// (see [spec.Manifest.SecretHMAC]). An empty salt gives the HMAC that
// versions without salts recorded, keyed with the lock key itself, which
// is only compared, never written.
func (s *Session) secretHMAC(m *spec.Manifest, salt string) string {
	key := s.lockKey()
	if len(key) == 0 {
		return ""
	}
	if salt == "" {
		return m.SecretHMAC(key)
	}
	return m.SecretHMAC(entryKey(key, salt))
}
