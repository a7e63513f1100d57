package flowservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"
)

// errNonLoopback is the cause of a plain-HTTP connection rejected because
// the address it would reach is not a loopback address.
var errNonLoopback = errors.New("plain http connection rejected")

// defaultHTTPClient returns the HTTP client used when the configuration
// provides none. With loopbackOnly, for a plain http:// URL, its dialer
// connects only to loopback addresses.
func defaultHTTPClient(loopbackOnly bool) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Parallel applies call one host, so keep enough idle connections for
	// them to be reused instead of redialled (the standard default is 2).
	transport.MaxIdleConns = 128
	transport.MaxIdleConnsPerHost = 64
	if loopbackOnly {
		transport.DialContext = loopbackDialer().DialContext
	}
	return &http.Client{Transport: transport, Timeout: defaultTimeout}
}

// wrapHTTPClient returns a shallow copy of hc (or of a default client) that
// logs through logger and does not follow redirects. The Flow Service API
// documents no redirects, and following one could carry the API key to
// another host, because only Authorization is dropped on a cross-host
// redirect.
//
// With loopbackOnly, which a plain http:// URL requires, an *http.Transport
// (or a nil Transport, which means [http.DefaultTransport]) is replaced with
// a copy that connects only to loopback addresses. The URL check accepts the
// name localhost, which resolves through /etc/hosts or DNS, so the check on
// the address is what keeps the token on the machine. Other RoundTrippers
// cannot be checked and rely on the URL check alone.
func wrapHTTPClient(hc *http.Client, logger *slog.Logger, loopbackOnly bool) *http.Client {
	if hc == nil {
		hc = defaultHTTPClient(loopbackOnly)
	}
	wrapped := *hc
	base := wrapped.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if t, ok := base.(*http.Transport); ok && loopbackOnly {
		base = restrictToLoopback(t)
	}
	wrapped.Transport = &loggingTransport{base: base, logger: logger}
	wrapped.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	return &wrapped
}

// loopbackDialer returns a dialer that connects only to loopback addresses.
// Its Control hook runs after name resolution and before the connection
// attempt, so nothing is sent to an address that is not loopback.
func loopbackDialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			return checkLoopbackAddress(address)
		},
	}
}

// restrictToLoopback returns a copy of t that uses no proxy and closes every
// new connection whose remote address is not loopback, before the request
// is written to it. The copy does not share t's idle connections.
func restrictToLoopback(t *http.Transport) *http.Transport {
	t = t.Clone()
	dial := t.DialContext
	if dial == nil && t.Dial != nil {
		legacy := t.Dial
		dial = func(_ context.Context, network, address string) (net.Conn, error) {
			return legacy(network, address)
		}
	}
	if dial == nil {
		dial = loopbackDialer().DialContext
	}
	t.Dial = nil
	t.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		var remote string
		if addr := conn.RemoteAddr(); addr != nil {
			remote = addr.String()
		}
		if err := checkLoopbackAddress(remote); err != nil {
			conn.Close()
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		return conn, nil
	}
	// A proxy would be the address checked, not the server behind it.
	t.Proxy = nil
	return t
}

// checkLoopbackAddress returns an error that wraps errNonLoopback unless
// address is a host:port whose host is a loopback IP address.
func checkLoopbackAddress(address string) error {
	host, _, err := net.SplitHostPort(address)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q is not a loopback address; use https", errNonLoopback, address)
}
