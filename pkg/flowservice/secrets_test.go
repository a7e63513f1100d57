package flowservice_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// Canaries planted in every place that contains a credential. None may show
// up in a log line or an error message.
const (
	canaryPassword     = "CANARY-password-5d1e9a"
	canaryToken        = "CANARY-token-77c2b0"
	canaryAPIKey       = "CANARY-apikey-3f8e41"
	canaryClientSecret = "CANARY-clientsecret-a90c6d"
)

var canaries = []string{canaryPassword, canaryToken, canaryAPIKey, canaryClientSecret}

// echoServer responds to every call with an error that echoes the request:
// its body and its headers, as a careless server might.
func echoServer(t *testing.T, status int) *fakeServer {
	return newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body, _ := io.ReadAll(r.Body)
		detail := fmt.Sprintf("rejected %s with %s and key %s", body,
			r.Header.Get("Authorization"), r.Header.Get("x-api-key"))
		msg := fmt.Sprintf(`{"type":"https://ns.adobe.com/aep/errors/FLOW-1455-400","title":%q,"report":{"detailed-message":%q}}`,
			detail, detail)
		writeJSON(w, status, []byte(msg))
	})
}

func TestNoSecretInLogsOrErrors(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"access_token":"`+canaryToken+`","token_type":"bearer","expires_in":86399}`))
	})
	imsConfig := flowservice.IMSConfig{
		BaseURL:      ims.URL,
		ClientID:     canaryAPIKey,
		ClientSecret: canaryClientSecret,
		Logger:       logger,
	}
	ts, err := flowservice.NewIMSTokenSource(imsConfig)
	if err != nil {
		t.Fatal(err)
	}

	var texts []string
	for _, status := range []int{http.StatusBadRequest, http.StatusServiceUnavailable, http.StatusUnauthorized} {
		api := echoServer(t, status)
		c := newClient(t, api.URL, func(cfg *flowservice.Config) {
			cfg.APIKey = canaryAPIKey
			cfg.Token = ts
			cfg.Logger = logger
			cfg.MaxRetries = 1
		})
		ctx := context.Background()
		in := mysqlInput
		in.Params = map[string]string{"password": canaryPassword, "server": "db.example"}
		_, err := c.CreateConnection(ctx, in)
		texts = append(texts, fmt.Sprint(err))
		ops := []flowservice.PatchOp{{Op: "replace", Path: "/auth/params", Value: map[string]string{"password": canaryPassword}}}
		_, err = c.PatchConnection(ctx, "id1", `"e1"`, ops)
		texts = append(texts, fmt.Sprint(err))
		_, err = c.GetConnection(ctx, "id1")
		texts = append(texts, fmt.Sprint(err))
	}

	// Printing the values that contain the credentials shows no secret either.
	static := flowservice.StaticToken(canaryToken)
	cfg := flowservice.Config{Endpoint: "https://platform.adobe.io", APIKey: canaryAPIKey, Token: static}
	texts = append(texts,
		fmt.Sprintf("%v %+v %#v %s", static, static, static, static),
		fmt.Sprintf("%v %+v %#v %s", ts, ts, ts, ts),
		fmt.Sprintf("%v %+v %#v %s", imsConfig, imsConfig, imsConfig, imsConfig),
		fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg),
		mysqlInput.String(),
	)
	logger.Debug("config", "ims", imsConfig, "token", static, "source", ts, "config", cfg)

	if logs.Len() == 0 {
		t.Fatal("no log output; the test would prove nothing")
	}
	if !strings.Contains(logs.String(), `"status":400`) {
		t.Errorf("logs lack the status of the failed requests:\n%s", logs.String())
	}
	for _, canary := range canaries {
		if strings.Contains(logs.String(), canary) {
			t.Errorf("log output contains %s:\n%s", canary, logs.String())
		}
		for _, text := range texts {
			if strings.Contains(text, canary) {
				t.Errorf("error or printed value contains %s: %s", canary, text)
			}
		}
	}
}

func TestLogLineFields(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("x-request-id", "req-42")
		succeed(w, r)
	})
	c := newClient(t, srv.URL, func(cfg *flowservice.Config) { cfg.Logger = logger })

	if err := callByMethod(c, http.MethodGet); err != nil {
		t.Fatal(err)
	}
	line := logs.String()
	for _, want := range []string{"method=GET", "/connections/id1", "status=200", "duration=", "request_id=req-42", "attempt=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %q:\n%s", want, line)
		}
	}
}
