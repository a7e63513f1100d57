package verify

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

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
	Failed          Outcome = "failed"           // any other error, such as too many connections
	Skipped         Outcome = "skipped"          // not a MySQL or MariaDB source, from Run only
)

// DefaultTimeout bounds a check when the caller gives no timeout.
const DefaultTimeout = 10 * time.Second

// Target is one database to check, built from resolved auth params.
type Target struct {
	Name     string // manifest name, for reporting
	Host     string
	Port     int // 0 means 3306
	Database string
	User     string
	Password spec.Secret
	SSLMode  string // as written in the manifest: DISABLED, PREFERRED, ..., "true" or "false"

	// RootCAs verifies the server certificate in the Verify-Ca and Verify
	// Identity modes. Nil means the system's roots, as crypto/x509 loads
	// them, so that on Linux the SSL_CERT_FILE environment variable can name
	// the bundle file.
	RootCAs *x509.CertPool

	shown shownText // markers of the fields that output must not show
}

// Result is the outcome of checking one target.
type Result struct {
	Name          string
	Outcome       Outcome
	ServerVersion string // set when Reachable: product and version, such as "MariaDB 10.11.14"
	TLSVersion    string // set when Reachable over TLS, such as "TLSv1.3"
	Detail        string // description of the outcome, starting with the outcome's words, never a secret
	Hint          string // next step for the user, empty when Reachable or Skipped
}

// Failed reports whether r is a failure: any outcome but Reachable and
// Skipped.
func (r Result) Failed() bool {
	return r.Outcome != Reachable && r.Outcome != Skipped
}

// Check connects to t and classifies the outcome.
//
// The timeout (DefaultTimeout when zero or negative) bounds the whole
// check: name lookup, TCP connect, TLS handshake, login and the version
// query. When a login without TLS is rejected as access denied, Check logs
// in once more over TLS to tell a server or account that requires TLS from
// a wrong password, because MariaDB reports both as error 1045. No field of
// the result contains the password. Check is safe for concurrent use and
// logs at debug level through [slog.Default].
func Check(ctx context.Context, t Target, timeout time.Duration) Result {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	slog.DebugContext(ctx, "verify: checking source",
		"name", t.Name, "addr", t.addrText(), "user", shownOr(t.User, t.shown.user),
		"database", shownOr(t.Database, t.shown.database), "sslMode", shownOr(t.SSLMode, t.shown.sslMode))

	r := check(ctx, t, timeout)
	r.Name = t.Name
	slog.DebugContext(ctx, "verify: checked source", "name", t.Name, "outcome", r.Outcome, "detail", r.Detail)
	return r
}

func check(ctx context.Context, t Target, timeout time.Duration) Result {
	mode, err := parseSSLMode(t.SSLMode)
	if err != nil {
		return invalidResult(fmt.Errorf("sslMode: %w", err))
	}
	if err := t.validate(); err != nil {
		return invalidResult(err)
	}

	conn, err := connect(ctx, t, mode, timeout)
	if err != nil {
		return classify(ctx, t, mode, timeout, err)
	}
	defer conn.close()

	version, tlsVersion, err := serverInfo(ctx, conn.conn)
	if err != nil {
		return classify(ctx, t, mode, timeout, err)
	}
	return reachableResult(version, tlsVersion)
}

func (t Target) validate() error {
	switch {
	case strings.TrimSpace(t.Host) == "":
		return errors.New("missing server")
	case t.User == "":
		return errors.New("missing user name")
	case t.Database == "":
		return errors.New("missing database")
	case t.Port < 0 || t.Port > 65535:
		return errors.New("port must be a number from 1 to 65535")
	}
	return nil
}

// serverInfo returns the server's product and version, such as
// "MariaDB 10.11.14", and the TLS version of the connection, empty without
// TLS.
func serverInfo(ctx context.Context, conn *sql.Conn) (version, tlsVersion string, err error) {
	var raw string
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&raw); err != nil {
		return "", "", err
	}
	var name string
	err = conn.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_version'").Scan(&name, &tlsVersion)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", "", err
	}
	return productVersion(raw), tlsVersion, nil
}

// productVersion turns VERSION() output, such as "10.11.14-MariaDB-0+deb12u1"
// or "8.0.36", into "MariaDB 10.11.14" or "MySQL 8.0.36". MySQL builds and
// forks that do not name MariaDB are all called MySQL.
func productVersion(raw string) string {
	product := "MySQL"
	if strings.Contains(strings.ToLower(raw), "mariadb") {
		product = "MariaDB"
	}
	number := raw
	if i := strings.IndexFunc(raw, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		number = raw[:i]
	}
	if number == "" {
		return product + " " + raw
	}
	return product + " " + number
}

// ListTables returns the tables of the target's database, sorted.
//
// It includes views, as SHOW TABLES does. The timeout (DefaultTimeout when
// zero or negative) bounds the connect and the listing together. When the
// connection fails the error is an [*Error] whose Result gives the cause, as
// [Check] would.
func ListTables(ctx context.Context, t Target, timeout time.Duration) ([]string, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	mode, err := parseSSLMode(t.SSLMode)
	if err != nil {
		return nil, &Error{Result: invalidResult(fmt.Errorf("sslMode: %w", err))}
	}
	if err := t.validate(); err != nil {
		return nil, &Error{Result: invalidResult(err)}
	}
	conn, err := connect(ctx, t, mode, timeout)
	if err != nil {
		r := classify(ctx, t, mode, timeout, err)
		r.Name = t.Name
		return nil, &Error{Result: r}
	}
	defer conn.close()

	tables, err := showTables(ctx, conn.conn)
	if err != nil {
		return nil, fmt.Errorf("list tables of database %s: %s", t.databaseText(), t.redact(err.Error()))
	}
	slices.Sort(tables)
	return tables, nil
}

func showTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "SHOW TABLES")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		tables = append(tables, name)
	}
	return tables, rows.Err()
}

// Error is a failed connection, returned by [ListTables].
type Error struct {
	Result Result
}

func (e *Error) Error() string {
	if e.Result.Hint == "" {
		return e.Result.Detail
	}
	return e.Result.Detail + "; " + e.Result.Hint
}

// connection is one open connection with the pool that owns it.
type connection struct {
	db   *sql.DB
	conn *sql.Conn
}

func (c connection) close() {
	c.conn.Close()
	c.db.Close()
}

// connect opens one connection to t and logs in. The error is the driver's,
// for classify.
func connect(ctx context.Context, t Target, mode sslMode, timeout time.Duration) (connection, error) {
	cfg := mysql.NewConfig()
	cfg.User = t.User
	cfg.Passwd = t.Password.Reveal()
	cfg.Net = "tcp"
	cfg.Addr = hostPort(t.Host, t.port())
	cfg.DBName = t.Database
	cfg.Timeout = timeout
	cfg.TLS, cfg.AllowFallbackToPlaintext = tlsConfig(mode, t.Host, t.RootCAs)
	cfg.DialFunc = dialContext
	cfg.Logger = driverLogger{t: t}

	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return connection{}, err
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return connection{}, err
	}
	return connection{db: db, conn: conn}, nil
}

// driverLogger sends the driver's log lines to slog at debug level, with
// the target's secrets redacted.
type driverLogger struct{ t Target }

func (l driverLogger) Print(v ...any) {
	slog.Debug("verify: mysql driver", "name", l.t.Name, "message", l.t.redact(fmt.Sprint(v...)))
}
