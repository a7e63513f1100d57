package verify

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/internal/dbtest"
	"github.com/apply-cli/apply/pkg/spec"
)

func serverTarget(s *dbtest.Server, user, password, sslMode string) Target {
	return Target{
		Name:     "mysql-shop",
		Host:     s.Host,
		Port:     s.Port,
		Database: database,
		User:     user,
		Password: spec.NewSecret("password", password),
		SSLMode:  sslMode,
	}
}

func TestCheckOutcomes(t *testing.T) {
	plainVersion := serverVersion(t, plainServer)
	tlsVersion := serverVersion(t, tlsServer)
	refusedPort := closedPort(t)
	silentAddr := silentListener(t)
	closingAddr := closingListener(t)

	withRoots := func(target Target, roots *x509.CertPool) Target {
		target.RootCAs = roots
		return target
	}
	withHost := func(target Target, host string) Target {
		target.Host = host
		return target
	}
	withDatabase := func(target Target, db string) Target {
		target.Database = db
		return target
	}
	withAddr := func(target Target, addr string) Target {
		host, port, _ := net.SplitHostPort(addr)
		target.Host = host
		target.Port, _ = strconv.Atoi(port)
		return target
	}

	tests := []struct {
		name        string
		target      Target
		timeout     time.Duration
		wantOutcome Outcome
		wantLine    string
	}{
		{
			name:        "reachable without TLS",
			target:      serverTarget(plainServer, appUser, appPassword, "DISABLED"),
			wantOutcome: Reachable,
			wantLine:    fmt.Sprintf("mysql-shop: reachable (%s, no TLS)", plainVersion),
		},
		{
			name:        "reachable PREFERRED without server TLS",
			target:      serverTarget(plainServer, appUser, appPassword, "PREFERRED"),
			wantOutcome: Reachable,
			wantLine:    fmt.Sprintf("mysql-shop: reachable (%s, no TLS)", plainVersion),
		},
		{
			name:        "reachable PREFERRED with server TLS",
			target:      serverTarget(tlsServer, appUser, appPassword, ""),
			wantOutcome: Reachable,
			wantLine:    fmt.Sprintf("mysql-shop: reachable (%s, TLSv1.3)", tlsVersion),
		},
		{
			name:        "reachable REQUIRED",
			target:      serverTarget(tlsServer, secureUser, securePassword, "REQUIRED"),
			wantOutcome: Reachable,
			wantLine:    fmt.Sprintf("mysql-shop: reachable (%s, TLSv1.3)", tlsVersion),
		},
		{
			name:        "reachable AWS true",
			target:      serverTarget(tlsServer, secureUser, securePassword, "true"),
			wantOutcome: Reachable,
			wantLine:    fmt.Sprintf("mysql-shop: reachable (%s, TLSv1.3)", tlsVersion),
		},
		{
			name:        "reachable Verify Identity with CA",
			target:      withRoots(serverTarget(tlsServer, secureUser, securePassword, "Verify Identity"), tlsServer.RootCAs),
			wantOutcome: Reachable,
			wantLine:    fmt.Sprintf("mysql-shop: reachable (%s, TLSv1.3)", tlsVersion),
		},
		{
			name:        "reachable Verify-Ca under other name",
			target:      withHost(withRoots(serverTarget(tlsServer, secureUser, securePassword, "Verify-Ca"), tlsServer.RootCAs), "localhost"),
			wantOutcome: Reachable,
			wantLine:    fmt.Sprintf("mysql-shop: reachable (%s, TLSv1.3)", tlsVersion),
		},
		{
			name:        "unreachable port refused",
			target:      withAddr(serverTarget(plainServer, appUser, appPassword, ""), refusedPort),
			wantOutcome: Unreachable,
			wantLine:    fmt.Sprintf("mysql-shop: unreachable: connection to %s refused; check the port, and that the database server is running and accepts TCP connections on that address", refusedPort),
		},
		{
			name:        "unreachable host not found",
			target:      withHost(serverTarget(plainServer, appUser, appPassword, ""), "db.example.invalid"),
			wantOutcome: Unreachable,
			wantLine:    `mysql-shop: unreachable: host "db.example.invalid" not found; check the server name, and that this machine's DNS can resolve it`,
		},
		{
			name:        "unreachable handshake timed out",
			target:      withAddr(serverTarget(plainServer, appUser, appPassword, ""), silentAddr),
			timeout:     300 * time.Millisecond,
			wantOutcome: Unreachable,
			wantLine:    fmt.Sprintf("mysql-shop: unreachable: connection to %s timed out after 300ms; check the server and port, and that no firewall or IP allowlist blocks this machine, or allow a longer timeout", silentAddr),
		},
		{
			name:        "authentication failed",
			target:      serverTarget(plainServer, appUser, "wrong-pw", "DISABLED"),
			wantOutcome: AuthFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: authentication failed for user "app" on %s; check the username and password`, plainServer.Addr()),
		},
		{
			name:        "authentication failed unknown user",
			target:      serverTarget(tlsServer, "nobody", "pw", "REQUIRED"),
			wantOutcome: AuthFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: authentication failed for user "nobody" on %s; check the username and password`, tlsServer.Addr()),
		},
		{
			name:        "authentication failed wrong password DISABLED on TLS server",
			target:      serverTarget(tlsServer, secureUser, "wrong-pw", "DISABLED"),
			wantOutcome: AuthFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: authentication failed for user "secure" on %s; check the username and password`, tlsServer.Addr()),
		},
		{
			name:        "authentication failed empty password",
			target:      serverTarget(plainServer, appUser, "", "DISABLED"),
			wantOutcome: AuthFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: authentication failed for user "app" on %s; the password is empty; set the password`, plainServer.Addr()),
		},
		{
			name:        "unknown database",
			target:      withDatabase(serverTarget(plainServer, ghostUser, ghostPassword, ""), missingDatabase),
			wantOutcome: UnknownDatabase,
			wantLine:    fmt.Sprintf(`mysql-shop: unknown database "archive" on %s; check the database name, and create the database if it is missing`, plainServer.Addr()),
		},
		{
			name:        "unknown database without grants",
			target:      withDatabase(serverTarget(plainServer, appUser, appPassword, ""), "sales"),
			wantOutcome: UnknownDatabase,
			wantLine:    fmt.Sprintf(`mysql-shop: unknown database "sales" on %s, or user "app" may not use it; check the database name, and that the user has been granted access to it`, plainServer.Addr()),
		},
		{
			name:        "TLS required by account",
			target:      serverTarget(tlsServer, secureUser, securePassword, "DISABLED"),
			wantOutcome: TLSRequired,
			wantLine:    fmt.Sprintf(`mysql-shop: TLS required by %s for user "secure"; set sslMode to REQUIRED, Verify-Ca or Verify Identity ("true" on AWS)`, tlsServer.Addr()),
		},
		{
			name:        "TLS required by server",
			target:      serverTarget(secureServer, appUser, appPassword, "false"),
			wantOutcome: TLSRequired,
			wantLine:    fmt.Sprintf(`mysql-shop: TLS required by %s for user "app"; set sslMode to REQUIRED, Verify-Ca or Verify Identity ("true" on AWS)`, secureServer.Addr()),
		},
		{
			name:        "TLS failed unknown authority",
			target:      serverTarget(tlsServer, secureUser, securePassword, "Verify Identity"),
			wantOutcome: TLSFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: TLS failed with %s: certificate signed by unknown authority; add the CA that signed the server certificate to this machine's trusted roots (or name its PEM file in SSL_CERT_FILE), or set sslMode to REQUIRED to encrypt without verifying the certificate`, tlsServer.Addr()),
		},
		{
			name:        "TLS failed Verify-Ca unknown authority",
			target:      serverTarget(tlsServer, secureUser, securePassword, "Verify-Ca"),
			wantOutcome: TLSFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: TLS failed with %s: certificate signed by unknown authority; add the CA that signed the server certificate to this machine's trusted roots (or name its PEM file in SSL_CERT_FILE), or set sslMode to REQUIRED to encrypt without verifying the certificate`, tlsServer.Addr()),
		},
		{
			name:        "TLS failed host name mismatch",
			target:      withHost(withRoots(serverTarget(tlsServer, secureUser, securePassword, "Verify Identity"), tlsServer.RootCAs), "localhost"),
			wantOutcome: TLSFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: TLS failed with localhost:%d: certificate is not valid for any names, but wanted to match localhost; set the server to a name that the certificate lists, or set sslMode to Verify-Ca to skip the host name check`, tlsServer.Port),
		},
		{
			name:        "TLS failed server without TLS",
			target:      serverTarget(plainServer, appUser, appPassword, "REQUIRED"),
			wantOutcome: TLSFailed,
			wantLine:    fmt.Sprintf(`mysql-shop: TLS failed: %s does not support TLS; enable TLS on the server, or set sslMode to PREFERRED to connect without TLS where the server offers none`, plainServer.Addr()),
		},
		{
			name:        "failed not a MySQL server",
			target:      withAddr(serverTarget(plainServer, appUser, appPassword, ""), closingAddr),
			wantOutcome: Failed,
			wantLine:    fmt.Sprintf(`mysql-shop: failed: %s closed the connection or sent no MySQL handshake; check that the port belongs to a MySQL or MariaDB server`, closingAddr),
		},
		{
			name:        "invalid sslMode",
			target:      serverTarget(plainServer, appUser, appPassword, "sometimes"),
			wantOutcome: Invalid,
			wantLine:    `mysql-shop: invalid auth params: sslMode: must be DISABLED, PREFERRED, REQUIRED, Verify-Ca or Verify Identity, or "true" or "false"; fix the auth params`,
		},
		{
			name:        "invalid missing server",
			target:      withHost(serverTarget(plainServer, appUser, appPassword, ""), ""),
			wantOutcome: Invalid,
			wantLine:    `mysql-shop: invalid auth params: missing server; fix the auth params`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Check(context.Background(), tt.target, tt.timeout)
			if got.Outcome != tt.wantOutcome {
				t.Errorf("Check outcome = %q, want %q (detail %q)", got.Outcome, tt.wantOutcome, got.Detail)
			}
			if diff := cmp.Diff(tt.wantLine, FormatResult(got)); diff != "" {
				t.Errorf("FormatResult(Check()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckReachableFields(t *testing.T) {
	got := Check(context.Background(), serverTarget(tlsServer, appUser, appPassword, "REQUIRED"), 0)
	want := Result{
		Name:          "mysql-shop",
		Outcome:       Reachable,
		ServerVersion: serverVersion(t, tlsServer),
		TLSVersion:    "TLSv1.3",
		Detail:        fmt.Sprintf("reachable (%s, TLSv1.3)", serverVersion(t, tlsServer)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check() mismatch (-want +got):\n%s", diff)
	}
	if got.Failed() {
		t.Error("Failed() = true for a reachable result")
	}
}

func TestCheckCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := Check(ctx, serverTarget(plainServer, appUser, appPassword, ""), 0)
	if got.Outcome != Failed || got.Detail != "check canceled" {
		t.Errorf("Check with canceled context = %+v, want Failed with detail %q", got, "check canceled")
	}
}

func TestSpecialPasswordBothForms(t *testing.T) {
	version := serverVersion(t, tlsServer)
	braced := "{" + escapeBraces(specialPassword) + "}"
	tests := []struct {
		name   string
		params map[string]string
	}{
		{
			name: "basic auth",
			params: map[string]string{
				"server":   tlsServer.Host,
				"port":     strconv.Itoa(tlsServer.Port),
				"database": database,
				"username": specialUser,
				"password": specialPassword,
				"sslMode":  "REQUIRED",
			},
		},
		{
			name: "braced connection string",
			params: map[string]string{
				"connectionString": fmt.Sprintf("Server=%s; Port=%d; Database=%s; UID=%s; PWD=%s; SslMode=Required;",
					tlsServer.Host, tlsServer.Port, database, specialUser, braced),
			},
		},
		{
			name: "connection string lower-case keys without trailing separator",
			params: map[string]string{
				"connectionString": fmt.Sprintf("server=%s;port=%d;database=%s;uid=%s;pwd=%s",
					tlsServer.Host, tlsServer.Port, database, specialUser, braced),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := TargetFromParams("", tt.params)
			if err != nil {
				t.Fatalf("TargetFromParams: %v", err)
			}
			if got := target.Password.Reveal(); got != specialPassword {
				t.Errorf("TargetFromParams password = %q, want %q", got, specialPassword)
			}
			target.Name = "mysql-special"
			got := FormatResult(Check(context.Background(), target, 0))
			want := fmt.Sprintf("mysql-special: reachable (%s, TLSv1.3)", version)
			if got != want {
				t.Errorf("Check line = %q, want %q", got, want)
			}
		})
	}
}

func TestListTables(t *testing.T) {
	got, err := ListTables(context.Background(), serverTarget(tlsServer, appUser, appPassword, "REQUIRED"), 0)
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	want := []string{"big_orders", "customers", "orders"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListTables mismatch (-want +got):\n%s", diff)
	}
}

func TestListTablesConnectFailure(t *testing.T) {
	_, err := ListTables(context.Background(), serverTarget(plainServer, appUser, "wrong-pw", ""), 0)
	verr, ok := err.(*Error)
	if !ok {
		t.Fatalf("ListTables with wrong password: error %v (%T), want *Error", err, err)
	}
	if verr.Result.Outcome != AuthFailed {
		t.Errorf("ListTables error outcome = %q, want %q", verr.Result.Outcome, AuthFailed)
	}
	want := fmt.Sprintf(`authentication failed for user "app" on %s; check the username and password`, plainServer.Addr())
	if err.Error() != want {
		t.Errorf("ListTables error = %q, want %q", err.Error(), want)
	}
}

func escapeBraces(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '}' {
			out = append(out, '}')
		}
	}
	return string(out)
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentListener returns the address of a listener that accepts
// connections and never sends anything, as a server behind a stalled
// network would.
func silentListener(t *testing.T) string {
	return serveLoopback(t, func(c net.Conn) {
		<-t.Context().Done()
		c.Close()
	})
}

// closingListener returns the address of a listener that closes every
// connection at once, as a server of another protocol might.
func closingListener(t *testing.T) string {
	return serveLoopback(t, func(c net.Conn) { c.Close() })
}

func serveLoopback(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().String()
}
