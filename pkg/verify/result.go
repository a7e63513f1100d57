package verify

import "fmt"

// FormatResult returns the line printed for one checked source: the name,
// then the detail, then the hint after "; ". For example:
//
//	mysql-orders: reachable (MariaDB 10.11.14, TLSv1.3)
//	mysql-orders: authentication failed for user "ingest" on 127.0.0.1:3306; check the username and password
//
// The line has no trailing newline and never contains a secret.
func FormatResult(r Result) string {
	line := r.Detail
	if r.Name != "" {
		line = r.Name + ": " + line
	}
	if r.Hint != "" {
		line += "; " + r.Hint
	}
	return line
}

func reachableResult(version, tlsVersion string) Result {
	encryption := tlsVersion
	if encryption == "" {
		encryption = "no TLS"
	}
	return Result{
		Outcome:       Reachable,
		ServerVersion: version,
		TLSVersion:    tlsVersion,
		Detail:        fmt.Sprintf("reachable (%s, %s)", version, encryption),
	}
}

func skippedResult(specID string) Result {
	return Result{
		Outcome: Skipped,
		Detail:  fmt.Sprintf("skipped: connection spec %s is not MySQL or MariaDB", specID),
	}
}

// invalidResult reports params that cannot describe a connection. err must
// not contain a secret: the errors of this package and of pkg/spec do not.
func invalidResult(err error) Result {
	return Result{
		Outcome: Invalid,
		Detail:  "invalid auth params: " + err.Error(),
		Hint:    "fix the auth params",
	}
}
