package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/internal/dbtest"
	"github.com/apply-cli/apply/pkg/spec"
)

// basicManifest returns a MySQL manifest with basic auth for s.
func basicManifest(name string, s *dbtest.Server, user, password, db, sslMode string) *spec.Manifest {
	params := map[string]spec.Value{
		"server":   spec.PlainValue(s.Host),
		"port":     spec.PlainValue(strconv.Itoa(s.Port)),
		"database": spec.PlainValue(db),
		"username": spec.PlainValue(user),
		"password": spec.SensitiveValue(spec.NewSecret("MYSQL_PASSWORD", password)),
	}
	if sslMode != "" {
		params["sslMode"] = spec.PlainValue(sslMode)
	}
	return manifest(name, MySQLSpecID, params)
}

func TestRunFolderOfSources(t *testing.T) {
	refused := closedPort(t)
	_, refusedPort, _ := strings.Cut(refused, ":")
	unreachable := basicManifest("mysql-gone", plainServer, appUser, appPassword, database, "")
	unreachable.Auth.Params["port"] = spec.PlainValue(refusedPort)
	manifests := []*spec.Manifest{
		basicManifest("mysql-good", tlsServer, appUser, appPassword, database, "REQUIRED"),
		basicManifest("mysql-wrong-password", plainServer, appUser, "not-the-password", database, "PREFERRED"),
		basicManifest("mysql-unknown-db", plainServer, ghostUser, ghostPassword, missingDatabase, "DISABLED"),
		unreachable,
		basicManifest("mysql-needs-tls", secureServer, appUser, appPassword, database, "DISABLED"),
		manifest("postgres", "74a1c565-4e59-48d7-9d67-7c03b8a13137", map[string]spec.Value{}),
	}

	results := Run(context.Background(), manifests, Options{Parallelism: 2})

	var lines []string
	var outcomes []Outcome
	failures := 0
	for _, r := range results {
		lines = append(lines, FormatResult(r))
		outcomes = append(outcomes, r.Outcome)
		if r.Failed() {
			failures++
		}
	}
	wantLines := []string{
		fmt.Sprintf("mysql-good: reachable (%s, TLSv1.3)", serverVersion(t, tlsServer)),
		fmt.Sprintf(`mysql-wrong-password: authentication failed for user "app" on %s; check the username and password`, plainServer.Addr()),
		fmt.Sprintf(`mysql-unknown-db: unknown database "archive" on %s; check the database name, and create the database if it is missing`, plainServer.Addr()),
		fmt.Sprintf("mysql-gone: unreachable: connection to %s refused; check the port, and that the database server is running and accepts TCP connections on that address", refused),
		fmt.Sprintf(`mysql-needs-tls: TLS required by %s for user "app"; set sslMode to REQUIRED, Verify-Ca or Verify Identity ("true" on AWS)`, secureServer.Addr()),
		"postgres: skipped: connection spec 74a1c565-4e59-48d7-9d67-7c03b8a13137 is not MySQL or MariaDB",
	}
	if diff := cmp.Diff(wantLines, lines); diff != "" {
		t.Errorf("Run lines mismatch (-want +got):\n%s", diff)
	}
	wantOutcomes := []Outcome{Reachable, AuthFailed, UnknownDatabase, Unreachable, TLSRequired, Skipped}
	if diff := cmp.Diff(wantOutcomes, outcomes); diff != "" {
		t.Errorf("Run outcomes mismatch (-want +got):\n%s", diff)
	}
	if failures != 4 {
		t.Errorf("Run failures = %d, want 4", failures)
	}
}

// TestRunLoadedFolder loads the manifests in testdata/sources, with the
// servers' ports filled in, and checks the line printed for each source.
func TestRunLoadedFolder(t *testing.T) {
	refused := closedPort(t)
	_, closedPortText, _ := strings.Cut(refused, ":")
	ports := map[string]string{
		"PlainPort":  strconv.Itoa(plainServer.Port),
		"TLSPort":    strconv.Itoa(tlsServer.Port),
		"SecurePort": strconv.Itoa(secureServer.Port),
		"ClosedPort": closedPortText,
	}
	dir := t.TempDir()
	templates, err := filepath.Glob("testdata/sources/*.yaml")
	if err != nil || len(templates) == 0 {
		t.Fatalf("no manifests in testdata/sources (error %v)", err)
	}
	for _, path := range templates {
		tmpl := template.Must(template.ParseFiles(path))
		f, err := os.Create(filepath.Join(dir, filepath.Base(path)))
		if err != nil {
			t.Fatal(err)
		}
		if err := tmpl.Execute(f, ports); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	env := map[string]string{
		"APP_PASSWORD":            appPassword,
		"WRONG_PASSWORD":          "not-the-password",
		"GHOST_PASSWORD":          ghostPassword,
		"SPECIAL_PASSWORD_BRACED": escapeBraces(specialPassword),
	}
	loaded, err := spec.Load([]string{dir}, spec.LoadOptions{
		LookupEnv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
	})
	if err != nil {
		t.Fatalf("spec.Load: %v", err)
	}

	results := Run(context.Background(), loaded.Manifests, Options{Parallelism: 3})

	var lines []string
	for _, r := range results {
		lines = append(lines, FormatResult(r))
	}
	// Files load in name order.
	want := []string{
		fmt.Sprintf("mysql-good: reachable (%s, TLSv1.3)", serverVersion(t, tlsServer)),
		fmt.Sprintf(`mysql-needs-tls: TLS required by %s for user "app"; set sslMode to REQUIRED, Verify-Ca or Verify Identity ("true" on AWS)`, secureServer.Addr()),
		"postgresql-customers: skipped: connection spec 74a1c565-4e59-48d7-9d67-7c03b8a13137 is not MySQL or MariaDB",
		fmt.Sprintf("mariadb-special-password: reachable (%s, TLSv1.3)", serverVersion(t, tlsServer)),
		fmt.Sprintf(`mysql-unknown-database: unknown database "archive" on %s; check the database name, and create the database if it is missing`, plainServer.Addr()),
		fmt.Sprintf("mysql-unreachable: unreachable: connection to %s refused; check the port, and that the database server is running and accepts TCP connections on that address", refused),
		fmt.Sprintf(`mysql-wrong-password: authentication failed for user "app" on %s; check the username and password`, plainServer.Addr()),
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("Run lines mismatch (-want +got):\n%s", diff)
	}
}

func TestRunInvalidManifest(t *testing.T) {
	m := basicManifest("mysql-bad-port", plainServer, appUser, appPassword, database, "")
	m.Auth.Params["port"] = spec.PlainValue("http")
	m.Fields["auth.params.port"] = spec.Position{File: m.Pos.File, Line: 7, Col: 11}

	results := Run(context.Background(), []*spec.Manifest{m}, Options{})

	want := "mysql-bad-port: invalid auth params: connections/mysql-bad-port.yaml:7:11: auth.params.port: must be a number from 1 to 65535; fix the auth params"
	if len(results) != 1 {
		t.Fatalf("Run returned %d results, want 1", len(results))
	}
	if got := FormatResult(results[0]); got != want {
		t.Errorf("Run line = %q, want %q", got, want)
	}
	if !results[0].Failed() {
		t.Error("Failed() = false for an invalid manifest")
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	manifests := []*spec.Manifest{
		basicManifest("mysql-a", plainServer, appUser, appPassword, database, ""),
		basicManifest("mysql-b", plainServer, appUser, appPassword, database, ""),
	}
	for _, r := range Run(ctx, manifests, Options{Parallelism: 1}) {
		if got, want := FormatResult(r), r.Name+": check canceled; run the check again"; got != want {
			t.Errorf("Run line = %q, want %q", got, want)
		}
	}
}
