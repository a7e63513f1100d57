package flowservice

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Config configures a [Client].
type Config struct {
	// Endpoint is the gateway base URL, such as https://platform.adobe.io.
	// Plain http:// is accepted only for loopback hosts.
	Endpoint string
	APIKey   string
	OrgID    string
	Sandbox  string
	Token    TokenSource

	HTTPClient *http.Client  // nil means a client with sane timeouts
	RateLimit  float64       // requests per second; 0 means no limit
	MaxRetries int           // retries of a retryable failure; 0 means the default
	MaxBackoff time.Duration // cap of the exponential backoff; 0 means the default
	Logger     *slog.Logger  // debug logging of requests; nil discards
}

// Client calls the Flow Service API. It is safe for concurrent use.
type Client struct {
	cfg Config
}

// New returns a client for cfg, or an error if cfg is invalid (for example
// an http:// endpoint on a non-loopback host).
func New(cfg Config) (*Client, error) { panic("not implemented") }

// CreateConnection creates a base connection. It is never retried after the
// request may have reached the server; an ambiguous failure wraps
// [ErrOutcomeUnknown].
func (c *Client) CreateConnection(ctx context.Context, in ConnectionInput) (Ref, error) {
	panic("not implemented")
}

// GetConnection returns one connection; an unknown id wraps [ErrNotFound].
func (c *Client) GetConnection(ctx context.Context, id string) (*Connection, error) {
	panic("not implemented")
}

// ListConnections returns every connection matching opts, following
// continuation links across pages.
func (c *Client) ListConnections(ctx context.Context, opts ListOptions) ([]Connection, error) {
	panic("not implemented")
}

// FindConnectionsByName returns the connections whose name is exactly name.
func (c *Client) FindConnectionsByName(ctx context.Context, name string) ([]Connection, error) {
	panic("not implemented")
}

// PatchConnection applies ops with If-Match: ifMatch; a stale etag wraps
// [ErrPreconditionFailed].
func (c *Client) PatchConnection(ctx context.Context, id, ifMatch string, ops []PatchOp) (Ref, error) {
	panic("not implemented")
}

// DeleteConnection deletes a connection; an unknown id wraps [ErrNotFound].
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	panic("not implemented")
}

// GetConnectionSpec returns one connection spec; an unknown id wraps [ErrNotFound].
func (c *Client) GetConnectionSpec(ctx context.Context, id string) (*ConnectionSpec, error) {
	panic("not implemented")
}

// ListConnectionSpecs returns the connection specs matching the property filters.
func (c *Client) ListConnectionSpecs(ctx context.Context, properties ...string) ([]ConnectionSpec, error) {
	panic("not implemented")
}
