package flowservice

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	defaultMaxRetries = 5
	defaultMaxBackoff = 30 * time.Second

	// baseBackoff is the backoff ceiling of the first retry. It doubles
	// with each further retry up to the configured maximum.
	baseBackoff = 250 * time.Millisecond

	// maxRetryAfter is the maximum Retry-After the client waits for. A
	// longer requested pause ends the call with the server's error, so that
	// the caller decides instead of a command hanging for minutes.
	maxRetryAfter = 2 * time.Minute
)

// retryableStatus reports whether a response status is worth retrying for a
// request that is safe to repeat.
//
// NOTE: Flow Service documents 429 for no endpoint, but the gateway of other
// Platform APIs uses it for rate limits, so it is retried. 500 is retried
// too, because the Platform troubleshooting guide states that a 500 may mean
// API limits were hit and the Flow Service error catalog marks its 1102-500
// internal error as "try again".
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests,
		http.StatusInternalServerError,
		http.StatusBadGateway,
		http.StatusServiceUnavailable,
		http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff returns the full-jitter delay before retry n (1 for the first):
// a uniform random duration in [0, min(maxDelay, base*2^(n-1))]. Full jitter
// spreads the retries of parallel workers that failed together.
func backoff(n int, base, maxDelay time.Duration) time.Duration {
	ceiling := maxDelay
	if n >= 1 && n <= 32 {
		if d := base << (n - 1); d > 0 && d < maxDelay {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads a Retry-After header value, either delay seconds or
// an HTTP date. It reports false for a missing or malformed value.
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds < 0 {
			return 0, false
		}
		if seconds > int64(maxRetryAfter/time.Second)+1 {
			// Avoid overflowing time.Duration. Any value past the limit
			// is treated alike.
			seconds = int64(maxRetryAfter/time.Second) + 1
		}
		return time.Duration(seconds) * time.Second, true
	}
	date, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(date.Sub(now), 0), true
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// exceedsDeadline reports whether waiting d would run past ctx's deadline, in
// which case there is no point in waiting before failing.
func exceedsDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Now().Add(d).After(deadline)
}
