package flowservice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 4, 8, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"Tue, 08 Apr 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 08-Apr-25 12:00:30 GMT", 30 * time.Second, true}, // RFC 850
		{"Tue Apr  8 12:00:30 2025", 30 * time.Second, true},        // ANSI C asctime
		{"Tue, 08 Apr 2025 11:00:00 GMT", 0, true},                  // in the past
		{"99999999999999999999", 0, false},                          // overflows int64
		{"9999999999", maxRetryAfter + time.Second, true},           // clamped
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.value, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	const base, maxDelay = 100 * time.Millisecond, time.Second
	ceilings := []time.Duration{100, 200, 400, 800, 1000, 1000} // milliseconds
	for i, ceiling := range ceilings {
		n := i + 1
		var largest time.Duration
		for range 2000 {
			d := backoff(n, base, maxDelay)
			if d < 0 || d > ceiling*time.Millisecond {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", n, d, ceiling*time.Millisecond)
			}
			largest = max(largest, d)
		}
		// Full jitter spreads over the whole range, so 2000 draws come
		// close to the ceiling.
		if largest < ceiling*time.Millisecond*8/10 {
			t.Errorf("backoff(%d): largest of 2000 draws %v, want near %v", n, largest, ceiling*time.Millisecond)
		}
	}
	if d := backoff(100, base, maxDelay); d > maxDelay {
		t.Errorf("backoff(100) = %v, want at most %v", d, maxDelay)
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	hc := defaultHTTPClient(false)
	if hc.Timeout != 60*time.Second {
		t.Errorf("Timeout = %v, want 60s", hc.Timeout)
	}
	tr := hc.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost < 64 {
		t.Errorf("MaxIdleConnsPerHost = %d, want at least 64", tr.MaxIdleConnsPerHost)
	}
	if tr.Proxy == nil {
		t.Error("Proxy is nil, want the environment's proxy settings")
	}
}

func TestRedactNewError(t *testing.T) {
	body := []byte(`{"type":"https://ns.adobe.com/aep/errors/FLOW-1455-400","title":"Bad sslMode hunter22",` +
		`"report":{"detailed-message":"param password=hunter22 with key key-123456 is invalid"}}`)
	secrets := collectStrings(redactor{"key-123456"}, map[string]any{
		"password": "hunter22", "nested": []any{"REQUIRED"}, "port": 5432,
	})
	e := newError("POST", "/connections", 400, http.Header{}, body, secrets)
	text := e.Error()
	for _, secret := range []string{"hunter22", "key-123456"} {
		if strings.Contains(text, secret) {
			t.Errorf("error shows %q: %s", secret, text)
		}
	}
	if !strings.Contains(text, "(1455-400)") {
		t.Errorf("error lost its code: %s", text)
	}
	if want := "param password=[REDACTED] with key [REDACTED] is invalid"; e.Detail != want {
		t.Errorf("Detail = %q, want %q", e.Detail, want)
	}
	if e.MessageWithheld {
		t.Error("MessageWithheld is set although every secret was redacted")
	}
}

func TestRedactShortSecretWithholdsMessage(t *testing.T) {
	body := []byte(`{"type":"https://ns.adobe.com/aep/errors/FLOW-1455-400","title":"Bad request",` +
		`"detail":"password abc is invalid"}`)
	header := http.Header{"X-Request-Id": {"req-7"}}
	e := newError("POST", "/connections", 400, header, body, redactor{"key-123456", "abc"})

	want := &Error{
		Method: "POST", Path: "/connections", Status: 400,
		Code: "1455-400", RequestID: "req-7", MessageWithheld: true,
	}
	if *e != *want {
		t.Errorf("newError = %+v, want %+v", e, want)
	}
	if text := e.Error(); strings.Contains(text, "abc") {
		t.Errorf("error shows the short secret: %s", text)
	}
}

func TestScrubberLeaks(t *testing.T) {
	scrub := redactor{"Client+Secret/Canary==", "pass word 1"}.scrubber()
	tests := []struct {
		text string
		want bool
	}{
		{"nothing to see", false},
		{"secret [REDACTED] rejected", false},
		{"secret client%2bsecret%2fcanary%3d%3d rejected", true}, // lower-case hex
		{"secret CLIENT+SECRET/CANARY== rejected", true},
		{"secret Client+Secret/\nCanary== rejected", true}, // wrapped line
		{"password pass  word 1", true},                    // white space doubled
		{"password passw ord1", true},                      // white space moved
	}
	for _, tc := range tests {
		if got := scrub.leaks(tc.text); got != tc.want {
			t.Errorf("leaks(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestCollectStringsFromStructValues(t *testing.T) {
	type params struct {
		Password string `json:"password"`
		Port     int    `json:"port"`
	}
	got := collectStrings(nil, params{Password: "s3cret-value", Port: 1})
	if len(got) != 1 || got[0] != "s3cret-value" {
		t.Errorf("collectStrings = %q, want the struct's string field", got)
	}
}

// fakeClock is a settable clock for the token cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newClockedIMS returns an IMS token source on a fake clock, its clock, a
// function that counts the tokens its server has issued, and a function
// that makes the server fail every later request with 400.
func newClockedIMS(t *testing.T, expiresIn string) (*imsTokenSource, *fakeClock, func() int, func()) {
	var mu sync.Mutex
	var fetches int
	var failing bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		fetches++
		w.Write([]byte(`{"access_token":"token-` + string(rune('0'+fetches)) + `","expires_in":` + expiresIn + `}`))
	}))
	t.Cleanup(srv.Close)

	ts, err := NewIMSTokenSource(IMSConfig{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	ims := ts.(*imsTokenSource)
	ims.now = clock.Now

	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return fetches
	}
	fail := func() {
		mu.Lock()
		defer mu.Unlock()
		failing = true
	}
	return ims, clock, count, fail
}

func TestIMSRefreshBeforeExpiry(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn string
		advance   time.Duration
		wantToken string
	}{
		// 24 h tokens are replaced 5 minutes before they expire.
		{"day token well before expiry", "86399", 86399*time.Second - 5*time.Minute - time.Second, "token-1"},
		{"day token within the margin", "86399", 86399*time.Second - 5*time.Minute, "token-2"},
		{"day token expired", "86399", 25 * time.Hour, "token-2"},
		// Short tokens are replaced when a tenth of their lifetime is left.
		{"minute token before the margin", "60", 53 * time.Second, "token-1"},
		{"minute token within the margin", "60", 54 * time.Second, "token-2"},
		{"expires_in as a string", `"60"`, 54 * time.Second, "token-2"},
		{"no expires_in", `null`, 0, "token-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, clock, fetches, _ := newClockedIMS(t, tc.expiresIn)
			ctx := context.Background()
			if token, err := ts.Token(ctx); err != nil || token != "token-1" {
				t.Fatalf("first Token = %q, %v", token, err)
			}
			clock.Advance(tc.advance)
			token, err := ts.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if token != tc.wantToken {
				t.Errorf("Token after %v = %q, want %q", tc.advance, token, tc.wantToken)
			}
			wantFetches := 1
			if tc.wantToken == "token-2" {
				wantFetches = 2
			}
			if got := fetches(); got != wantFetches {
				t.Errorf("IMS answered %d token requests, want %d", got, wantFetches)
			}
		})
	}
}

func TestIMSFailedRefreshUsesCachedToken(t *testing.T) {
	ts, clock, _, fail := newClockedIMS(t, "3600")
	ctx := context.Background()
	if _, err := ts.Token(ctx); err != nil {
		t.Fatal(err)
	}
	fail()

	clock.Advance(3590 * time.Second) // within the margin, before expiry
	token, err := ts.Token(ctx)
	if err != nil || token != "token-1" {
		t.Errorf("Token during a failed refresh = %q, %v; want the cached token-1", token, err)
	}

	clock.Advance(20 * time.Second) // past expiry
	if token, err := ts.Token(ctx); err == nil {
		t.Errorf("Token after expiry = %q, want the refresh error", token)
	}
}

func TestCheckLoopbackAddress(t *testing.T) {
	tests := []struct {
		address string
		ok      bool
	}{
		{"127.0.0.1:80", true},
		{"127.8.9.10:1", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"10.0.0.1:80", false},
		{"0.0.0.0:80", false},
		{"[::]:80", false},
		{"[fe80::1%lo]:80", false},
		{"localhost:80", false}, // a name, not the address it resolved to
		{"127.0.0.1", false},
		{"", false},
	}
	for _, tc := range tests {
		err := checkLoopbackAddress(tc.address)
		if tc.ok && err != nil {
			t.Errorf("checkLoopbackAddress(%q) = %v, want nil", tc.address, err)
		}
		if !tc.ok && !errors.Is(err, errNonLoopback) {
			t.Errorf("checkLoopbackAddress(%q) = %v, want errNonLoopback", tc.address, err)
		}
	}
}

// TestLoopbackClientRejectsOtherAddresses dials 0.0.0.0, which Linux and
// macOS connect to the local host although it is not a loopback address. It
// represents a name such as localhost that resolves to another address.
func TestLoopbackClientRejectsOtherAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("reached"))
	}))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	hc := wrapHTTPClient(nil, discardLogger(nil), true)

	resp, err := hc.Get(fmt.Sprintf("http://0.0.0.0:%d/", port))
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET http://0.0.0.0 succeeded, want the connection rejected")
	}
	if !errors.Is(err, errNonLoopback) {
		t.Errorf("GET http://0.0.0.0: %v, want errNonLoopback", err)
	}
	if retryableTransportError(err) {
		t.Errorf("retryableTransportError(%v) = true, want false", err)
	}

	resp, err = hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s: %v", srv.URL, err)
	}
	resp.Body.Close()
}

func TestLoopbackTransportHasNoProxy(t *testing.T) {
	for _, loopbackOnly := range []bool{false, true} {
		hc := wrapHTTPClient(nil, discardLogger(nil), loopbackOnly)
		tr := hc.Transport.(*loggingTransport).base.(*http.Transport)
		if got := tr.Proxy == nil; got != loopbackOnly {
			t.Errorf("loopbackOnly %v: Proxy == nil is %v, want %v", loopbackOnly, got, loopbackOnly)
		}
	}
}

// endlessPages serves pages of three items, each linking to the next, and
// counts the requests.
func endlessPages(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		fmt.Fprintf(w, `{"items":[{"id":"a"},{"id":"b"},{"id":"c"}],"_links":{"next":{"href":"/connections?continuationToken=%d"}}}`, n)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func TestListStopsAtLimits(t *testing.T) {
	pageBytes := len(`{"items":[{"id":"a"},{"id":"b"},{"id":"c"}],"_links":{"next":{"href":"/connections?continuationToken=1"}}}`)
	tests := []struct {
		name      string
		limits    listLimits
		wantPages int64
		wantText  string
	}{
		{"item count", listLimits{items: 10, bytes: 1 << 30}, 4, "more than 10 items after 4 pages"},
		{"total bytes", listLimits{items: 1000, bytes: 2*pageBytes + 10}, 3, "MiB after 3 pages; narrow the filters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := endlessPages(t)
			c, err := New(Config{Endpoint: srv.URL, APIKey: "key", OrgID: "org", Token: StaticToken("token")})
			if err != nil {
				t.Fatal(err)
			}
			c.listLimits = tc.limits

			conns, err := c.ListConnections(context.Background(), ListOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("ListConnections error = %v, want one containing %q", err, tc.wantText)
			}
			if conns != nil {
				t.Errorf("ListConnections returned %d connections with the error, want none", len(conns))
			}
			if got := requests.Load(); got != tc.wantPages {
				t.Errorf("server got %d requests, want %d", got, tc.wantPages)
			}
		})
	}
}

func TestNewSetsListLimits(t *testing.T) {
	c, err := New(Config{Endpoint: "https://platform.adobe.io", APIKey: "key", OrgID: "org", Token: StaticToken("token")})
	if err != nil {
		t.Fatal(err)
	}
	want := listLimits{items: defaultMaxListItems, bytes: defaultMaxListBytes}
	if c.listLimits != want {
		t.Errorf("listLimits = %+v, want %+v", c.listLimits, want)
	}
	if defaultMaxListBytes > 512<<20 {
		t.Errorf("defaultMaxListBytes = %d MiB, want at most 512 MiB", defaultMaxListBytes>>20)
	}
}
