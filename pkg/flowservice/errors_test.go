package flowservice_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// TestErrorBodies checks that both documented error shapes, Flow Service's
// and the gateway's, become a typed *Error with the right sentinels.
func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name          string
		fixture       string
		status        int
		requestHeader string // x-request-id response header, none when empty
		want          flowservice.Error
		wantText      string
		sentinels     []error
	}{
		{
			name:    "flow 404 with request id in report",
			fixture: "error-flow-1439-404.json",
			status:  http.StatusNotFound,
			want: flowservice.Error{
				Code:      "1439-404",
				Title:     "Resource not found",
				Detail:    "The requested flows resource 84224def-... is not found. Verify the resource ID before trying again.",
				RequestID: "{REQUEST_ID}",
			},
			wantText:  "GET /connections/abc: 404 Not Found (1439-404): The requested flows resource 84224def-... is not found. Verify the resource ID before trying again. (request id {REQUEST_ID})",
			sentinels: []error{flowservice.ErrNotFound},
		},
		{
			name:          "flow 412 with request id header",
			fixture:       "error-flow-1404-412.json",
			status:        http.StatusPreconditionFailed,
			requestHeader: "hdr-req-1",
			want: flowservice.Error{
				Code:      "1404-412",
				Title:     "Precondition Failed",
				Detail:    "The supplied version 1400dd53-0000-0200-0000-5f3f23450000 does not match the current version on entity 139f6a5f-a78b-4744-9f6a-5fa78bd74431.",
				RequestID: "hdr-req-1",
			},
			wantText:  "GET /connections/abc: 412 Precondition Failed (1404-412): The supplied version 1400dd53-0000-0200-0000-5f3f23450000 does not match the current version on entity 139f6a5f-a78b-4744-9f6a-5fa78bd74431. (request id hdr-req-1)",
			sentinels: []error{flowservice.ErrPreconditionFailed},
		},
		{
			name:      "flow 403 forbidden",
			fixture:   "error-flow-2120-403.json",
			status:    http.StatusForbidden,
			want:      flowservice.Error{Code: "2120-403", Title: "Forbidden", Detail: "Access is denied for the requested operation.", RequestID: "{REQUEST_ID}"},
			wantText:  "GET /connections/abc: 403 Forbidden (2120-403): Access is denied for the requested operation. (request id {REQUEST_ID})",
			sentinels: []error{flowservice.ErrUnauthorized},
		},
		{
			name:      "gateway missing token",
			fixture:   "error-gateway-403010.json",
			status:    http.StatusForbidden,
			want:      flowservice.Error{Code: "403010", Detail: "Oauth token is missing."},
			wantText:  "GET /connections/abc: 403 Forbidden (403010): Oauth token is missing.",
			sentinels: []error{flowservice.ErrUnauthorized},
		},
		{
			name:      "gateway invalid token",
			fixture:   "error-gateway-401013.json",
			status:    http.StatusUnauthorized,
			want:      flowservice.Error{Code: "401013", Detail: "Oauth token is not valid"},
			wantText:  "GET /connections/abc: 401 Unauthorized (401013): Oauth token is not valid",
			sentinels: []error{flowservice.ErrUnauthorized},
		},
		{
			name:      "gateway missing API key",
			fixture:   "error-gateway-403000.json",
			status:    http.StatusForbidden,
			want:      flowservice.Error{Code: "403000", Detail: "Api Key is required"},
			wantText:  "GET /connections/abc: 403 Forbidden (403000): Api Key is required",
			sentinels: []error{flowservice.ErrUnauthorized},
		},
		{
			name:      "gateway invalid API key",
			fixture:   "error-gateway-403003.json",
			status:    http.StatusForbidden,
			want:      flowservice.Error{Code: "403003", Detail: "Api Key is invalid"},
			wantText:  "GET /connections/abc: 403 Forbidden (403003): Api Key is invalid",
			sentinels: []error{flowservice.ErrUnauthorized},
		},
		{
			name:     "gateway missing org",
			fixture:  "error-gateway-400003.json",
			status:   http.StatusBadRequest,
			want:     flowservice.Error{Code: "400003", Detail: "Missing header"},
			wantText: "GET /connections/abc: 400 Bad Request (400003): Missing header",
		},
		{
			name:      "gateway profile not valid",
			fixture:   "error-gateway-403025.json",
			status:    http.StatusForbidden,
			want:      flowservice.Error{Code: "403025", Detail: "Profile is not valid"},
			wantText:  "GET /connections/abc: 403 Forbidden (403025): Profile is not valid",
			sentinels: []error{flowservice.ErrUnauthorized},
		},
		{
			name:     "problem detail without code",
			fixture:  "error-content-type.json",
			status:   http.StatusBadRequest,
			want:     flowservice.Error{Title: "BadRequestError", Detail: "A valid content-type must be specified"},
			wantText: "GET /connections/abc: 400 Bad Request: A valid content-type must be specified",
		},
	}
	allSentinels := []error{
		flowservice.ErrNotFound,
		flowservice.ErrPreconditionFailed,
		flowservice.ErrUnauthorized,
		flowservice.ErrOutcomeUnknown,
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tc.requestHeader != "" {
					w.Header().Set("x-request-id", tc.requestHeader)
				}
				writeJSON(w, tc.status, fixture(t, tc.fixture))
			})
			c := newClient(t, srv.URL, func(cfg *flowservice.Config) { cfg.Token = rotatingTokens() })

			_, err := c.GetConnection(context.Background(), "abc")
			var apiErr *flowservice.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("GetConnection error = %v (%T), want *flowservice.Error", err, err)
			}
			want := tc.want
			want.Method, want.Path, want.Status = http.MethodGet, "/connections/abc", tc.status
			if diff := cmp.Diff(&want, apiErr); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if got := err.Error(); got != tc.wantText {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.wantText)
			}
			for _, s := range allSentinels {
				wantIs := false
				for _, w := range tc.sentinels {
					wantIs = wantIs || w == s
				}
				if got := errors.Is(err, s); got != wantIs {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, wantIs)
				}
			}
		})
	}
}

// rotatingTokens returns a token source that hands out a new token after
// each Invalidate, so that a 401 is retried once with a fresh token.
func rotatingTokens() flowservice.TokenSource {
	return &countingTokens{}
}

type countingTokens struct {
	n int
}

func (c *countingTokens) Token(context.Context) (string, error) {
	return "token-" + string(rune('a'+c.n)), nil
}

func (c *countingTokens) Invalidate(string) { c.n++ }

func TestErrorNonJSONBody(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("<html>\n  <body>Bad request</body>\n</html>"))
	})
	c := newClient(t, srv.URL)

	err := c.DeleteConnection(context.Background(), "abc")
	want := "DELETE /connections/abc: 400 Bad Request: <html> <body>Bad request</body> </html>"
	if err == nil || err.Error() != want {
		t.Errorf("DeleteConnection error = %v, want %s", err, want)
	}
}

func TestErrorIsMatchesOutcomeUnknownOnlyWhenSet(t *testing.T) {
	e := &flowservice.Error{Method: "POST", Path: "/connections", Status: 503}
	if errors.Is(e, flowservice.ErrOutcomeUnknown) {
		t.Error("a 503 without OutcomeUnknown matches ErrOutcomeUnknown")
	}
	e.OutcomeUnknown = true
	if !errors.Is(e, flowservice.ErrOutcomeUnknown) {
		t.Error("OutcomeUnknown error does not match ErrOutcomeUnknown")
	}
	want := "POST /connections: 503 Service Unavailable; outcome unknown: the change may have been applied, so look it up before retrying"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
