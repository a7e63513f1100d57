package emulator_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogsNeverShowSecrets(t *testing.T) {
	var out syncBuffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, srv := start(t, emulator.Options{Logger: logger, Token: testToken})

	token := do(t, srv, "POST", emulator.TokenPath, formHeaders(), tokenForm("client", canary)).object(t)["access_token"].(string)
	res := do(t, srv, "POST", base+"/connections", nil, mysqlBody("orders"))
	id := res.object(t)["id"].(string)
	getItem(t, srv, id)
	bad := mysqlBody("orders")
	bad["auth"].(map[string]any)["params"].(map[string]any)["sslMode"] = canary
	do(t, srv, "POST", base+"/connections", nil, bad)
	h := apiHeaders()
	h.Set("Authorization", "Bearer wrong-"+canary)
	do(t, srv, "GET", base+"/connections", h, nil)

	logs := out.String()
	for _, secret := range []string{canary, testToken, token} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain a secret or token %q:\n%s", secret, logs)
		}
	}
	if got := strings.Count(logs, "msg=request "); got != 5 {
		t.Errorf("%d request lines, want 5:\n%s", got, logs)
	}
	for _, want := range []string{"request_id=", "status=201", "code=1100-400", "error_code=401013", "method=POST", "path=" + base + "/connections"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}
