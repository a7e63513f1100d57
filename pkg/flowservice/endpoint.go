package flowservice

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// basePath is the path prefix of the Flow Service API on the gateway.
const basePath = "/data/foundation/flowservice"

// parseBaseURL parses a gateway or IMS base URL and enforces the transport
// rule: https:// for every host, plain http:// only for loopback (127.0.0.0/8,
// ::1 and the name localhost), because a request carries a bearer token and
// the API key. The returned URL has no trailing slash.
func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("missing URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("invalid URL %q: scheme must be https (or http for a loopback host)", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("invalid URL %q: missing host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("invalid URL %q: credentials in the URL are not supported", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("invalid URL %q: a base URL takes no query or fragment", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("invalid URL %q: plain http is allowed only for loopback hosts; use https", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// isLoopback reports whether host is the name localhost or a loopback IP
// address. Other names are not resolved: a name that resolves to a loopback
// address today may not tomorrow.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// joinPath returns base with suffix, which starts with a slash, appended to
// its path. Unlike [url.URL.JoinPath] it keeps the path absolute when base
// has an empty path.
func joinPath(base *url.URL, suffix string) *url.URL {
	u := *base
	u.Path += suffix
	if u.RawPath != "" {
		u.RawPath += suffix
	}
	return &u
}
