package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL and MariaDB server error numbers that classify handles.
const (
	errDBAccessDenied           = 1044 // access denied for user to database
	errAccessDenied             = 1045 // wrong user name or password
	errBadDB                    = 1049 // unknown database
	errHostNotPrivileged        = 1130 // no account for the client's address
	errOptionPreventsStatement  = 1290 // MariaDB: running with --require-secure-transport
	errAccessDeniedNoPassword   = 1698 // access denied, account uses another plugin
	errMustChangePassword       = 1820
	errMustChangePasswordLogin  = 1862
	errSecureTransportRequired  = 3159 // MySQL: require_secure_transport=ON
	errNotSupportedAuthProtocol = 1251
)

// classify turns a failed connect or query into a result. A login without
// TLS that is denied is retried over TLS to tell whether TLS is what the
// server requires.
func classify(ctx context.Context, t Target, mode sslMode, timeout time.Duration, err error) Result {
	if errors.Is(ctx.Err(), context.Canceled) {
		return Result{Outcome: Failed, Detail: "check canceled", Hint: "run the check again"}
	}
	if r, ok := classifyNetwork(ctx, t, timeout, err); ok {
		return r
	}
	if r, ok := classifyTLS(t, err); ok {
		return r
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return classifyServerError(ctx, t, mode, timeout, myErr)
	}
	switch {
	case errors.Is(err, mysql.ErrCleartextPassword),
		errors.Is(err, mysql.ErrNativePassword),
		errors.Is(err, mysql.ErrOldPassword),
		errors.Is(err, mysql.ErrUnknownPlugin):
		return Result{
			Outcome: AuthFailed,
			Detail:  fmt.Sprintf("authentication failed for user %s on %s: the account's authentication plugin is not supported", t.userText(), t.addrText()),
			Hint:    "use mysql_native_password or caching_sha2_password for the account",
		}
	case errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, mysql.ErrMalformPkt),
		errors.Is(err, mysql.ErrOldProtocol),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return Result{
			Outcome: Failed,
			Detail:  fmt.Sprintf("failed: %s closed the connection or sent no MySQL handshake", t.addrText()),
			Hint:    "check that the port belongs to a MySQL or MariaDB server",
		}
	}
	return Result{
		Outcome: Failed,
		Detail:  "failed: " + t.redact(err.Error()),
		Hint:    "check the server and the auth params",
	}
}

// classifyNetwork handles failures to reach the server: name lookup,
// refused connections and timeouts.
func classifyNetwork(ctx context.Context, t Target, timeout time.Duration, err error) (Result, bool) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return Result{
				Outcome: Unreachable,
				Detail:  fmt.Sprintf("unreachable: host %s not found", t.hostText()),
				Hint:    "check the server name, and that this machine's DNS can resolve it",
			}, true
		}
		return Result{
			Outcome: Unreachable,
			Detail:  fmt.Sprintf("unreachable: looking up host %s failed: %s", t.hostText(), t.redact(dnsErr.Err)),
			Hint:    "check this machine's DNS settings, then run the check again",
		}, true
	}

	var netErr net.Error
	timedOut := errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout())
	if timedOut {
		return Result{
			Outcome: Unreachable,
			Detail:  fmt.Sprintf("unreachable: connection to %s timed out after %v", t.addrText(), timeout),
			Hint:    "check the server and port, and that no firewall or IP allowlist blocks this machine, or allow a longer timeout",
		}, true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return Result{
			Outcome: Unreachable,
			Detail:  fmt.Sprintf("unreachable: connection to %s refused", t.addrText()),
			Hint:    "check the port, and that the database server is running and accepts TCP connections on that address",
		}, true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return Result{
			Outcome: Unreachable,
			Detail:  fmt.Sprintf("unreachable: connection to %s failed: %s", t.addrText(), t.redact(opErr.Err.Error())),
			Hint:    "check the server and port, and this machine's network route to the server",
		}, true
	}
	return Result{}, false
}

// classifyTLS handles a server without TLS, failed certificate checks and
// other handshake failures.
func classifyTLS(t Target, err error) (Result, bool) {
	if errors.Is(err, mysql.ErrNoTLS) {
		return Result{
			Outcome: TLSFailed,
			Detail:  fmt.Sprintf("TLS failed: %s does not support TLS", t.addrText()),
			Hint:    "enable TLS on the server, or set sslMode to PREFERRED to connect without TLS where the server offers none",
		}, true
	}

	detail := func(e error) string {
		return fmt.Sprintf("TLS failed with %s: %s", t.addrText(), t.redact(strings.TrimPrefix(e.Error(), "x509: ")))
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownAuthority):
		return Result{
			Outcome: TLSFailed,
			Detail:  fmt.Sprintf("TLS failed with %s: certificate signed by unknown authority", t.addrText()),
			Hint:    "add the CA that signed the server certificate to this machine's trusted roots (or name its PEM file in SSL_CERT_FILE), or set sslMode to REQUIRED to encrypt without verifying the certificate",
		}, true
	case errors.As(err, &hostname):
		return Result{
			Outcome: TLSFailed,
			Detail:  detail(hostname),
			Hint:    "set the server to a name that the certificate lists, or set sslMode to Verify-Ca to skip the host name check",
		}, true
	case errors.As(err, &invalid):
		return Result{
			Outcome: TLSFailed,
			Detail:  detail(invalid),
			Hint:    "renew or replace the server certificate",
		}, true
	case errors.As(err, &verification), errors.As(err, &recordHeader), strings.HasPrefix(err.Error(), "tls: "):
		return Result{
			Outcome: TLSFailed,
			Detail:  fmt.Sprintf("TLS failed with %s: %s", t.addrText(), t.redact(strings.TrimPrefix(err.Error(), "tls: "))),
			Hint:    "check the server's TLS configuration and the sslMode param",
		}, true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "remote error" {
		// The tls package reports an alert from the server this way.
		return Result{
			Outcome: TLSFailed,
			Detail:  fmt.Sprintf("TLS failed with %s: %s", t.addrText(), t.redact(opErr.Err.Error())),
			Hint:    "check the server's TLS configuration and the sslMode param",
		}, true
	}
	return Result{}, false
}

// classifyServerError handles an error that the server sent.
func classifyServerError(ctx context.Context, t Target, mode sslMode, timeout time.Duration, err *mysql.MySQLError) Result {
	addr, user, database := t.addrText(), t.userText(), t.databaseText()
	tlsRequired := Result{
		Outcome: TLSRequired,
		Detail:  fmt.Sprintf("TLS required by %s for user %s", addr, user),
		Hint:    `set sslMode to REQUIRED, Verify-Ca or Verify Identity ("true" on AWS)`,
	}
	authFailed := Result{
		Outcome: AuthFailed,
		Detail:  fmt.Sprintf("authentication failed for user %s on %s", user, addr),
		Hint:    "check the username and password",
	}
	if t.Password.Reveal() == "" {
		authFailed.Hint = "the password is empty; set the password"
	}

	switch err.Number {
	case errAccessDenied, errAccessDeniedNoPassword:
		// MariaDB rejects a login without TLS as plain access denied both
		// under require_secure_transport and for accounts created with
		// REQUIRE SSL, so only a second login over TLS can tell.
		if mode == sslDisabled && loginNeedsTLS(ctx, t, timeout) {
			return tlsRequired
		}
		return authFailed
	case errSecureTransportRequired:
		return tlsRequired
	case errOptionPreventsStatement:
		if strings.Contains(strings.ToLower(strings.ReplaceAll(err.Message, "_", "-")), "secure-transport") {
			return tlsRequired
		}
	case errBadDB:
		return Result{
			Outcome: UnknownDatabase,
			Detail:  fmt.Sprintf("unknown database %s on %s", database, addr),
			Hint:    "check the database name, and create the database if it is missing",
		}
	case errDBAccessDenied:
		// The server sends this both for a missing database and for one
		// the user has no grants on, so as not to reveal which exist.
		return Result{
			Outcome: UnknownDatabase,
			Detail:  fmt.Sprintf("unknown database %s on %s, or user %s may not use it", database, addr, user),
			Hint:    "check the database name, and that the user has been granted access to it",
		}
	case errHostNotPrivileged:
		return Result{
			Outcome: AuthFailed,
			Detail:  fmt.Sprintf("authentication failed: %s has no account for user %s from this machine's address", addr, user),
			Hint:    "ask the database administrator to allow the user from this machine's address",
		}
	case errMustChangePassword, errMustChangePasswordLogin:
		authFailed.Detail += ": the password has expired"
		authFailed.Hint = "set a new password for the account"
		return authFailed
	case errNotSupportedAuthProtocol:
		authFailed.Detail += ": the account's authentication plugin is not supported"
		authFailed.Hint = "use mysql_native_password or caching_sha2_password for the account"
		return authFailed
	}
	return Result{
		Outcome: Failed,
		Detail:  fmt.Sprintf("failed: %s returned error %d: %s", addr, err.Number, t.redact(err.Message)),
		Hint:    "look the error number up in the MySQL or MariaDB error reference",
	}
}

// loginNeedsTLS reports whether t, denied access without TLS, logs in over
// TLS. An error that the server sends only after a login, such as an
// unknown database, counts as logged in.
func loginNeedsTLS(ctx context.Context, t Target, timeout time.Duration) bool {
	conn, err := connect(ctx, t, sslRequired, timeout)
	if err == nil {
		conn.close()
		return true
	}
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		return false
	}
	switch myErr.Number {
	case errDBAccessDenied, errBadDB, errMustChangePassword, errMustChangePasswordLogin:
		return true
	}
	return false
}
