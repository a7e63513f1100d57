package flowservice

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

// maxResponseBytes bounds a response body read into memory. By estimate it
// leaves a wide margin. A list page contains at most 1,000 items (the
// documented cap of /connections/search, which the emulator applies too),
// and a connection item is about 1 KiB (the documented example is 850
// bytes), so a full page is about 1 MiB. The connection specs under
// schemas/ are 1 to 3 KiB each, and even at 30 KiB a thousand specs in one
// response fit.
const maxResponseBytes = 32 << 20

// request is one API call before it is sent.
type request struct {
	method  string
	path    string // escaped, below the base path, such as /connections/abc
	query   url.Values
	rawURL  string // when set, the absolute URL to call instead of path and query
	body    []byte // JSON, nil for no body
	ifMatch string
	secrets redactor // request values to keep out of error messages
}

// replaySafe reports whether sending the request twice has the same effect
// as sending it once. A create is not: a replay makes a second connection. A
// PATCH with If-Match is, because a replay after a success fails with 412
// instead of applying again.
func (r *request) replaySafe() bool {
	switch r.method {
	case http.MethodPost:
		return false
	case http.MethodPatch:
		return r.ifMatch != ""
	}
	return true
}

// isWrite reports whether the request may change server state.
func (r *request) isWrite() bool {
	return r.method != http.MethodGet && r.method != http.MethodHead
}

func (r *request) url(base *url.URL) string {
	if r.rawURL != "" {
		return r.rawURL
	}
	u := base.String() + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	return u
}

// response is a response read in full.
type response struct {
	status int
	header http.Header
	body   []byte
	// readErr is the error from reading the body of a 2xx response to a
	// request that is not safe to resend. The write took effect, so the
	// response is returned instead of an error that would invite a resend.
	readErr error
}

// do sends r, retrying what is safe to retry, and returns a 2xx response.
// Any other status becomes an *Error. A failure after a write may have taken
// effect wraps [ErrOutcomeUnknown].
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	target := r.url(c.base)
	var (
		ambiguous       bool // an earlier attempt of a write may have taken effect
		reauthenticated bool
		retries         int
	)
	for attempt := 1; ; attempt++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, c.interrupted(r, err, nil, ambiguous)
		}
		token, err := c.cfg.Token.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		secrets := append(redactor{token, publicID(c.cfg.APIKey)}, r.secrets...)

		res, sent, err := c.send(ctx, r, target, token, attempt)
		var failure error
		var retryAfter string
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, c.interrupted(r, ctx.Err(), nil, ambiguous || (sent && r.isWrite()))
		case err != nil:
			if sent && r.isWrite() {
				if !r.replaySafe() {
					return nil, c.transportError(r, err, true)
				}
				ambiguous = true
			}
			if !retryableTransportError(err) {
				return nil, c.transportError(r, err, ambiguous)
			}
			failure = c.transportError(r, err, ambiguous)
		case succeeded(res.status):
			return res, nil
		default:
			apiErr := newError(r.method, r.path, res.status, res.header, res.body, secrets)
			if res.status == http.StatusUnauthorized && !reauthenticated {
				// NOTE: a 401 comes from the gateway before the request
				// reaches Flow Service, so even a create is safe to resend.
				reauthenticated = true
				refreshed, err := c.refreshToken(ctx, token)
				if err != nil {
					return nil, fmt.Errorf("%w; fetch a new access token: %w", apiErr, err)
				}
				if refreshed {
					continue
				}
			}
			if res.status == http.StatusTooManyRequests {
				c.stats.throttled.Add(1)
			}
			// NOTE: a 429 is taken to mean the rate limiter rejected the
			// request before any processing, so even a create is resent.
			// The documentation is silent on this.
			switch {
			case !retryableStatus(res.status):
				apiErr.OutcomeUnknown = ambiguous
				return nil, apiErr
			case res.status == http.StatusTooManyRequests:
			case !r.replaySafe():
				apiErr.OutcomeUnknown = true
				return nil, apiErr
			case r.isWrite():
				ambiguous = true
			}
			apiErr.OutcomeUnknown = ambiguous
			failure = apiErr
			retryAfter = res.header.Get("Retry-After")
		}

		if retries >= c.retries {
			return nil, failure
		}
		retries++
		if err := c.pauseBeforeRetry(ctx, r, retries, failure, retryAfter, ambiguous); err != nil {
			return nil, err
		}
		c.stats.retries.Add(1)
	}
}

// pauseBeforeRetry waits before retry n of r: the backoff delay, or longer
// if the server requested it with Retry-After. It returns the error to give
// up with instead if that pause exceeds maxRetryAfter or the context's
// deadline, or if the context ends during the pause.
func (c *Client) pauseBeforeRetry(ctx context.Context, r *request, n int, failure error, retryAfter string, ambiguous bool) error {
	delay := backoff(n, min(baseBackoff, c.maxDelay), c.maxDelay)
	if wait, ok := parseRetryAfter(retryAfter, time.Now()); ok {
		if wait > maxRetryAfter {
			return failure
		}
		delay = max(delay, wait)
	}
	if exceedsDeadline(ctx, delay) {
		return failure
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "retrying request",
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("retry", n),
		slog.Duration("delay", delay),
		slog.String("error", failure.Error()))
	if err := sleep(ctx, delay); err != nil {
		return c.interrupted(r, err, failure, ambiguous)
	}
	return nil
}

// refreshToken drops a token that the server rejected and fetches another.
// It reports false if the token source returned the same token again, as a
// static token does, since resending it would fail the same way.
func (c *Client) refreshToken(ctx context.Context, rejected string) (bool, error) {
	c.cfg.Token.Invalidate(rejected)
	fresh, err := c.cfg.Token.Token(ctx)
	if err != nil {
		return false, err
	}
	if fresh == rejected {
		return false, nil
	}
	c.stats.tokenRefreshes.Add(1)
	c.logger.Info("access token rejected with 401; fetched a new one")
	return true, nil
}

// send sends one attempt and reads the whole response. It reports whether
// the request may have reached the server. That is false only when no
// connection was obtained (a dial or TLS handshake error) or writing the
// request failed, because the server then cannot have seen a whole request.
func (c *Client) send(ctx context.Context, r *request, target, token string, attempt int) (*response, bool, error) {
	var gotConn, writeFailed atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			writeFailed.Store(info.Err != nil)
		},
	}
	ctx = httptrace.WithClientTrace(withAttempt(ctx, attempt), trace)

	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, false, err
	}
	c.setHeaders(req.Header, r, token)

	c.stats.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, gotConn.Load() && !writeFailed.Load(), err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err == nil && len(data) > maxResponseBytes {
		err = fmt.Errorf("response body larger than %d bytes", maxResponseBytes)
	}
	res := &response{status: resp.StatusCode, header: resp.Header, body: data}
	if err != nil {
		if !succeeded(resp.StatusCode) || r.replaySafe() {
			return nil, true, err
		}
		res.body, res.readErr = nil, err
	}
	return res, true, nil
}

// succeeded reports whether status is 2xx.
func succeeded(status int) bool {
	return status >= 200 && status < 300
}

// setHeaders sets the headers that every Flow Service call carries. The
// sandbox header is always sent, because without it the service silently
// picks the default production sandbox.
func (c *Client) setHeaders(h http.Header, r *request, token string) {
	h.Set("Authorization", "Bearer "+token)
	h.Set("x-api-key", c.cfg.APIKey)
	h.Set("x-gw-ims-org-id", c.cfg.OrgID)
	h.Set("x-sandbox-name", c.cfg.Sandbox)
	h.Set("Accept", "application/json")
	if r.body != nil {
		h.Set("Content-Type", "application/json")
	}
	if r.ifMatch != "" {
		h.Set("If-Match", r.ifMatch)
	}
}

// retryableTransportError reports whether a failure to get a response is a
// connection problem worth retrying, as opposed to a certificate or protocol
// error, or a rejected non-loopback address, that would fail again the same
// way.
func retryableTransportError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var headerErr tls.RecordHeaderError
	if errors.As(err, &certErr) || errors.As(err, &headerErr) || errors.Is(err, errNonLoopback) {
		return false
	}
	// *url.Error implements net.Error itself, so look beneath it.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}

// transportError describes a request that got no response.
func (c *Client) transportError(r *request, err error, outcomeUnknown bool) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err // the URL is already known to the caller
	}
	if outcomeUnknown {
		return fmt.Errorf("%s %s: %w: request sent, response lost: %w", r.method, r.path, ErrOutcomeUnknown, err)
	}
	return fmt.Errorf("%s %s: %w", r.method, r.path, err)
}

// interrupted describes a call stopped by its context, keeping the failure
// that caused the last retry, if any.
func (c *Client) interrupted(r *request, ctxErr, last error, outcomeUnknown bool) error {
	var err error
	switch {
	case outcomeUnknown:
		err = fmt.Errorf("%s %s: %w: %w", r.method, r.path, ErrOutcomeUnknown, ctxErr)
	default:
		err = fmt.Errorf("%s %s: %w", r.method, r.path, ctxErr)
	}
	if last != nil {
		err = fmt.Errorf("%w (after %v)", err, last)
	}
	return err
}
