package flowservice_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice"
)

const (
	testClientID     = "ims-client-id"
	testClientSecret = "ims-client-secret"
)

// newFakeIMS returns an IMS token endpoint that checks the documented form
// and hands out token-1, token-2 and so on, valid for expiresIn seconds.
func newFakeIMS(t *testing.T, expiresIn int) *fakeServer {
	return newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method != http.MethodPost || r.URL.Path != "/ims/token/v3" {
			t.Errorf("IMS got %s %s, want POST /ims/token/v3", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("IMS Content-Type = %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("IMS form: %v", err)
		}
		want := map[string]string{
			"grant_type":    "client_credentials",
			"client_id":     testClientID,
			"client_secret": testClientSecret,
			"scope":         "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session",
		}
		for key, value := range want {
			if got := r.PostForm.Get(key); got != value {
				t.Errorf("IMS form %s = %q, want %q", key, got, value)
			}
		}
		if len(r.URL.RawQuery) > 0 {
			t.Errorf("IMS request has a query %q; credentials belong in the body", r.URL.RawQuery)
		}
		body := fmt.Sprintf(`{"access_token":"token-%d","token_type":"bearer","expires_in":%d}`, n, expiresIn)
		writeJSON(w, http.StatusOK, []byte(body))
	})
}

func newIMSSource(t *testing.T, url string) flowservice.TokenSource {
	t.Helper()
	ts, err := flowservice.NewIMSTokenSource(flowservice.IMSConfig{
		BaseURL:      url,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
	})
	if err != nil {
		t.Fatalf("NewIMSTokenSource: %v", err)
	}
	return ts
}

func TestIMSTokenDocumentedResponse(t *testing.T) {
	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, fixture(t, "ims-token.json"))
	})
	ts := newIMSSource(t, ims.URL)

	token, err := ts.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if token != "{ACCESS_TOKEN}" {
		t.Errorf("Token = %q, want {ACCESS_TOKEN}", token)
	}
}

func TestIMSTokenIsCached(t *testing.T) {
	ims := newFakeIMS(t, 86399)
	ts := newIMSSource(t, ims.URL)
	api := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		succeed(w, r)
	})
	c := newClient(t, api.URL, func(cfg *flowservice.Config) { cfg.Token = ts })

	for range 3 {
		if err := callByMethod(c, http.MethodGet); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(ims.requests()); got != 1 {
		t.Errorf("IMS got %d requests, want 1", got)
	}
	for i, req := range api.requests() {
		if got := req.Header.Get("Authorization"); got != "Bearer token-1" {
			t.Errorf("request %d Authorization = %q, want Bearer token-1", i+1, got)
		}
	}
}

func TestIMSConcurrentCallersShareOneFetch(t *testing.T) {
	release := make(chan struct{})
	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		<-release
		writeJSON(w, http.StatusOK, []byte(`{"access_token":"shared","expires_in":3600}`))
	})
	ts := newIMSSource(t, ims.URL)

	var wg sync.WaitGroup
	tokens := make([]string, 20)
	errs := make([]error, 20)
	for i := range tokens {
		wg.Go(func() { tokens[i], errs[i] = ts.Token(context.Background()) })
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()

	for i := range tokens {
		if errs[i] != nil || tokens[i] != "shared" {
			t.Errorf("caller %d: Token = %q, %v", i, tokens[i], errs[i])
		}
	}
	if got := len(ims.requests()); got != 1 {
		t.Errorf("IMS got %d requests, want 1", got)
	}
}

func TestIMSRefreshAfterUnauthorized(t *testing.T) {
	ims := newFakeIMS(t, 86399)
	ts := newIMSSource(t, ims.URL)
	api := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") == "Bearer token-1" {
			writeJSON(w, http.StatusUnauthorized, fixture(t, "error-gateway-401013.json"))
			return
		}
		succeed(w, r)
	})
	c := newClient(t, api.URL, func(cfg *flowservice.Config) { cfg.Token = ts })

	// A create is resent after a 401 too: the gateway rejected it before
	// Flow Service saw it.
	if err := callByMethod(c, http.MethodPost); err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if got := len(ims.requests()); got != 2 {
		t.Errorf("IMS got %d requests, want 2", got)
	}
	reqs := api.requests()
	if len(reqs) != 2 {
		t.Fatalf("API got %d requests, want 2", len(reqs))
	}
	if got := reqs[1].Header.Get("Authorization"); got != "Bearer token-2" {
		t.Errorf("retry Authorization = %q, want Bearer token-2", got)
	}
	if got := c.Stats().TokenRefreshes; got != 1 {
		t.Errorf("Stats().TokenRefreshes = %d, want 1", got)
	}
}

func TestIMSSecondUnauthorizedFails(t *testing.T) {
	ims := newFakeIMS(t, 86399)
	ts := newIMSSource(t, ims.URL)
	api := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusUnauthorized, fixture(t, "error-gateway-401013.json"))
	})
	c := newClient(t, api.URL, func(cfg *flowservice.Config) { cfg.Token = ts })

	err := callByMethod(c, http.MethodGet)
	if !errors.Is(err, flowservice.ErrUnauthorized) {
		t.Errorf("error = %v, want ErrUnauthorized", err)
	}
	if got := len(api.requests()); got != 2 {
		t.Errorf("API got %d requests, want 2 (one retry with a new token)", got)
	}
	if got := len(ims.requests()); got != 2 {
		t.Errorf("IMS got %d requests, want 2", got)
	}
}

func TestIMSInvalidateIgnoresOldToken(t *testing.T) {
	ims := newFakeIMS(t, 86399)
	ts := newIMSSource(t, ims.URL)
	ctx := context.Background()

	first, _ := ts.Token(ctx)
	ts.Invalidate(first)
	second, _ := ts.Token(ctx)
	ts.Invalidate(first) // a late 401 for the old token
	third, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first != "token-1" || second != "token-2" || third != "token-2" {
		t.Errorf("tokens = %q %q %q, want token-1 token-2 token-2", first, second, third)
	}
}

func TestIMSRetriesTransientFailure(t *testing.T) {
	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"access_token":"ok","expires_in":3600}`))
	})
	ts := newIMSSource(t, ims.URL)

	token, err := ts.Token(context.Background())
	if err != nil || token != "ok" {
		t.Errorf("Token = %q, %v; want ok", token, err)
	}
}

func TestIMSRejectedCredentials(t *testing.T) {
	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		// The server echoes the credentials, which the error must not.
		body := fmt.Sprintf(`{"error":"invalid_client","error_description":"invalid client_secret %s for %s"}`,
			testClientSecret, testClientID)
		writeJSON(w, http.StatusBadRequest, []byte(body))
	})
	ts := newIMSSource(t, ims.URL)

	_, err := ts.Token(context.Background())
	if err == nil {
		t.Fatal("Token succeeded, want an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "400 Bad Request (invalid_client)") {
		t.Errorf("error = %q, want the status and the OAuth error code", msg)
	}
	if !errors.Is(err, flowservice.ErrUnauthorized) {
		t.Errorf("error = %q, want ErrUnauthorized", msg)
	}
	if strings.Contains(msg, testClientSecret) || strings.Contains(msg, testClientID) {
		t.Errorf("error shows a credential: %q", msg)
	}
	if got := len(ims.requests()); got != 1 {
		t.Errorf("IMS got %d requests, want 1: rejected credentials stay rejected", got)
	}
}

func TestIMSResponseWithoutToken(t *testing.T) {
	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, []byte(`{"token_type":"bearer","expires_in":3600}`))
	})
	ts := newIMSSource(t, ims.URL)

	if _, err := ts.Token(context.Background()); err == nil {
		t.Error("Token succeeded without access_token")
	}
}

func TestIMSTokenCallerContext(t *testing.T) {
	release := make(chan struct{})
	ims := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		<-release
		writeJSON(w, http.StatusOK, []byte(`{"access_token":"late","expires_in":3600}`))
	})
	ts := newIMSSource(t, ims.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	_, err := ts.Token(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token = %v, want context.DeadlineExceeded", err)
	}

	// The fetch goes on for other callers.
	close(release)
	token, err := ts.Token(context.Background())
	if err != nil || token != "late" {
		t.Errorf("Token = %q, %v; want late", token, err)
	}
	if got := len(ims.requests()); got != 1 {
		t.Errorf("IMS got %d requests, want 1", got)
	}
}

func TestStaticTokenEmpty(t *testing.T) {
	if _, err := flowservice.StaticToken("").Token(context.Background()); err == nil {
		t.Error("empty static token accepted")
	}
}
