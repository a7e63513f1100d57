package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/apply-cli/apply/internal/dbtest"
	"github.com/apply-cli/apply/pkg/spec"
)

// TestNoSecretInOutput plants a canary password and checks that no result
// field, printed line, error or debug log line of any outcome contains it.
func TestNoSecretInOutput(t *testing.T) {
	const canary = "Canary;$pw{x}}-8d1e"
	ctx := context.Background()
	createUser(t, "canary", canary, "", tlsServer, secureServer)

	var logs bytes.Buffer
	saved := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(saved) })

	canaryTarget := func(host string, port int, user, sslMode string) Target {
		return Target{
			Name: "mysql-canary", Host: host, Port: port, Database: database,
			User: user, Password: spec.NewSecret("MYSQL_PASSWORD", canary), SSLMode: sslMode,
		}
	}
	refused := closedPort(t)
	refusedPort, _ := strconv.Atoi(refused[strings.LastIndex(refused, ":")+1:])
	silentPort, _ := strconv.Atoi(strings.Split(silentListener(t), ":")[1])
	closingPort, _ := strconv.Atoi(strings.Split(closingListener(t), ":")[1])
	fromString, err := TargetFromParams("", map[string]string{
		"connectionString": fmt.Sprintf("Server=127.0.0.1;Port=%d;Database=shop;UID=canary;PWD={%s};SslMode=Required",
			tlsServer.Port, strings.ReplaceAll(canary, "}", "}}")),
	})
	if err != nil {
		t.Fatal(err)
	}

	targets := []Target{
		canaryTarget(tlsServer.Host, tlsServer.Port, "canary", "REQUIRED"), // reachable
		fromString, // reachable from a connection string
		canaryTarget(plainServer.Host, plainServer.Port, appUser, "DISABLED"),    // authentication failed
		canaryTarget(tlsServer.Host, tlsServer.Port, appUser, "DISABLED"),        // authentication failed after the TLS retry
		canaryTarget(secureServer.Host, secureServer.Port, "canary", "DISABLED"), // TLS required
		canaryTarget(tlsServer.Host, tlsServer.Port, "canary", "Verify Identity"),
		canaryTarget(plainServer.Host, plainServer.Port, appUser, "REQUIRED"), // server without TLS
		canaryTarget("127.0.0.1", refusedPort, "canary", ""),
		canaryTarget("db.canary.invalid", 3306, "canary", ""),
		canaryTarget("127.0.0.1", silentPort, "canary", ""),
		canaryTarget("127.0.0.1", closingPort, "canary", ""),
		canaryTarget(plainServer.Host, plainServer.Port, "canary", "bogus"),
	}
	var outputs []string
	outcomes := map[Outcome]bool{}
	for _, target := range targets {
		timeout := 5 * time.Second
		if target.Port == silentPort {
			timeout = 300 * time.Millisecond // the silent listener never responds
		}
		r := Check(ctx, target, timeout)
		outcomes[r.Outcome] = true
		outputs = append(outputs,
			FormatResult(r),
			fmt.Sprintf("%v|%+v|%#v", r, r, r),
			fmt.Sprintf("%v|%+v|%#v", target, target, target),
		)
		if _, err := ListTables(ctx, target, timeout); err != nil {
			outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err))
		}
	}
	outputs = append(outputs, logs.String())
	t.Logf("debug log:\n%s", logs.String())

	for _, want := range []Outcome{Reachable, AuthFailed, TLSRequired, TLSFailed, Unreachable, Failed, Invalid} {
		if !outcomes[want] {
			t.Errorf("no check had outcome %q, so its output went unchecked", want)
		}
	}
	if !strings.Contains(logs.String(), "verify: checked source") {
		t.Errorf("debug log has no check lines, so it went unchecked:\n%s", logs.String())
	}
	for _, out := range outputs {
		if strings.Contains(out, canary) {
			t.Errorf("output contains the password:\n%s", out)
		}
	}
}

func TestRedact(t *testing.T) {
	basic := Target{Host: "10.1.2.3", User: "ingest", Password: spec.NewSecret("DB_PASSWORD", "hunter2")}
	basic.shown.host = "(sensitive: DB_HOST)"

	fromString, err := TargetFromParams("", map[string]string{
		"connectionString": "Server=db;Database=shop;UID=orders-admin;PWD=orders",
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		target Target
		in     string
		want   string
	}{
		{
			name:   "password and sensitive host",
			target: basic,
			in:     "Access denied for user 'ingest'@'10.1.2.3' (hunter2)",
			want:   "Access denied for user 'ingest'@'(sensitive: DB_HOST)' ((sensitive: DB_PASSWORD))",
		},
		{
			name:   "connection string values inside each other",
			target: fromString,
			in:     "User 'orders-admin' on db:3306 may not use 'shop' with password 'orders'",
			want:   "User '(sensitive: connectionString)' on (sensitive: connectionString):(sensitive: connectionString) may not use '(sensitive: connectionString)' with password '(sensitive: PWD)'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.target.redact(tt.in); got != tt.want {
				t.Errorf("redact = %q, want %q", got, tt.want)
			}
		})
	}
}

// Parts of the connection strings in TestConnStringPartsHidden. Each is
// unique, so that a leak of any part shows in the output scan.
const (
	csUser            = "csusercanary42"
	csLimitedUser     = "cslimitcanary42" // limited to one connection at a time
	csDatabase        = "csdbcanary42"
	csMissingDatabase = "csmissingcanary42"
	csPassword        = "cs-Canary;$pw{x}}-5c2b"
	csUnknownHost     = "cshostcanary42.invalid"
)

// connStringParts are the values of a connection string's keys.
type connStringParts struct {
	Host, Port, Database, User, Password, SSLMode string
}

// TestConnStringPartsHidden checks that no part of a connection string is
// printed, whether the manifest takes it from a variable or writes it
// literally, and whether the string comes from a manifest or from the
// params of an API request. It pins the line of each outcome, and scans
// the results, errors and debug log, including text of the driver, the
// server and Go's TLS package, for every part.
func TestConnStringPartsHidden(t *testing.T) {
	const hidden = "(sensitive: connectionString)"
	ctx := context.Background()
	allServers := []*dbtest.Server{plainServer, tlsServer, secureServer}
	createDatabase(t, csDatabase, allServers...)
	createUser(t, csUser, csPassword, "", allServers...)
	createUser(t, csLimitedUser, csPassword, "WITH MAX_USER_CONNECTIONS 1", plainServer)
	for _, s := range allServers {
		if err := s.Exec(ctx, fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%%'", csDatabase, csUser)); err != nil {
			t.Fatal(err)
		}
	}
	if err := plainServer.Exec(ctx, fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%%'", csDatabase, csLimitedUser)); err != nil {
		t.Fatal(err)
	}
	// The limited user's one connection is taken for the whole test.
	held, err := connect(ctx, serverTarget(plainServer, csLimitedUser, csPassword, ""), sslDisabled, 5*time.Second)
	if err != nil {
		t.Fatalf("connect as %s: %v", csLimitedUser, err)
	}
	t.Cleanup(held.close)

	parts := func(s *dbtest.Server, sslMode string) connStringParts {
		return connStringParts{
			Host: s.Host, Port: strconv.Itoa(s.Port), Database: csDatabase,
			User: csUser, Password: csPassword, SSLMode: sslMode,
		}
	}
	with := func(p connStringParts, change func(*connStringParts)) connStringParts {
		change(&p)
		return p
	}
	portOf := func(addr string) string {
		_, port, _ := net.SplitHostPort(addr)
		return port
	}
	refusedPort := portOf(closedPort(t))
	silentPort := portOf(silentListener(t))
	closingPort := portOf(closingListener(t))

	tests := []struct {
		name     string
		parts    connStringParts
		rootCAs  *x509.CertPool
		timeout  time.Duration
		wantLine string
	}{
		{
			name:     "reachable",
			parts:    parts(tlsServer, "rEqUiReD"),
			wantLine: fmt.Sprintf("mariadb-cs: reachable (%s, TLSv1.3)", serverVersion(t, tlsServer)),
		},
		{
			name:     "authentication failed",
			parts:    with(parts(plainServer, "dIsAbLeD"), func(p *connStringParts) { p.Password = "cs-wrong-pw" }),
			wantLine: "mariadb-cs: authentication failed for user " + hidden + " on " + hidden + "; check the username and password",
		},
		{
			name:     "unknown database",
			parts:    with(parts(plainServer, "dIsAbLeD"), func(p *connStringParts) { p.Database = csMissingDatabase }),
			wantLine: "mariadb-cs: unknown database " + hidden + " on " + hidden + ", or user " + hidden + " may not use it; check the database name, and that the user has been granted access to it",
		},
		{
			name:     "TLS required",
			parts:    parts(secureServer, "dIsAbLeD"),
			wantLine: "mariadb-cs: TLS required by " + hidden + " for user " + hidden + `; set sslMode to REQUIRED, Verify-Ca or Verify Identity ("true" on AWS)`,
		},
		{
			name:     "TLS failed server without TLS",
			parts:    parts(plainServer, "rEqUiReD"),
			wantLine: "mariadb-cs: TLS failed: " + hidden + " does not support TLS; enable TLS on the server, or set sslMode to PREFERRED to connect without TLS where the server offers none",
		},
		{
			name:     "TLS failed unknown authority",
			parts:    parts(tlsServer, "vErIfY iDeNtItY"),
			wantLine: "mariadb-cs: TLS failed with " + hidden + ": certificate signed by unknown authority; add the CA that signed the server certificate to this machine's trusted roots (or name its PEM file in SSL_CERT_FILE), or set sslMode to REQUIRED to encrypt without verifying the certificate",
		},
		{
			name:     "TLS failed host name mismatch",
			parts:    with(parts(tlsServer, "vErIfY iDeNtItY"), func(p *connStringParts) { p.Host = "localhost" }),
			rootCAs:  tlsServer.RootCAs,
			wantLine: "mariadb-cs: TLS failed with " + hidden + ": certificate is not valid for any names, but wanted to match " + hidden + "; set the server to a name that the certificate lists, or set sslMode to Verify-Ca to skip the host name check",
		},
		{
			name:     "unreachable refused",
			parts:    with(parts(plainServer, ""), func(p *connStringParts) { p.Port = refusedPort }),
			wantLine: "mariadb-cs: unreachable: connection to " + hidden + " refused; check the port, and that the database server is running and accepts TCP connections on that address",
		},
		{
			name:     "unreachable host not found",
			parts:    with(parts(plainServer, ""), func(p *connStringParts) { p.Host = csUnknownHost }),
			wantLine: "mariadb-cs: unreachable: host " + hidden + " not found; check the server name, and that this machine's DNS can resolve it",
		},
		{
			name:     "unreachable timed out",
			parts:    with(parts(plainServer, ""), func(p *connStringParts) { p.Port = silentPort }),
			timeout:  300 * time.Millisecond,
			wantLine: "mariadb-cs: unreachable: connection to " + hidden + " timed out after 300ms; check the server and port, and that no firewall or IP allowlist blocks this machine, or allow a longer timeout",
		},
		{
			name:     "failed no MySQL handshake",
			parts:    with(parts(plainServer, ""), func(p *connStringParts) { p.Port = closingPort }),
			wantLine: "mariadb-cs: failed: " + hidden + " closed the connection or sent no MySQL handshake; check that the port belongs to a MySQL or MariaDB server",
		},
		{
			name:     "failed with server message",
			parts:    with(parts(plainServer, "dIsAbLeD"), func(p *connStringParts) { p.User = csLimitedUser }),
			wantLine: "mariadb-cs: failed: " + hidden + " returned error 1226: User '" + hidden + "' has exceeded the 'max_user_connections' resource (current value: 1); look the error number up in the MySQL or MariaDB error reference",
		},
	}

	forms := []struct {
		name   string
		target func(*testing.T, connStringParts) Target
	}{
		{"manifest variables", func(t *testing.T, p connStringParts) Target {
			return connStringManifestTarget(t, "testdata/connstring/variables.yaml", p)
		}},
		{"manifest literal", func(t *testing.T, p connStringParts) Target {
			return connStringManifestTarget(t, "testdata/connstring/literal.yaml", p)
		}},
		{"request params", connStringParamsTarget},
	}

	// The targets are built before the debug log is captured, because
	// spec.Load logs the path of each manifest, and a temporary folder's
	// name could contain a port number by chance.
	targets := make(map[string]Target)
	for _, tt := range tests {
		for _, form := range forms {
			target := form.target(t, tt.parts)
			target.RootCAs = tt.rootCAs
			targets[tt.name+"/"+form.name] = target
		}
	}

	var logs bytes.Buffer
	saved := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // a time stamp could contain a port number by chance
			}
			return a
		},
	})))
	t.Cleanup(func() { slog.SetDefault(saved) })

	var outputs []string
	for _, tt := range tests {
		for _, form := range forms {
			t.Run(tt.name+"/"+form.name, func(t *testing.T) {
				target := targets[tt.name+"/"+form.name]
				r := Check(ctx, target, tt.timeout)
				line := FormatResult(r)
				if line != tt.wantLine {
					t.Errorf("Check line mismatch:\n got %s\nwant %s", line, tt.wantLine)
				}
				outputs = append(outputs, line, fmt.Sprintf("%v|%+v|%#v", r, r, r))
				if _, err := ListTables(ctx, target, tt.timeout); err != nil {
					outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err))
				}
			})
		}
	}
	outputs = append(outputs, logs.String())
	if !strings.Contains(logs.String(), "verify: checked source") {
		t.Errorf("debug log has no check lines, so it went unchecked:\n%s", logs.String())
	}

	canaries := []string{
		csUser, csLimitedUser, csDatabase, csMissingDatabase, csPassword, "cs-wrong-pw", "cshostcanary42",
		"127.0.0.1", "localhost", "rEqUiReD", "dIsAbLeD", "vErIfY iDeNtItY",
		strconv.Itoa(plainServer.Port), strconv.Itoa(tlsServer.Port), strconv.Itoa(secureServer.Port),
		refusedPort, silentPort, closingPort,
	}
	for _, out := range outputs {
		for _, canary := range canaries {
			if strings.Contains(out, canary) {
				t.Errorf("output contains the connection string part %q:\n%s", canary, out)
			}
		}
	}
}

// connStringManifestTarget loads the manifest template at path with parts
// filled in, the literal parts as text and the variable parts through
// LookupEnv, and returns its target.
func connStringManifestTarget(t *testing.T, path string, parts connStringParts) Target {
	t.Helper()
	tmpl := template.Must(template.ParseFiles(path))
	var manifestText bytes.Buffer
	if err := tmpl.Execute(&manifestText, parts); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "mariadb-cs.yaml")
	if err := os.WriteFile(file, manifestText.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{
		"CS_HOST":     parts.Host,
		"CS_PORT":     parts.Port,
		"CS_DATABASE": parts.Database,
		"CS_USER":     parts.User,
		"CS_PASSWORD": escapeBraces(parts.Password),
		"CS_SSL_MODE": parts.SSLMode,
	}
	loaded, err := spec.Load([]string{file}, spec.LoadOptions{
		LookupEnv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
	})
	if err != nil {
		t.Fatalf("spec.Load: %v", err)
	}

	target, ok, err := TargetFromManifest(loaded.Manifests[0])
	if !ok || err != nil {
		t.Fatalf("TargetFromManifest = ok %v, error %v, want ok and no error", ok, err)
	}
	return target
}

// connStringParamsTarget returns the target of an API request's params
// that contain a connection string of parts.
func connStringParamsTarget(t *testing.T, parts connStringParts) Target {
	t.Helper()
	cs := fmt.Sprintf("Server=%s;Port=%s;Database=%s;UID=%s;PWD={%s};SslMode=%s",
		parts.Host, parts.Port, parts.Database, parts.User, escapeBraces(parts.Password), parts.SSLMode)
	target, err := TargetFromParams("", map[string]string{"connectionString": cs})
	if err != nil {
		t.Fatalf("TargetFromParams: %v", err)
	}
	target.Name = "mariadb-cs"
	return target
}
