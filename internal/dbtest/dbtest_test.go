package dbtest

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestStartExecStop(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.dir
	t.Cleanup(func() { s.Stop() })

	if s.Version == "" {
		t.Errorf("Version = %q, want a server version", s.Version)
	}
	err = s.Exec(ctx,
		"CREATE DATABASE shop",
		"CREATE USER 'plain'@'%' IDENTIFIED BY 'plain-pw'",
		"GRANT ALL ON shop.* TO 'plain'@'%'",
		"CREATE USER 'secure'@'%' IDENTIFIED BY 'secure-pw' REQUIRE SSL",
		"GRANT ALL ON shop.* TO 'secure'@'%'",
	)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("password login over TCP", func(t *testing.T) {
		if err := ping(ctx, s, "plain", "plain-pw", nil); err != nil {
			t.Errorf("ping as plain: %v", err)
		}
	})
	t.Run("wrong password rejected", func(t *testing.T) {
		err := ping(ctx, s, "plain", "wrong", nil)
		var myErr *mysql.MySQLError
		if !errors.As(err, &myErr) || myErr.Number != 1045 {
			t.Errorf("ping with wrong password: error %v, want MySQL error 1045", err)
		}
	})
	t.Run("REQUIRE SSL user needs TLS", func(t *testing.T) {
		if err := ping(ctx, s, "secure", "secure-pw", nil); err == nil {
			t.Error("ping as secure without TLS succeeded, want access denied")
		}
		tlsConfig := &tls.Config{RootCAs: s.RootCAs, ServerName: Host}
		if err := ping(ctx, s, "secure", "secure-pw", tlsConfig); err != nil {
			t.Errorf("ping as secure with a verified TLS connection: %v", err)
		}
	})

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Stop, stat %s: %v, want not exist", dir, err)
	}
	if err := ping(ctx, s, "plain", "plain-pw", nil); err == nil {
		t.Error("ping after Stop succeeded, want an error")
	}
}

func TestRequireSecureTransport(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Options{RequireSecureTransport: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	err = s.Exec(ctx,
		"CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'",
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(ctx, s, "app", "app-pw", nil); err == nil {
		t.Error("ping without TLS succeeded, want it rejected")
	}
	if err := ping(ctx, s, "app", "app-pw", &tls.Config{RootCAs: s.RootCAs, ServerName: Host}); err != nil {
		t.Errorf("ping with TLS: %v", err)
	}
}

func TestStartWithoutServerBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := extraDirs
	extraDirs = []string{t.TempDir()}
	t.Cleanup(func() { extraDirs = saved })

	_, err := Start(context.Background(), Options{})
	if !errors.Is(err, errNotInstalled) {
		t.Fatalf("Start without binaries: error %v, want errNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "mariadb-server") {
		t.Errorf("Start error %q does not name the mariadb-server package", err)
	}
}

func ping(ctx context.Context, s *Server, user, password string, tlsConfig *tls.Config) error {
	cfg := mysql.NewConfig()
	cfg.User = user
	cfg.Passwd = password
	cfg.Net = "tcp"
	cfg.Addr = s.Addr()
	cfg.TLS = tlsConfig
	cfg.Logger = &mysql.NopLogger{}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	return db.PingContext(ctx)
}
