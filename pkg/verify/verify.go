package verify

import (
	"context"
	"time"

	"github.com/apply-cli/apply/pkg/spec"
)

// Outcome classifies the result of checking one source.
type Outcome string

// Outcomes of a check.
const (
	Reachable       Outcome = "reachable"
	Unreachable     Outcome = "unreachable"      // DNS failure, connection refused, timeout
	AuthFailed      Outcome = "auth-failed"      // wrong user or password
	UnknownDatabase Outcome = "unknown-database" // the database does not exist
	TLSRequired     Outcome = "tls-required"     // the server requires TLS and sslMode disables it
	TLSFailed       Outcome = "tls-failed"       // handshake or certificate verification failed
	Invalid         Outcome = "invalid"          // the params cannot describe a connection
)

// Target is one database to check, built from resolved auth params.
type Target struct {
	Name     string // manifest name, for reporting
	Host     string
	Port     int
	Database string
	User     string
	Password spec.Secret
	SSLMode  string // as written in the manifest: DISABLED, PREFERRED, ..., "true" or "false"
}

// Result is the outcome of checking one target.
type Result struct {
	Name          string
	Outcome       Outcome
	ServerVersion string // set when Reachable
	Detail        string // what failed, never a secret
	Hint          string // what to do next
}

// TargetFromParams builds a target from the auth params of a MySQL or MariaDB
// connection, as an API request body holds them (basic auth or connection string).
func TargetFromParams(authSpecName string, params map[string]string) (Target, error) {
	panic("not implemented")
}

// TargetFromManifest builds a target from a manifest. ok is false when the
// manifest is not a MySQL or MariaDB source.
func TargetFromManifest(m *spec.Manifest) (t Target, ok bool, err error) {
	panic("not implemented")
}

// Check connects to t and classifies the outcome; timeout bounds the connect.
func Check(ctx context.Context, t Target, timeout time.Duration) Result {
	panic("not implemented")
}

// ListTables returns the tables of the target's database, sorted.
func ListTables(ctx context.Context, t Target, timeout time.Duration) ([]string, error) {
	panic("not implemented")
}
