package verify

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/apply-cli/apply/internal/dbtest"
)

// Servers started once for the whole test binary.
var (
	plainServer  *dbtest.Server // no TLS at all
	tlsServer    *dbtest.Server // TLS on, one account created with REQUIRE SSL
	secureServer *dbtest.Server // require_secure_transport=ON
)

// Accounts on every server. specialPassword contains the characters that
// connection strings and shells treat specially.
const (
	appUser         = "app"
	appPassword     = "app-pw"
	specialUser     = "special"
	specialPassword = "s3;cr$t{x}}y"
	secureUser      = "secure" // REQUIRE SSL, on tlsServer
	securePassword  = "secure-pw"
	ghostUser       = "ghost" // granted a database that does not exist
	ghostPassword   = "ghost-pw"
	database        = "shop"
	missingDatabase = "archive"
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx := context.Background()
	var g errgroup.Group
	start := func(dst **dbtest.Server, opts dbtest.Options) {
		g.Go(func() error {
			s, err := dbtest.Start(ctx, opts)
			*dst = s
			return err
		})
	}
	start(&plainServer, dbtest.Options{})
	start(&tlsServer, dbtest.Options{TLS: true})
	start(&secureServer, dbtest.Options{RequireSecureTransport: true})
	err := g.Wait()
	for _, s := range []*dbtest.Server{plainServer, tlsServer, secureServer} {
		if s != nil {
			defer s.Stop()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify tests need a MariaDB server:", err)
		return 1
	}

	for _, s := range []*dbtest.Server{plainServer, tlsServer, secureServer} {
		if err := createAccounts(ctx, s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	err = tlsServer.Exec(ctx,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s' REQUIRE SSL", secureUser, securePassword),
		fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%%'", database, secureUser),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	dns, err := startNXDomainServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer dns.Close()
	resolver = &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", dns.LocalAddr().String())
		},
	}

	return m.Run()
}

func createAccounts(ctx context.Context, s *dbtest.Server) error {
	return s.Exec(ctx,
		"CREATE DATABASE "+database,
		"CREATE TABLE "+database+".orders (id INT PRIMARY KEY)",
		"CREATE TABLE "+database+".customers (id INT PRIMARY KEY)",
		"CREATE VIEW "+database+".big_orders AS SELECT id FROM "+database+".orders WHERE id > 100",
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", appUser, appPassword),
		fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%%'", database, appUser),
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", specialUser, specialPassword),
		fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%%'", database, specialUser),
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", ghostUser, ghostPassword),
		fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%%'", missingDatabase, ghostUser),
	)
}

// createUser creates user with password on each of servers, grants it the
// shop database, and drops it when t ends. It drops an account of the same
// name first, because the servers live for the whole test binary and a test
// repeated with -count would find its own account from the run before.
// options follows IDENTIFIED BY, such as "REQUIRE SSL".
func createUser(t *testing.T, user, password, options string, servers ...*dbtest.Server) {
	t.Helper()
	ctx := context.Background()
	account := fmt.Sprintf("'%s'@'%%'", user)
	for _, s := range servers {
		t.Cleanup(func() {
			if err := s.Exec(ctx, "DROP USER IF EXISTS "+account); err != nil {
				t.Errorf("drop test account: %v", err)
			}
		})
		err := s.Exec(ctx,
			"DROP USER IF EXISTS "+account,
			strings.TrimSpace(fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s' %s", account, password, options)),
			fmt.Sprintf("GRANT ALL ON %s.* TO %s", database, account),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// createDatabase creates the empty database name on each of servers and
// drops it when t ends. Like createUser, it drops a database of the same
// name first.
func createDatabase(t *testing.T, name string, servers ...*dbtest.Server) {
	t.Helper()
	ctx := context.Background()
	for _, s := range servers {
		t.Cleanup(func() {
			if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
				t.Errorf("drop test database: %v", err)
			}
		})
		if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+name, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
	}
}

// startNXDomainServer starts a DNS server on a loopback UDP port that
// responds to every query with NXDOMAIN (name does not exist), so that tests
// exercise a real failed lookup without sending a query off the machine.
func startNXDomainServer() (net.PacketConn, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start DNS server: %w", err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			if reply := nxdomainReply(buf[:n]); reply != nil {
				pc.WriteTo(reply, addr)
			}
		}
	}()
	return pc, nil
}

// nxdomainReply builds the NXDOMAIN response to query (RFC 1035 section
// 4.1): the query's id and question, the QR, RD and RA flags, RCODE 3 and
// no records. It returns nil for a packet too short to be a query.
func nxdomainReply(query []byte) []byte {
	const headerLen = 12
	if len(query) < headerLen {
		return nil
	}
	// The question runs from the header to the end of the name (a zero
	// length byte) plus 4 bytes of type and class.
	end := headerLen
	for end < len(query) && query[end] != 0 {
		end += int(query[end]) + 1
	}
	end += 1 + 4
	if end > len(query) {
		return nil
	}
	reply := make([]byte, end)
	copy(reply, query[:end])
	reply[2] = 0x80 | query[2]&0x01 // QR, opcode 0, RD copied
	reply[3] = 0x80 | 3             // RA, RCODE 3 (NXDOMAIN)
	reply[4], reply[5] = 0, 1       // one question
	clear(reply[6:headerLen])       // no answer, authority or additional records
	return reply
}

// serverVersion returns the product and version that a reachable line
// shows for s, such as "MariaDB 10.11.14".
func serverVersion(t *testing.T, s *dbtest.Server) string {
	t.Helper()
	number, _, _ := strings.Cut(s.Version, "-")
	if !strings.Contains(s.Version, "MariaDB") {
		t.Fatalf("server version %q does not name MariaDB", s.Version)
	}
	return "MariaDB " + number
}

// TestCreateUserRepeatable checks that createUser replaces an account that
// an earlier call left, as a test repeated with -count finds it.
func TestCreateUserRepeatable(t *testing.T) {
	createUser(t, "repeat", "first-pw", "", plainServer)
	createUser(t, "repeat", "second-pw", "", plainServer)

	target := serverTarget(plainServer, "repeat", "second-pw", "DISABLED")
	if got := Check(context.Background(), target, 0); got.Outcome != Reachable {
		t.Errorf("Check with the second password = %q (%s), want %q", got.Outcome, got.Detail, Reachable)
	}
}
