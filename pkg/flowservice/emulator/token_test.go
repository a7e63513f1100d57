package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// manualClock is a clock that tests move by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func formHeaders() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return h
}

func tokenForm(id, secret string) string {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {id},
		"client_secret": {secret},
		"scope":         {"openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"},
	}.Encode()
}

func TestTokenEndpointMintsAcceptedTokens(t *testing.T) {
	clock := newManualClock()
	_, srv := start(t, emulator.Options{Token: "static-token", TokenTTL: time.Hour, Clock: clock.Now})

	res := do(t, srv, "POST", emulator.TokenPath, formHeaders(), tokenForm("client", "secret"))
	if res.status != 200 {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	body := res.object(t)
	token, _ := body["access_token"].(string)
	if strings.Count(token, ".") != 2 {
		t.Errorf("access_token %q is not JWT-shaped", token)
	}
	if body["token_type"] != "bearer" || body["expires_in"] != 3600.0 {
		t.Errorf("token_type %v, expires_in %v; want bearer, 3600", body["token_type"], body["expires_in"])
	}

	h := apiHeaders()
	h.Set("Authorization", "Bearer "+token)
	if res := do(t, srv, "GET", base+"/connections", h, nil); res.status != 200 {
		t.Errorf("minted token: status %d, body %s", res.status, res.body)
	}
	clock.Advance(time.Hour)
	if res := do(t, srv, "GET", base+"/connections", h, nil); res.status != 401 || errorCode(t, res) != "401013" {
		t.Errorf("expired token: status %d, body %s", res.status, res.body)
	}
}

func TestExpiredTokenRejectedWithoutStaticToken(t *testing.T) {
	clock := newManualClock()
	_, srv := start(t, emulator.Options{TokenTTL: 2 * time.Second, Clock: clock.Now})
	res := do(t, srv, "POST", emulator.TokenPath+"?"+tokenForm("client", "secret"), http.Header{}, nil)
	if res.status != 200 {
		t.Fatalf("query-string credentials: status %d, body %s", res.status, res.body)
	}
	if got := res.object(t)["expires_in"]; got != 2.0 {
		t.Errorf("expires_in = %v, want 2", got)
	}
	h := apiHeaders()
	h.Set("Authorization", "Bearer "+res.object(t)["access_token"].(string))
	clock.Advance(2 * time.Second)
	if res := do(t, srv, "GET", base+"/connections", h, nil); res.status != 401 {
		t.Errorf("expired token: status %d, want 401", res.status)
	}
}

func TestTokenEndpointRejectsBadRequests(t *testing.T) {
	_, srv := start(t, emulator.Options{ClientID: "client", ClientSecret: "secret"})
	tests := []struct {
		name   string
		method string
		body   string
		status int
		error  string
	}{
		{"wrong grant", "POST", "grant_type=password&client_id=client&client_secret=secret", 400, "unsupported_grant_type"},
		{"missing secret", "POST", "grant_type=client_credentials&client_id=client", 400, "invalid_request"},
		{"wrong secret", "POST", tokenForm("client", "wrong"), 401, "invalid_client"},
		{"wrong client", "POST", tokenForm("other", "secret"), 401, "invalid_client"},
		{"GET", "GET", "", 405, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, srv, tt.method, emulator.TokenPath, formHeaders(), tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if got := res.object(t)["error"]; got != tt.error {
				t.Errorf("error = %v, want %s", got, tt.error)
			}
			if strings.Contains(string(res.body), "secret\"") {
				t.Errorf("body echoes the client secret: %s", res.body)
			}
		})
	}
	if res := do(t, srv, "POST", emulator.TokenPath, formHeaders(), tokenForm("client", "secret")); res.status != 200 {
		t.Errorf("configured credentials: status %d, body %s", res.status, res.body)
	}
}
