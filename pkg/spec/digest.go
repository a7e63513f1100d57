package spec

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
)

// digestFormat versions the canonical form that Digest hashes. Change it
// whenever the form changes, so that old and new digests never compare equal
// by accident.
const digestFormat = "apply.manifest.v1"

// canonicalManifest is the canonical form of a resolved manifest. Struct
// fields are encoded in declaration order and map keys sorted, so the JSON
// encoding depends only on the values.
type canonicalManifest struct {
	Format         string         `json:"format"`
	Kind           string         `json:"kind"`
	Name           string         `json:"name"`
	Description    *string        `json:"description,omitempty"`
	ConnectionSpec canonicalSpec  `json:"connectionSpec"`
	SpecName       string         `json:"authSpecName"`
	Params         map[string]any `json:"params"`
}

type canonicalSpec struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// sensitiveParam replaces a sensitive param in the canonical form. It is a
// JSON object, which no plain param's string can equal.
type sensitiveParam struct {
	Sensitive bool `json:"sensitive"`
}

// Digest returns the hex SHA-256 of the resolved manifest's canonical form:
// kind, name, description (absent and empty differ), connection spec id and
// version, auth spec name and params. A sensitive param contributes only its
// name, so the digest is safe to store and print, and does not change when
// a secret does, because [Manifest.SecretHMAC] covers secrets. Positions,
// comments, formatting, key order and renamedFrom do not affect it.
// renamedFrom is an instruction for the lock file and is not sent to the API.
//
// NOTE: while m.AuthChecked is false every param is sensitive, so the
// digest and [Manifest.SecretHMAC] differ from those computed after
// CheckAuth whenever the check shows a param again. Compare them only
// between manifests whose auth params are both checked or both unchecked.
func (m *Manifest) Digest() string {
	c := canonicalManifest{
		Format:         digestFormat,
		Kind:           m.Kind,
		Name:           m.Name,
		ConnectionSpec: canonicalSpec{ID: m.ConnectionSpec.ID, Version: m.ConnectionSpec.Version},
		SpecName:       m.Auth.SpecName,
		Params:         make(map[string]any, len(m.Auth.Params)),
	}
	if m.HasDescription || m.Description != "" {
		c.Description = &m.Description
	}
	for name, v := range m.Auth.Params {
		if v.Sensitive() {
			c.Params[name] = sensitiveParam{Sensitive: true}
		} else {
			c.Params[name] = v.Reveal()
		}
	}
	data, err := json.Marshal(c)
	if err != nil {
		panic("spec: encode canonical manifest: " + err.Error()) // strings and maps always encode
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// SecretHMAC returns the hex HMAC-SHA256, keyed with key, of the sensitive
// params' names and values in name order, so that a change of secret can be
// detected without storing the secret or an unkeyed hash of it. It returns
// "" when key is empty, when the manifest has no sensitive params, and when
// a sensitive value is unresolved. The caller must then treat the secrets as
// unknown, neither changed nor unchanged.
func (m *Manifest) SecretHMAC(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(digestFormat))
	count := 0
	for _, name := range sortedKeys(m.Auth.Params) {
		v := m.Auth.Params[name]
		if !v.Sensitive() {
			continue
		}
		if len(v.Unresolved()) > 0 {
			return ""
		}
		writeField(mac, name)
		writeField(mac, v.Reveal())
		count++
	}
	if count == 0 {
		return ""
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// writeField writes s with its length in front, so that no two sequences of
// fields encode to the same bytes.
func writeField(w io.Writer, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	w.Write(n[:])
	w.Write([]byte(s))
}
