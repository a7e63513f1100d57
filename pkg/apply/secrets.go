package apply

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// lockKeyIDLabel is the message whose HMAC identifies a lock key.
const lockKeyIDLabel = "apply lock key id"

// lockKeyID returns a fingerprint of key for the lock file, so that a
// changed key is noticed. It is keyed itself: without the key, it reveals
// nothing about it and cannot be used to test guesses of a secret.
func lockKeyID(key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(lockKeyIDLabel))
	return hex.EncodeToString(mac.Sum(nil))[:16]
}
