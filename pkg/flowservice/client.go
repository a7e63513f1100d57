package flowservice

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a [Client].
type Config struct {
	// Endpoint is the gateway base URL, such as https://platform.adobe.io.
	// Plain http:// is accepted only for loopback hosts. The client calls
	// Endpoint + "/data/foundation/flowservice".
	Endpoint string
	APIKey   string // sent as x-api-key
	OrgID    string // sent as x-gw-ims-org-id
	Sandbox  string // sent as x-sandbox-name, [DefaultSandbox] when empty
	Token    TokenSource

	// HTTPClient sends the requests. Nil means a client with a 60 s
	// request timeout. For a plain http:// endpoint the client connects
	// only to loopback addresses, whatever the host name resolves to, and
	// never through a proxy. A supplied client keeps that guarantee only if
	// its Transport is nil or an *http.Transport, which is then copied with
	// the check added. Any other Transport relies on the endpoint's host
	// being loopback.
	HTTPClient *http.Client
	RateLimit  float64       // requests per second, 0 for no limit
	MaxRetries int           // maximum retries of a retryable failure: 0 means 5, negative means none
	MaxBackoff time.Duration // maximum exponential backoff delay, 0 for 30 s
	Logger     *slog.Logger  // debug logging of requests, discarded when nil
}

// String describes the configuration without the API key, and the endpoint
// without user info and query. The token source prints itself, and the
// token sources of this package show no token.
func (c Config) String() string {
	return fmt.Sprintf("Config{Endpoint: %q, APIKey: [REDACTED], OrgID: %q, Sandbox: %q, Token: %v, "+
		"RateLimit: %g, MaxRetries: %d, MaxBackoff: %v}",
		displayRawURL(c.Endpoint), c.OrgID, c.Sandbox, c.Token, c.RateLimit, c.MaxRetries, c.MaxBackoff)
}

// GoString is like String, so that %#v does not print the API key either.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the API key out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Format prints String for every verb, so that none prints the API key.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String(), c.GoString()) }

// MarshalJSON encodes the settings under their Go names, with the API key
// redacted, the endpoint without user info and query, and the token source
// as it prints itself. The HTTP client and the logger are left out.
func (c Config) MarshalJSON() ([]byte, error) {
	var token string
	if c.Token != nil {
		token = fmt.Sprint(c.Token)
	}
	return json.Marshal(struct {
		Endpoint   string
		APIKey     string
		OrgID      string
		Sandbox    string
		Token      string
		RateLimit  float64
		MaxRetries int
		MaxBackoff time.Duration
	}{
		displayRawURL(c.Endpoint), redactedUnlessEmpty(c.APIKey), c.OrgID, c.Sandbox, token,
		c.RateLimit, c.MaxRetries, c.MaxBackoff,
	})
}

// DefaultSandbox is the sandbox that the client names when Config.Sandbox is
// empty. Without the header the service would pick the organization's
// default production sandbox, which need not be called prod, so the client
// always sends one.
const DefaultSandbox = "prod"

// defaultTimeout bounds one HTTP exchange, including reading the body, in
// the default HTTP client. List pages and creates finish in seconds, and a
// hung connection must not hang the command.
const defaultTimeout = 60 * time.Second

// Client calls the Flow Service API. It is safe for concurrent use.
type Client struct {
	cfg      Config
	base     *url.URL // Endpoint + basePath
	http     *http.Client
	limiter  *rate.Limiter
	logger   *slog.Logger
	retries  int
	maxDelay time.Duration
	stats    counters

	listLimits listLimits
}

// Stats counts a client's traffic since it was created.
type Stats struct {
	Requests       int64 // HTTP requests attempted, retries included
	Retries        int64 // requests repeated after a retryable failure
	Throttled      int64 // 429 responses
	TokenRefreshes int64 // 401 responses after which the token was fetched again
}

type counters struct {
	requests, retries, throttled, tokenRefreshes atomic.Int64
}

// New returns a client for cfg, or an error listing every problem with cfg
// (for example an http:// endpoint on a non-loopback host).
func New(cfg Config) (*Client, error) {
	var problems []error
	endpoint, err := parseBaseURL(cfg.Endpoint)
	if err != nil {
		problems = append(problems, fmt.Errorf("endpoint: %w", err))
	}
	if cfg.APIKey == "" {
		problems = append(problems, errors.New("missing API key"))
	}
	if cfg.OrgID == "" {
		problems = append(problems, errors.New("missing organization id"))
	}
	if cfg.Token == nil {
		problems = append(problems, errors.New("missing token source"))
	}
	if cfg.RateLimit < 0 {
		problems = append(problems, fmt.Errorf("invalid rate limit %g: must not be negative", cfg.RateLimit))
	}
	if cfg.MaxBackoff < 0 {
		problems = append(problems, fmt.Errorf("invalid maximum backoff %v: must not be negative", cfg.MaxBackoff))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("configure flow service client: %w", errors.Join(problems...))
	}

	if cfg.Sandbox == "" {
		cfg.Sandbox = DefaultSandbox
	}
	c := &Client{
		cfg:      cfg,
		base:     joinPath(endpoint, basePath),
		logger:   discardLogger(cfg.Logger),
		retries:  cfg.MaxRetries,
		maxDelay: cfg.MaxBackoff,
		limiter:  rate.NewLimiter(rate.Inf, 1),

		listLimits: listLimits{items: defaultMaxListItems, bytes: defaultMaxListBytes},
	}
	c.http = wrapHTTPClient(cfg.HTTPClient, c.logger, endpoint.Scheme == "http")
	switch {
	case cfg.MaxRetries == 0:
		c.retries = defaultMaxRetries
	case cfg.MaxRetries < 0:
		c.retries = 0
	}
	if c.maxDelay == 0 {
		c.maxDelay = defaultMaxBackoff
	}
	if cfg.RateLimit > 0 {
		// A burst of one spreads requests evenly, so that parallel workers
		// do not hit the server together at the start of each second.
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), 1)
	}
	return c, nil
}

// String names the client by its base URL, without credentials.
func (c *Client) String() string { return "flowservice.Client(" + displayURL(c.base) + ")" }

// GoString is like String, so that %#v does not print the configuration.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so that none prints the
// configuration, which contains the API key.
func (c *Client) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String(), c.GoString()) }

// LogValue keeps the configuration out of structured logs.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Stats returns the client's counters. It is safe to call concurrently with
// requests in flight.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:       c.stats.requests.Load(),
		Retries:        c.stats.retries.Load(),
		Throttled:      c.stats.throttled.Load(),
		TokenRefreshes: c.stats.tokenRefreshes.Load(),
	}
}
