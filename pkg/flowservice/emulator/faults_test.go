package emulator_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// injectedCodes are the catalog codes of injected server errors.
var injectedCodes = map[int]string{500: "1102-500", 503: "1103-503"}

// statuses sends n sequential list requests and returns their statuses.
func statuses(t *testing.T, opts emulator.Options, n int) []int {
	t.Helper()
	_, srv := start(t, opts)
	var out []int
	for range n {
		res := do(t, srv, "GET", base+"/connections", nil, nil)
		out = append(out, res.status)
		if want, injected := injectedCodes[res.status]; injected {
			if code := errorCode(t, res); code != want {
				t.Errorf("status %d: code %s, want %s", res.status, code, want)
			}
		}
	}
	return out
}

func TestErrorRateIsReproducible(t *testing.T) {
	opts := emulator.Options{Seed: 7, ErrorRate: 0.3}
	first := statuses(t, opts, 60)
	second := statuses(t, opts, 60)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("same seed, different outcomes (-first +second):\n%s", diff)
	}
	counts := map[int]int{}
	for _, s := range first {
		counts[s]++
	}
	if counts[500] == 0 || counts[503] == 0 || counts[200] == 0 {
		t.Errorf("outcomes %v, want some 200, 500 and 503", counts)
	}
	other := statuses(t, emulator.Options{Seed: 8, ErrorRate: 0.3}, 60)
	if cmp.Equal(first, other) {
		t.Error("seeds 7 and 8 gave the same outcomes")
	}
}

func TestInjectedErrorHasNoEffect(t *testing.T) {
	e, srv := start(t, emulator.Options{ErrorRate: 1})
	for range 5 {
		res := do(t, srv, "POST", base+"/connections", nil, mysqlBody("orders"))
		if res.status != 500 && res.status != 503 {
			t.Fatalf("status %d, want 500 or 503", res.status)
		}
	}
	s := e.Stats()
	if s.Connections != 0 || s.InjectedErrors != 5 {
		t.Errorf("connections %d, injected errors %d; want 0 and 5", s.Connections, s.InjectedErrors)
	}
}

func TestLatencyDelaysEveryRequest(t *testing.T) {
	const latency = 40 * time.Millisecond
	_, srv := start(t, emulator.Options{Latency: latency, LatencyJitter: 10 * time.Millisecond})
	begin := time.Now()
	do(t, srv, "GET", base+"/connections", nil, nil)
	if d := time.Since(begin); d < latency {
		t.Errorf("request took %v, want at least %v", d, latency)
	}
}

func TestRateLimitAnswers429(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string // Retry-After header, "" when absent
	}{
		{"computed from the bucket", 0, "1"},
		{"fixed", 2500 * time.Millisecond, "3"},
		{"omitted", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newManualClock()
			e, srv := start(t, emulator.Options{RateLimit: 2, RetryAfter: tt.retryAfter, Clock: clock.Now})
			for i := range 2 {
				if res := do(t, srv, "GET", base+"/connections", nil, nil); res.status != 200 {
					t.Fatalf("request %d within the burst: status %d", i, res.status)
				}
			}
			res := do(t, srv, "GET", base+"/connections", nil, nil)
			if res.status != http.StatusTooManyRequests {
				t.Fatalf("third request: status %d, want 429", res.status)
			}
			if got := string(res.body); got != `{"error_code":"429050","message":"Too many requests"}`+"\n" {
				t.Errorf("body = %s", got)
			}
			_, present := res.header["Retry-After"]
			if got := res.header.Get("Retry-After"); got != tt.want || present != (tt.want != "") {
				t.Errorf("Retry-After = %q (present %v), want %q", got, present, tt.want)
			}
			clock.Advance(500 * time.Millisecond)
			if res := do(t, srv, "GET", base+"/connections", nil, nil); res.status != 200 {
				t.Errorf("after the refill: status %d", res.status)
			}
			if s := e.Stats(); s.RateLimited != 1 || s.ByStatus[429] != 1 {
				t.Errorf("stats: rateLimited %d, 429s %d; want 1 and 1", s.RateLimited, s.ByStatus[429])
			}
		})
	}
}

func TestLostResponsesAreCommitted(t *testing.T) {
	e, srv := start(t, emulator.Options{LostResponseRate: 1})

	if _, err := send(t, srv, "POST", base+"/connections", nil, mysqlBody("orders")); err == nil {
		t.Fatal("create: got a response, want a dropped connection")
	}
	// Reads are never dropped.
	list := getPage(t, srv, "/connections")
	if len(list.Items) != 1 || list.Items[0].Name != "orders" {
		t.Fatalf("after a lost create: items %+v, want the connection", list.Items)
	}
	id := list.Items[0].ID
	etag := getItem(t, srv, id)["etag"].(string)

	h := apiHeaders()
	h.Set("If-Match", etag)
	ops := []map[string]any{{"op": "replace", "path": "/name", "value": "renamed"}}
	if _, err := send(t, srv, "PATCH", base+"/connections/"+id, h, ops); err == nil {
		t.Fatal("patch: got a response, want a dropped connection")
	}
	if item := getItem(t, srv, id); item["name"] != "renamed" || item["etag"] == etag {
		t.Errorf("after a lost patch: name %v, etag %v (old %v)", item["name"], item["etag"], etag)
	}

	// A failed write keeps its response: only successful writes lose theirs.
	if res, err := send(t, srv, "PATCH", base+"/connections/"+id, h, ops); err != nil || res.status != 412 {
		t.Errorf("stale patch: %v, status %d; want 412", err, res.status)
	}

	if _, err := send(t, srv, "DELETE", base+"/connections/"+id, nil, nil); err == nil {
		t.Fatal("delete: got a response, want a dropped connection")
	}
	if res := do(t, srv, "GET", base+"/connections/"+id, nil, nil); res.status != 404 {
		t.Errorf("after a lost delete: status %d, want 404", res.status)
	}
	if s := e.Stats(); s.LostResponses != 3 {
		t.Errorf("lost responses = %d, want 3", s.LostResponses)
	}
}

func TestLostResponsesAreReproducible(t *testing.T) {
	outcomes := func() []bool {
		_, srv := start(t, emulator.Options{Seed: 3, LostResponseRate: 0.5})
		var lost []bool
		for i := range 20 {
			_, err := send(t, srv, "POST", base+"/connections", nil, mysqlBody(fmt.Sprint(i)))
			lost = append(lost, err != nil)
		}
		return lost
	}
	first, second := outcomes(), outcomes()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("same seed, different outcomes (-first +second):\n%s", diff)
	}
	n := 0
	for _, l := range first {
		if l {
			n++
		}
	}
	if n == 0 || n == len(first) {
		t.Errorf("%d of %d responses lost, want some but not all", n, len(first))
	}
}
