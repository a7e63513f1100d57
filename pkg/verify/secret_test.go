package verify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

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
			timeout = 300 * time.Millisecond // the silent listener never answers
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
	target := Target{Host: "10.1.2.3", User: "ingest", Password: spec.NewSecret("DB_PASSWORD", "hunter2")}
	target.shown.host = "(sensitive: DB_HOST)"
	got := target.redact("Access denied for user 'ingest'@'10.1.2.3' (hunter2)")
	want := "Access denied for user 'ingest'@'(sensitive: DB_HOST)' ((sensitive: DB_PASSWORD))"
	if got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}
