package apply

import (
	"github.com/apply-cli/apply/pkg/flowservice"
	"github.com/apply-cli/apply/pkg/spec"
)

// step is the executor's data for one action, beyond the Action's fields.
type step struct {
	manifest *spec.Manifest // nil for a delete
	lockName string         // name of the lock entry the action starts from, which a rename moves

	// remote is the remote connection as read while planning, with its
	// etag for If-Match. It is nil when none exists or the plan was made
	// offline.
	remote *flowservice.Connection
	id     string

	// recorded is the lock entry whose secret HMAC describes the sensitive
	// params of the remote connection, or nil when they are unknown.
	recorded *lockEntry

	// salt is the secret salt of the entry the step writes: the salt of
	// the entry it starts from, or a new one, used only if the entry gets
	// an HMAC.
	salt string

	// rehash is set when recorded has an HMAC without a salt that matches
	// the manifest's secrets, so the written entry gets a salted HMAC
	// although no secret is sent.
	rehash bool

	create     bool     // a new connection is created first
	sendParams bool     // a patch sends the auth params, sensitive values included
	deleteIDs  []string // connections deleted after the rest succeeded

	// raceNote is set by a patch that found the connection changed by
	// someone else since the plan, and becomes the result's Note.
	raceNote string
}

// sendsParams reports whether carrying out the step sends the auth
// params, with their sensitive values.
func (st *step) sendsParams() bool {
	return st.manifest != nil && (st.create || st.sendParams)
}
