package flowservice

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// loggingTransport logs each HTTP exchange at debug level: method, URL
// without user info and query (which contains continuation tokens), status,
// duration until the response headers arrived, request id and attempt
// number. It never logs header values or bodies, which carry the access
// token, the API key, client secrets and auth params.
type loggingTransport struct {
	base   http.RoundTripper
	logger *slog.Logger
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !t.logger.Enabled(ctx, slog.LevelDebug) {
		return t.base.RoundTrip(req)
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("url", displayURL(req.URL)),
		slog.Duration("duration", time.Since(start)),
	}
	if n := attemptFrom(ctx); n > 0 {
		attrs = append(attrs, slog.Int("attempt", n))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
		if id := resp.Header.Get("x-request-id"); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	t.logger.LogAttrs(ctx, slog.LevelDebug, "http request", attrs...)
	return resp, err
}

type attemptKey struct{}

// withAttempt records the attempt number of a request for the log.
func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

func attemptFrom(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// discardLogger returns logger, or a logger that drops everything if it is nil.
func discardLogger(logger *slog.Logger) *slog.Logger {
	if logger != nil {
		return logger
	}
	return slog.New(slog.DiscardHandler)
}
