package flowservice_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// callByMethod runs one client call with the given HTTP method against a
// connection id.
func callByMethod(c *flowservice.Client, method string) error {
	ctx := context.Background()
	switch method {
	case http.MethodGet:
		_, err := c.GetConnection(ctx, "id1")
		return err
	case http.MethodPost:
		_, err := c.CreateConnection(ctx, mysqlInput)
		return err
	case http.MethodPatch:
		ops := []flowservice.PatchOp{{Op: "replace", Path: "/name", Value: "n"}}
		_, err := c.PatchConnection(ctx, "id1", `"e1"`, ops)
		return err
	case http.MethodDelete:
		return c.DeleteConnection(ctx, "id1")
	}
	panic("no call for " + method)
}

// succeed responds to a request of any method as the service does on
// success.
func succeed(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		writeJSON(w, http.StatusCreated, []byte(`{"id":"id1","etag":"\"e1\""}`))
	case http.MethodPatch:
		writeJSON(w, http.StatusOK, []byte(`{"id":"id1","etag":"\"e2\""}`))
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"id1"}]}`))
	}
}

func TestRetryTransientStatus(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
		for _, status := range []int{429, 500, 502, 503, 504} {
			t.Run(method+" "+strconv.Itoa(status), func(t *testing.T) {
				srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
					if n == 1 {
						writeJSON(w, status, []byte(`{"error_code":"x","message":"try again"}`))
						return
					}
					succeed(w, r)
				})
				c := newClient(t, srv.URL)

				if err := callByMethod(c, method); err != nil {
					t.Fatalf("call failed: %v", err)
				}
				if got := len(srv.requests()); got != 2 {
					t.Errorf("server got %d requests, want 2", got)
				}
				if got := c.Stats().Retries; got != 1 {
					t.Errorf("Stats().Retries = %d, want 1", got)
				}
			})
		}
	}
}

func TestNoRetryOfPermanentStatus(t *testing.T) {
	for _, status := range []int{400, 403, 404, 409, 412, 501} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, status, []byte(`{}`))
			})
			c := newClient(t, srv.URL)

			err := callByMethod(c, http.MethodPatch)
			var apiErr *flowservice.Error
			if !errors.As(err, &apiErr) || apiErr.Status != status {
				t.Fatalf("error = %v, want *Error with status %d", err, status)
			}
			if got := len(srv.requests()); got != 1 {
				t.Errorf("server got %d requests, want 1", got)
			}
		})
	}
}

func TestCreateRetriesRateLimit(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, http.StatusTooManyRequests, fixture(t, "error-gateway-429050.json"))
			return
		}
		succeed(w, r)
	})
	c := newClient(t, srv.URL)

	if err := callByMethod(c, http.MethodPost); err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if got := len(srv.requests()); got != 2 {
		t.Errorf("server got %d requests, want 2", got)
	}
	if got := c.Stats().Throttled; got != 1 {
		t.Errorf("Stats().Throttled = %d, want 1", got)
	}
}

func TestCreateServerErrorIsOutcomeUnknown(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, status, []byte(`{}`))
			})
			c := newClient(t, srv.URL)

			err := callByMethod(c, http.MethodPost)
			if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
				t.Errorf("error = %v, want ErrOutcomeUnknown", err)
			}
			if errors.Is(err, flowservice.ErrCreatedIDUnknown) {
				t.Errorf("error = %v matches ErrCreatedIDUnknown after a %d", err, status)
			}
			var apiErr *flowservice.Error
			if !errors.As(err, &apiErr) || apiErr.Status != status {
				t.Errorf("error = %v, want *Error with status %d", err, status)
			}
			if got := len(srv.requests()); got != 1 {
				t.Errorf("server got %d requests, want 1: a create must not be resent", got)
			}
		})
	}
}

func TestCreateDroppedResponseIsOutcomeUnknown(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		dropConnection(t, w, r)
	})
	c := newClient(t, srv.URL)

	err := callByMethod(c, http.MethodPost)
	if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want ErrOutcomeUnknown", err)
	}
	if errors.Is(err, flowservice.ErrCreatedIDUnknown) {
		t.Errorf("error = %v matches ErrCreatedIDUnknown, but no response said the create succeeded", err)
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("server got %d requests, want 1: a create must not be resent", got)
	}
}

func TestCreateRetriesDialError(t *testing.T) {
	// A port that was just released refuses connections, so the create
	// never reaches a server and is safe to resend.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+addr, func(cfg *flowservice.Config) { cfg.MaxRetries = 2 })

	err = callByMethod(c, http.MethodPost)
	if err == nil {
		t.Fatal("CreateConnection succeeded against a closed port")
	}
	if errors.Is(err, flowservice.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want a plain connection error: nothing was sent", err)
	}
	if got := c.Stats().Requests; got != 3 {
		t.Errorf("Stats().Requests = %d, want 3 (one attempt and two retries)", got)
	}
}

func TestCreateCancelledInFlightIsOutcomeUnknown(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		<-release
	})
	defer close(release)
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	_, err := c.CreateConnection(ctx, mysqlInput)
	if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want ErrOutcomeUnknown", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
}

func TestGetCancelledIsNotOutcomeUnknown(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		<-release
	})
	defer close(release)
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	_, err := c.GetConnection(ctx, "id1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, flowservice.ErrOutcomeUnknown) {
		t.Errorf("error = %v: a read has no outcome to be unknown", err)
	}
}

func TestGetRetriesDroppedResponse(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropConnection(t, w, r)
			return
		}
		succeed(w, r)
	})
	c := newClient(t, srv.URL)

	if err := callByMethod(c, http.MethodGet); err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
}

func TestPatchReplayAfterDropIsOutcomeUnknown(t *testing.T) {
	// The first attempt is applied but its response is lost, so the retry
	// then carries a stale If-Match.
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropConnection(t, w, r)
			return
		}
		writeJSON(w, http.StatusPreconditionFailed, fixture(t, "error-flow-1404-412.json"))
	})
	c := newClient(t, srv.URL)

	err := callByMethod(c, http.MethodPatch)
	if !errors.Is(err, flowservice.ErrPreconditionFailed) {
		t.Errorf("error = %v, want ErrPreconditionFailed", err)
	}
	if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want ErrOutcomeUnknown: the first attempt may have applied", err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("server got %d requests, want 2", len(reqs))
	}
	if got := reqs[1].Header.Get("If-Match"); got != `"e1"` {
		t.Errorf("retry If-Match = %q, want the same etag", got)
	}
}

func TestPatchStaleEtagIsNotOutcomeUnknown(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusPreconditionFailed, fixture(t, "error-flow-1404-412.json"))
	})
	c := newClient(t, srv.URL)

	err := callByMethod(c, http.MethodPatch)
	if !errors.Is(err, flowservice.ErrPreconditionFailed) {
		t.Errorf("error = %v, want ErrPreconditionFailed", err)
	}
	if errors.Is(err, flowservice.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want no ErrOutcomeUnknown after a single attempt", err)
	}
}

func TestPatchWithoutIfMatchIsNotResent(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{}`))
	})
	c := newClient(t, srv.URL)

	_, err := c.PatchConnection(context.Background(), "id1", "", []flowservice.PatchOp{{Op: "remove", Path: "/description"}})
	if !errors.Is(err, flowservice.ErrOutcomeUnknown) {
		t.Errorf("error = %v, want ErrOutcomeUnknown", err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Errorf("server got %d requests, want 1", len(reqs))
	}
	if _, ok := reqs[0].Header["If-Match"]; ok {
		t.Error("If-Match sent for an empty etag")
	}
}

func TestDeleteRetryFindingNothingSucceeds(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropConnection(t, w, r)
			return
		}
		writeJSON(w, http.StatusNotFound, fixture(t, "error-flow-1439-404.json"))
	})
	c := newClient(t, srv.URL)

	if err := c.DeleteConnection(context.Background(), "id1"); err != nil {
		t.Errorf("DeleteConnection = %v, want nil: the lost attempt deleted it", err)
	}
	if got := len(srv.requests()); got != 2 {
		t.Errorf("server got %d requests, want 2", got)
	}
}

func TestDeleteUnknownIsNotFound(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusNotFound, fixture(t, "error-flow-1439-404.json"))
	})
	c := newClient(t, srv.URL)

	if err := c.DeleteConnection(context.Background(), "id1"); !errors.Is(err, flowservice.ErrNotFound) {
		t.Errorf("DeleteConnection = %v, want ErrNotFound", err)
	}
}

func TestRetriesStopAtMaxRetries(t *testing.T) {
	tests := []struct {
		maxRetries   int
		wantRequests int
	}{
		{maxRetries: 2, wantRequests: 3},
		{maxRetries: -1, wantRequests: 1},
		{maxRetries: 0, wantRequests: 6}, // the default of 5 retries
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.maxRetries), func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("x-request-id", "req-"+strconv.Itoa(n))
				writeJSON(w, http.StatusServiceUnavailable, []byte(`{}`))
			})
			c := newClient(t, srv.URL, func(cfg *flowservice.Config) { cfg.MaxRetries = tc.maxRetries })

			err := callByMethod(c, http.MethodGet)
			var apiErr *flowservice.Error
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
				t.Fatalf("error = %v, want the last 503", err)
			}
			if want := "req-" + strconv.Itoa(tc.wantRequests); apiErr.RequestID != want {
				t.Errorf("RequestID = %q, want %q from the last attempt", apiErr.RequestID, want)
			}
			if got := len(srv.requests()); got != tc.wantRequests {
				t.Errorf("server got %d requests, want %d", got, tc.wantRequests)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	tests := map[string]func() string{
		"seconds":   func() string { return "1" },
		"HTTP date": func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) },
	}
	for name, retryAfter := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					w.Header().Set("Retry-After", retryAfter())
					writeJSON(w, http.StatusTooManyRequests, []byte(`{}`))
					return
				}
				succeed(w, r)
			})
			c := newClient(t, srv.URL)

			start := time.Now()
			if err := callByMethod(c, http.MethodGet); err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			// An HTTP date has one-second resolution, so two seconds
			// ahead means at least one second of waiting.
			if elapsed := time.Since(start); elapsed < time.Second {
				t.Errorf("retried after %v, want at least the 1 s that Retry-After asked for", elapsed)
			}
		})
	}
}

func TestRetryAfterBeyondDeadlineFailsFast(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{}`))
	})
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, err := c.GetConnection(ctx, "id1")
	var apiErr *flowservice.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Errorf("error = %v, want the 503 without waiting", err)
	}
	if ctx.Err() != nil {
		t.Error("the call waited until the context expired")
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("server got %d requests, want 1", got)
	}
}

func TestRetryAfterTooLongIsNotAwaited(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, http.StatusTooManyRequests, []byte(`{}`))
	})
	c := newClient(t, srv.URL)

	err := callByMethod(c, http.MethodGet)
	var apiErr *flowservice.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests {
		t.Errorf("error = %v, want the 429", err)
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("server got %d requests, want 1", got)
	}
}

func TestRateLimitSpacesRequests(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		succeed(w, r)
	})
	c := newClient(t, srv.URL, func(cfg *flowservice.Config) { cfg.RateLimit = 50 })

	start := time.Now()
	for range 11 {
		if err := callByMethod(c, http.MethodGet); err != nil {
			t.Fatal(err)
		}
	}
	// With a burst of one, 11 requests at 50/s need at least 10 intervals
	// of 20 ms.
	if elapsed := time.Since(start); elapsed < 190*time.Millisecond {
		t.Errorf("11 requests at 50/s took %v, want at least 200 ms", elapsed)
	}
}

func TestUnauthorizedStaticTokenIsNotResent(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusUnauthorized, fixture(t, "error-gateway-401013.json"))
	})
	c := newClient(t, srv.URL)

	err := callByMethod(c, http.MethodGet)
	if !errors.Is(err, flowservice.ErrUnauthorized) {
		t.Errorf("error = %v, want ErrUnauthorized", err)
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("server got %d requests, want 1: the same static token would fail again", got)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/elsewhere" {
			t.Error("client followed a redirect")
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	c := newClient(t, srv.URL)

	err := callByMethod(c, http.MethodGet)
	var apiErr *flowservice.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTemporaryRedirect {
		t.Errorf("error = %v, want *Error with status 307", err)
	}
}
