package dbtest

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Host is the address every server listens on.
const Host = "127.0.0.1"

// startTimeout bounds how long Start waits for a server to accept
// connections. A server usually starts in well under a second, and the
// margin is for a loaded CI machine.
const startTimeout = 60 * time.Second

// Options configures a server.
type Options struct {
	// TLS enables TLS with a certificate for 127.0.0.1 that [Server.RootCAs]
	// verifies. Accounts created with REQUIRE SSL then need TLS.
	TLS bool

	// RequireSecureTransport sets require_secure_transport=ON, so the server
	// rejects every TCP connection without TLS. It implies TLS.
	RequireSecureTransport bool
}

// Server is a running throwaway server. Its methods are safe for concurrent
// use, except Stop.
type Server struct {
	Host    string // always 127.0.0.1
	Port    int
	Version string // as SELECT VERSION() returns it, such as "10.11.14-MariaDB-0+deb12u1"

	// RootCAs verifies the server certificate, and CAPEM is the same CA in
	// PEM form. Both are nil when TLS is off.
	RootCAs *x509.CertPool
	CAPEM   []byte

	dir    string
	socket string
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	root   *sql.DB
}

// Start creates a data folder in a new temporary folder, starts a server on
// a free port of 127.0.0.1 and waits until it accepts connections. On error
// nothing is left running and the folder is removed. The error includes the
// end of the server's log when the server itself failed.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	// A short folder name keeps the socket path under the 108-byte limit
	// of unix socket addresses.
	dir, err := os.MkdirTemp("", "dbtest-")
	if err != nil {
		return nil, fmt.Errorf("start database server: %w", err)
	}
	s, err := start(ctx, bins, dir, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func start(ctx context.Context, bins binaries, dir string, opts Options) (*Server, error) {
	s := &Server{Host: Host, dir: dir, socket: filepath.Join(dir, "mysqld.sock")}
	var tlsArgs []string
	if opts.TLS || opts.RequireSecureTransport {
		files, err := writeCertificates(dir)
		if err != nil {
			return nil, fmt.Errorf("start database server: %w", err)
		}
		s.CAPEM = files.caPEM
		s.RootCAs = x509.NewCertPool()
		s.RootCAs.AppendCertsFromPEM(files.caPEM)
		tlsArgs = []string{"--ssl-ca=" + files.caCert, "--ssl-cert=" + files.serverCert, "--ssl-key=" + files.serverKey}
	}
	if opts.RequireSecureTransport {
		tlsArgs = append(tlsArgs, "--require-secure-transport=ON")
	}

	if err := installDataDir(ctx, bins.install, dir); err != nil {
		return nil, err
	}

	// Another process can take the free port between the check and the
	// server's bind, so a bind failure is retried on a new port.
	var err error
	for range 3 {
		err = s.launch(ctx, bins.server, tlsArgs)
		if err == nil || !errors.Is(err, errPortInUse) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.queryVersion(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// commonArgs are passed to both the install step and the server. They keep
// the data folder small and give each server its own temporary folder,
// because servers sharing one can pick the same temporary table file name.
func commonArgs(dir string) []string {
	args := []string{
		"--no-defaults", // must come first: ignore /etc/mysql and ~/.my.cnf
		"--datadir=" + filepath.Join(dir, "data"),
		"--tmpdir=" + dir,
		"--innodb-log-file-size=8M",
		"--innodb-buffer-pool-size=32M",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	return args
}

// installDataDir creates the data folder and its system tables. Host name
// lookups are skipped, so that the step sends no DNS query.
func installDataDir(ctx context.Context, installer, dir string) error {
	args := append(commonArgs(dir),
		"--auth-root-authentication-method=normal", // root@localhost without a password
		"--skip-test-db",
		"--skip-name-resolve",
		"--force", // skips the resolveip check of the host name
	)
	cmd := exec.CommandContext(ctx, installer, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// The installer prints the cause first, then generic advice.
		return fmt.Errorf("initialise data folder with %s: %v\n%s", installer, err, head(out, 8))
	}
	return nil
}

// errPortInUse is returned by launch when the server could not bind its port.
var errPortInUse = errors.New("port already in use")

// launch starts the server on a free port and waits until it accepts
// connections over its socket.
func (s *Server) launch(ctx context.Context, server string, tlsArgs []string) error {
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("start database server: %w", err)
	}
	logPath := filepath.Join(s.dir, "server.log")
	args := append(commonArgs(s.dir),
		"--bind-address="+Host,
		"--port="+strconv.Itoa(port),
		"--socket="+s.socket,
		"--pid-file="+filepath.Join(s.dir, "mysqld.pid"),
		"--log-error="+logPath,
		"--skip-name-resolve",
		"--skip-log-bin",
		"--innodb-flush-log-at-trx-commit=0", // durability is of no use to a throwaway server
	)
	args = append(args, tlsArgs...)
	cmd := exec.Command(server, args...)
	cmd.SysProcAttr = serverProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", server, err)
	}
	s.cmd, s.Port, s.exited = cmd, port, make(chan struct{})
	go func(exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(s.exited)

	if err := s.waitReady(ctx); err != nil {
		s.root.Close()
		s.kill()
		log, _ := os.ReadFile(logPath)
		if bytes.Contains(log, []byte("Address already in use")) {
			return fmt.Errorf("start %s on port %d: %w", server, port, errPortInUse)
		}
		return fmt.Errorf("start %s: %v\nend of %s:\n%s", server, err, logPath, tail(log, 20))
	}
	return nil
}

// waitReady polls the server's socket until root can run a query, the
// server exits, or startTimeout passes.
func (s *Server) waitReady(ctx context.Context) error {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = s.socket
	cfg.Logger = &mysql.NopLogger{} // refused connections while starting are expected
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	s.root = sql.OpenDB(connector)

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pingErr := s.root.PingContext(ctx)
		if pingErr == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server exited before accepting connections (last error: %v)", pingErr)
		case <-ctx.Done():
			return fmt.Errorf("server not ready after %v: %v", startTimeout, pingErr)
		case <-tick.C:
		}
	}
}

func (s *Server) queryVersion(ctx context.Context) error {
	if err := s.root.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.Version); err != nil {
		return fmt.Errorf("query server version: %w", err)
	}
	return nil
}

// Addr returns the server's TCP address, host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// Exec runs each statement in order as root, stopping at the first error.
func (s *Server) Exec(ctx context.Context, statements ...string) error {
	for _, stmt := range statements {
		if _, err := s.root.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("exec %q: %w", stmt, err)
		}
	}
	return nil
}

// Stop kills the server and removes its folder. The data is thrown away, so
// there is no clean shutdown. Stop returns the error from removing the folder.
func (s *Server) Stop() error {
	if s.root != nil {
		s.root.Close()
	}
	s.kill()
	return os.RemoveAll(s.dir)
}

func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// head returns the first n lines of out.
func head(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
