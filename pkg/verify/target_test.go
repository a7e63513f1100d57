package verify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/spec"
)

// targetFields are the comparable fields of a Target.
type targetFields struct {
	Host, Database, User, Password, SSLMode string
	Port                                    int
}

func fieldsOf(t Target) targetFields {
	return targetFields{
		Host:     t.Host,
		Port:     t.Port,
		Database: t.Database,
		User:     t.User,
		Password: t.Password.Reveal(),
		SSLMode:  t.SSLMode,
	}
}

func TestTargetFromParams(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   targetFields
	}{
		{
			name: "basic auth",
			params: map[string]string{
				"server": "db.example.com", "port": "3307", "database": "shop",
				"username": "ingest", "password": "pw", "sslMode": "Verify Identity",
			},
			want: targetFields{Host: "db.example.com", Port: 3307, Database: "shop", User: "ingest", Password: "pw", SSLMode: "Verify Identity"},
		},
		{
			name: "basic auth defaults",
			params: map[string]string{
				"server": "db.example.com", "database": "shop", "username": "ingest", "password": "pw",
			},
			want: targetFields{Host: "db.example.com", Port: 3306, Database: "shop", User: "ingest", Password: "pw"},
		},
		{
			name: "connection string as documented",
			params: map[string]string{
				"connectionString": "Server=db.example.com;Port=3306;Database=shop;UID=ingest;PWD=pw",
			},
			want: targetFields{Host: "db.example.com", Port: 3306, Database: "shop", User: "ingest", Password: "pw"},
		},
		{
			name: "connection string with spaces, mixed case and SslMode",
			params: map[string]string{
				"connectionString": "Server=db.example.com; Port=3310; Database=shop; Uid=ingest; Pwd=pw; SslMode=Preferred;",
			},
			want: targetFields{Host: "db.example.com", Port: 3310, Database: "shop", User: "ingest", Password: "pw", SSLMode: "Preferred"},
		},
		{
			name: "connection string braced password",
			params: map[string]string{
				"connectionString": "SERVER=db;PORT=3306;DATABASE=shop;UID=ingest;PWD={a;b=c$d{e}}f};",
			},
			want: targetFields{Host: "db", Port: 3306, Database: "shop", User: "ingest", Password: "a;b=c$d{e}f"},
		},
		{
			name: "connection string without port",
			params: map[string]string{
				"connectionString": "Server=db;Database=shop;UID=ingest;PWD=pw",
			},
			want: targetFields{Host: "db", Port: 3306, Database: "shop", User: "ingest", Password: "pw"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TargetFromParams("Basic Authentication", tt.params)
			if err != nil {
				t.Fatalf("TargetFromParams: %v", err)
			}
			if diff := cmp.Diff(tt.want, fieldsOf(got)); diff != "" {
				t.Errorf("TargetFromParams mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTargetFromParamsErrors(t *testing.T) {
	const password = "Canary-Pw-7f3a"
	basic := func(changes map[string]string) map[string]string {
		params := map[string]string{
			"server": "db", "database": "shop", "username": "ingest", "password": password,
		}
		for k, v := range changes {
			params[k] = v
		}
		return params
	}
	connString := func(s string) map[string]string {
		return map[string]string{"connectionString": s}
	}
	tests := []struct {
		name    string
		params  map[string]string
		wantErr string
	}{
		{"basic missing server", basic(map[string]string{"server": ""}), `server: missing (auth spec "Basic Authentication")`},
		{"basic missing username", basic(map[string]string{"username": " "}), `username: missing (auth spec "Basic Authentication")`},
		{"basic port not a number", basic(map[string]string{"port": "33o6"}), `port: must be a number from 1 to 65535 (auth spec "Basic Authentication")`},
		{"basic port out of range", basic(map[string]string{"port": "70000"}), `port: must be a number from 1 to 65535 (auth spec "Basic Authentication")`},
		{"basic unknown sslMode", basic(map[string]string{"sslMode": "STRICT"}), `sslMode: must be DISABLED, PREFERRED, REQUIRED, Verify-Ca or Verify Identity, or "true" or "false" (auth spec "Basic Authentication")`},
		{"string missing UID", connString("Server=db;Port=3306;Database=shop;PWD=" + password), `connectionString: missing key UID (auth spec "Basic Authentication")`},
		{"string bad port", connString("Server=db;Port=" + password + ";Database=shop;UID=u;PWD=x"), `connectionString: key Port: must be a number from 1 to 65535 (auth spec "Basic Authentication")`},
		{"string unclosed brace", connString("Server=db;Database=shop;UID=u;PWD={" + password), `connectionString: invalid connection string: unclosed "{" in a value at offset 34 (auth spec "Basic Authentication")`},
		{"string text after brace", connString("Server=db;Database=shop;UID=u;PWD={" + password + "}x"), `connectionString: invalid connection string: unexpected text after the closing "}" of a value at offset 50 (auth spec "Basic Authentication")`},
		{"string entry without equals", connString("Server=db;" + password + ";Database=shop"), `connectionString: invalid connection string: missing "=" after a key at offset 10 (auth spec "Basic Authentication")`},
		{"string duplicate key", connString("Server=db;server=other;Database=shop;UID=u;PWD=" + password), `connectionString: invalid connection string: duplicate key (keys are case-insensitive) at offset 10 (auth spec "Basic Authentication")`},
		{"string bad SslMode", connString("Server=db;Database=shop;UID=u;PWD=x;SslMode=" + password), `connectionString: key SslMode: must be DISABLED, PREFERRED, REQUIRED, Verify-Ca or Verify Identity, or "true" or "false" (auth spec "Basic Authentication")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TargetFromParams("Basic Authentication", tt.params)
			if err == nil {
				t.Fatal("TargetFromParams succeeded, want an error")
			}
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Errorf("TargetFromParams error type %T, want *ParamError", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("TargetFromParams error = %q, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("TargetFromParams error %q contains the password", err)
			}
		})
	}
}

// TestConnStringValues pins the connection string rules this package
// relies on, as spec.ParseConnectionString implements them.
func TestConnStringValues(t *testing.T) {
	tests := []struct {
		in        string
		key, want string
	}{
		{" A = 1 ; b=2 ;", "B", "2"},
		{"PWD={}", "pwd", ""},
		{"PWD={;}", "PWD", ";"},
		{"PWD={}}}", "PWD", "}"},
		{"PWD={a}}b};X=1", "PWD", "a}b"},
		{"PWD= {a=b} ;X=1", "PWD", "a=b"},
		{"PWD=a=b", "PWD", "a=b"},
		{"PWD=a{b}", "PWD", "a{b}"},
		{"Pwd=$x", "PWD", "$x"},
	}
	for _, tt := range tests {
		cs, err := spec.ParseConnectionString(tt.in)
		if err != nil {
			t.Errorf("ParseConnectionString(%q): %v", tt.in, err)
			continue
		}
		if got, ok := cs.Get(tt.key); !ok || got != tt.want {
			t.Errorf("ParseConnectionString(%q).Get(%q) = %q, %v, want %q", tt.in, tt.key, got, ok, tt.want)
		}
	}
}

func TestParseSSLMode(t *testing.T) {
	tests := []struct {
		in   string
		want sslMode
	}{
		{"", sslPreferred},
		{"DISABLED", sslDisabled},
		{"false", sslDisabled},
		{"None", sslDisabled},
		{"PREFERRED", sslPreferred},
		{"Preferred", sslPreferred},
		{"REQUIRED", sslRequired},
		{"true", sslRequired},
		{"Verify-Ca", sslVerifyCA},
		{"VERIFY_CA", sslVerifyCA},
		{"VerifyCA", sslVerifyCA},
		{"Verify Identity", sslVerifyIdentity},
		{"VERIFY_IDENTITY", sslVerifyIdentity},
		{"VerifyFull", sslVerifyIdentity},
	}
	for _, tt := range tests {
		got, err := parseSSLMode(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseSSLMode(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"yes", "1", "Verify", "PREFER"} {
		if _, err := parseSSLMode(in); err == nil {
			t.Errorf("parseSSLMode(%q) succeeded, want an error", in)
		}
	}
}

func TestTLSConfigMapping(t *testing.T) {
	tests := []struct {
		mode            sslMode
		wantTLS         bool
		wantFallback    bool
		wantSkipVerify  bool
		wantServerName  string
		wantVerifyChain bool
	}{
		{mode: sslDisabled},
		{mode: sslPreferred, wantTLS: true, wantFallback: true, wantSkipVerify: true},
		{mode: sslRequired, wantTLS: true, wantSkipVerify: true},
		{mode: sslVerifyCA, wantTLS: true, wantSkipVerify: true, wantVerifyChain: true},
		{mode: sslVerifyIdentity, wantTLS: true, wantServerName: "db.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			cfg, fallback := tlsConfig(tt.mode, "db.example.com", nil)
			if (cfg != nil) != tt.wantTLS {
				t.Fatalf("tlsConfig TLS on = %v, want %v", cfg != nil, tt.wantTLS)
			}
			if fallback != tt.wantFallback {
				t.Errorf("tlsConfig fallback = %v, want %v", fallback, tt.wantFallback)
			}
			if cfg == nil {
				return
			}
			if cfg.InsecureSkipVerify != tt.wantSkipVerify {
				t.Errorf("InsecureSkipVerify = %v, want %v", cfg.InsecureSkipVerify, tt.wantSkipVerify)
			}
			if cfg.ServerName != tt.wantServerName {
				t.Errorf("ServerName = %q, want %q", cfg.ServerName, tt.wantServerName)
			}
			if (cfg.VerifyConnection != nil) != tt.wantVerifyChain {
				t.Errorf("VerifyConnection set = %v, want %v", cfg.VerifyConnection != nil, tt.wantVerifyChain)
			}
		})
	}
}

func TestProductVersion(t *testing.T) {
	tests := map[string]string{
		"10.11.14-MariaDB-0+deb12u1": "MariaDB 10.11.14",
		"11.4.2-MariaDB":             "MariaDB 11.4.2",
		"8.0.36":                     "MySQL 8.0.36",
		"8.0.36-0ubuntu0.22.04.1":    "MySQL 8.0.36",
		"5.7.44-log":                 "MySQL 5.7.44",
		"custom":                     "MySQL custom",
	}
	for in, want := range tests {
		if got := productVersion(in); got != want {
			t.Errorf("productVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func manifest(name, specID string, params map[string]spec.Value) *spec.Manifest {
	authSpec := "Basic Authentication"
	if _, ok := params["connectionString"]; ok {
		authSpec = "Connection String Based Authentication"
	}
	return &spec.Manifest{
		Pos:            spec.Position{File: "connections/" + name + ".yaml", Line: 1, Col: 1},
		Kind:           "Connection",
		Name:           name,
		ConnectionSpec: spec.SpecRef{ID: specID, Version: "1.0"},
		Auth:           spec.Auth{SpecName: authSpec, Params: params},
		AuthChecked:    true,
		Fields:         map[string]spec.Position{},
	}
}

func TestTargetFromManifest(t *testing.T) {
	t.Run("MySQL basic auth", func(t *testing.T) {
		m := manifest("mysql-orders", MySQLSpecID, map[string]spec.Value{
			"server":   spec.PlainValue("db.example.com"),
			"port":     spec.PlainValue("3307"),
			"database": spec.PlainValue("orders"),
			"username": spec.PlainValue("ingest"),
			"password": spec.SensitiveValue(spec.NewSecret("MYSQL_PASSWORD", "pw")),
			"sslMode":  spec.PlainValue("REQUIRED"),
		})
		got, ok, err := TargetFromManifest(m)
		if err != nil || !ok {
			t.Fatalf("TargetFromManifest = ok %v, error %v, want ok and no error", ok, err)
		}
		want := targetFields{Host: "db.example.com", Port: 3307, Database: "orders", User: "ingest", Password: "pw", SSLMode: "REQUIRED"}
		if diff := cmp.Diff(want, fieldsOf(got)); diff != "" {
			t.Errorf("TargetFromManifest mismatch (-want +got):\n%s", diff)
		}
		if got.Name != "mysql-orders" {
			t.Errorf("Name = %q, want %q", got.Name, "mysql-orders")
		}
	})

	t.Run("MariaDB connection string", func(t *testing.T) {
		m := manifest("mariadb-orders", MariaDBSpecID, map[string]spec.Value{
			"connectionString": spec.SensitiveValue(spec.NewSecret("connectionString", "Server=db;Port=3306;Database=orders;UID=ingest;PWD={p;w}")),
		})
		got, ok, err := TargetFromManifest(m)
		if err != nil || !ok {
			t.Fatalf("TargetFromManifest = ok %v, error %v, want ok and no error", ok, err)
		}
		want := targetFields{Host: "db", Port: 3306, Database: "orders", User: "ingest", Password: "p;w"}
		if diff := cmp.Diff(want, fieldsOf(got)); diff != "" {
			t.Errorf("TargetFromManifest mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("other source", func(t *testing.T) {
		m := manifest("pg", "74a1c565-4e59-48d7-9d67-7c03b8a13137", map[string]spec.Value{})
		_, ok, err := TargetFromManifest(m)
		if ok || err != nil {
			t.Errorf("TargetFromManifest(PostgreSQL) = ok %v, error %v, want not ok and no error", ok, err)
		}
	})

	t.Run("unset variable", func(t *testing.T) {
		m := manifest("mysql-orders", MySQLSpecID, map[string]spec.Value{
			"server":   spec.PlainValue("db"),
			"database": spec.PlainValue("orders"),
			"username": spec.PlainValue("ingest"),
			"password": spec.UnresolvedValue("MYSQL_PASSWORD"),
		})
		m.Fields["auth.params.password"] = spec.Position{File: m.Pos.File, Line: 9, Col: 15}
		_, ok, err := TargetFromManifest(m)
		if !ok {
			t.Error("TargetFromManifest ok = false for a MySQL manifest")
		}
		want := "connections/mysql-orders.yaml:9:15: auth.params.password: variable MYSQL_PASSWORD is not set"
		if err == nil || err.Error() != want {
			t.Errorf("TargetFromManifest error = %v, want %q", err, want)
		}
	})

	t.Run("bad port without position", func(t *testing.T) {
		m := manifest("mysql-orders", MySQLSpecID, map[string]spec.Value{
			"server":   spec.PlainValue("db"),
			"port":     spec.PlainValue("none"),
			"database": spec.PlainValue("orders"),
			"username": spec.PlainValue("ingest"),
			"password": spec.SensitiveValue(spec.NewSecret("", "pw")),
		})
		_, _, err := TargetFromManifest(m)
		var specErr *spec.Error
		if !errors.As(err, &specErr) {
			t.Fatalf("TargetFromManifest error %v (%T), want *spec.Error", err, err)
		}
		want := "connections/mysql-orders.yaml:1:1: auth.params.port: must be a number from 1 to 65535"
		if err.Error() != want {
			t.Errorf("TargetFromManifest error = %q, want %q", err, want)
		}
	})
}

// TestSensitiveParamsShownRedacted checks that basic-auth params whose
// values come from variables appear in lines by their redaction markers.
func TestSensitiveParamsShownRedacted(t *testing.T) {
	refusedPort := closedPort(t)
	_, closed, _ := strings.Cut(refusedPort, ":")
	plainPort := strconv.Itoa(plainServer.Port)
	const refusedHint = "check the port, and that the database server is running and accepts TCP connections on that address"
	const authHint = "check the username and password"

	tests := []struct {
		name     string
		params   map[string]spec.Value // changes to the literal params
		wantLine string
	}{
		{
			name:     "server",
			params:   map[string]spec.Value{"server": spec.SensitiveValue(spec.NewSecret("DB_HOST", "127.0.0.1"))},
			wantLine: "mysql-env: unreachable: connection to (sensitive: DB_HOST):" + closed + " refused; " + refusedHint,
		},
		{
			name:     "port",
			params:   map[string]spec.Value{"port": spec.SensitiveValue(spec.NewSecret("DB_PORT", closed))},
			wantLine: "mysql-env: unreachable: connection to 127.0.0.1:(sensitive: DB_PORT) refused; " + refusedHint,
		},
		{
			name: "server and port",
			params: map[string]spec.Value{
				"server": spec.SensitiveValue(spec.NewSecret("DB_HOST", "127.0.0.1")),
				"port":   spec.SensitiveValue(spec.NewSecret("DB_PORT", closed)),
			},
			wantLine: "mysql-env: unreachable: connection to (sensitive: DB_HOST):(sensitive: DB_PORT) refused; " + refusedHint,
		},
		{
			name: "port at the server",
			params: map[string]spec.Value{
				"port":     spec.SensitiveValue(spec.NewSecret("DB_PORT", plainPort)),
				"password": spec.SensitiveValue(spec.NewSecret("DB_PASSWORD", "wrong")),
			},
			wantLine: `mysql-env: authentication failed for user "app" on 127.0.0.1:(sensitive: DB_PORT); ` + authHint,
		},
		{
			name: "server, user and database at the server",
			params: map[string]spec.Value{
				"server":   spec.SensitiveValue(spec.NewSecret("DB_HOST", "127.0.0.1")),
				"port":     spec.PlainValue(plainPort),
				"database": spec.SensitiveValue(spec.NewSecret("DB_NAME", "shop")),
				"username": spec.SensitiveValue(spec.NewSecret("DB_USER", "app")),
				"password": spec.SensitiveValue(spec.NewSecret("DB_PASSWORD", "wrong")),
			},
			wantLine: "mysql-env: authentication failed for user (sensitive: DB_USER) on (sensitive: DB_HOST):" + plainPort + "; " + authHint,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := map[string]spec.Value{
				"server":   spec.PlainValue("127.0.0.1"),
				"port":     spec.PlainValue(closed),
				"database": spec.PlainValue("shop"),
				"username": spec.PlainValue("app"),
				"password": spec.SensitiveValue(spec.NewSecret("DB_PASSWORD", "pw")),
			}
			maps.Copy(params, tt.params)
			target, _, err := TargetFromManifest(manifest("mysql-env", MySQLSpecID, params))
			if err != nil {
				t.Fatal(err)
			}
			got := FormatResult(Check(context.Background(), target, 0))
			if got != tt.wantLine {
				t.Errorf("Check line mismatch:\n got %s\nwant %s", got, tt.wantLine)
			}
		})
	}
}

// TestSensitiveSSLModeLogged checks that the debug log shows an sslMode
// from a variable by its marker.
func TestSensitiveSSLModeLogged(t *testing.T) {
	var logs bytes.Buffer
	saved := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(saved) })

	m := basicManifest("mysql-env", plainServer, appUser, appPassword, database, "")
	m.Auth.Params["sslMode"] = spec.SensitiveValue(spec.NewSecret("DB_SSL_MODE", "dIsAbLeD"))
	target, _, err := TargetFromManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	Check(context.Background(), target, 0)

	if !strings.Contains(logs.String(), `sslMode="(sensitive: DB_SSL_MODE)"`) {
		t.Errorf("debug log does not show the sslMode marker:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "dIsAbLeD") {
		t.Errorf("debug log shows the sslMode value:\n%s", logs.String())
	}
}
