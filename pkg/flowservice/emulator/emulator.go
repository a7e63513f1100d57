package emulator

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// BasePath is the path prefix of the Flow Service API, as on
// platform.adobe.io.
const BasePath = "/data/foundation/flowservice"

// TokenPath is the path of the Adobe IMS OAuth server-to-server token
// endpoint.
const TokenPath = "/ims/token/v3"

// Paths of the emulator's own endpoints, outside the emulated API. They need
// no credentials and see no injected faults.
const (
	StatsPath      = "/emulator/stats"
	StatsResetPath = "/emulator/stats/reset"
)

// Defaults of [Options] fields left zero.
const (
	// NOTE: the service's default and maximum page sizes for GET
	// /connections are undocumented. 20 is the default of the aepp Python
	// wrapper, and 1000 is the documented cap of /connections/search.
	DefaultPageSize = 20
	MaxPageSize     = 1000

	// DefaultTokenTTL matches the expires_in of the documented IMS
	// response, 86399 seconds.
	DefaultTokenTTL = 86399 * time.Second

	// DefaultVerifyTimeout bounds the database connect of the test and
	// explore endpoints.
	DefaultVerifyTimeout = 5 * time.Second
)

// Options configures an [Emulator]. The zero value is an in-memory emulator
// without faults that accepts any non-empty token.
type Options struct {
	Token     string // when set, only this access token and tokens minted by TokenPath are accepted
	APIKey    string // when set, only this x-api-key is accepted (403003 otherwise)
	StatePath string // when set, state persists in this file (atomic writes)
	Seed      int64  // seeds every random choice, for reproducible faults

	Latency          time.Duration // added to every API request
	LatencyJitter    time.Duration // uniform extra latency in [0, LatencyJitter)
	RateLimit        float64       // requests per second before responding with 429, 0 for no limit
	RateBurst        int           // token bucket size, 0 for RateLimit rounded up
	RetryAfter       time.Duration // Retry-After of a 429, rounded up to seconds: 0 computes it from the bucket, negative omits the header
	ErrorRate        float64       // fraction of requests that fail with 500 or 503 before any effect
	LostResponseRate float64       // fraction of successful writes whose response is dropped

	TokenTTL     time.Duration // lifetime of tokens minted by TokenPath, 0 for DefaultTokenTTL
	ClientID     string        // when set, TokenPath accepts only this client_id
	ClientSecret string        // when set, TokenPath accepts only this client_secret

	PageSize      int           // default page size of GET /connections, 0 for DefaultPageSize
	StrictSandbox bool          // reject requests without x-sandbox-name (2105-400) instead of using "prod"
	OmitSecrets   bool          // leave secret params out of GET responses instead of masking them as "***"
	VerifyTimeout time.Duration // bounds the database connect of /test and /explore, 0 for DefaultVerifyTimeout

	Clock  func() time.Time // drives timestamps, token expiry and the rate limit, time.Now when nil
	Logger *slog.Logger     // discarded when nil
}

func (o *Options) validate() error {
	var problems []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	check(o.Latency >= 0, "latency %v is negative", o.Latency)
	check(o.LatencyJitter >= 0, "latency jitter %v is negative", o.LatencyJitter)
	check(o.RateLimit >= 0, "rate limit %v is negative", o.RateLimit)
	check(o.RateBurst >= 0, "rate burst %d is negative", o.RateBurst)
	check(o.ErrorRate >= 0 && o.ErrorRate <= 1, "error rate %v is outside [0, 1]", o.ErrorRate)
	check(o.LostResponseRate >= 0 && o.LostResponseRate <= 1,
		"lost response rate %v is outside [0, 1]", o.LostResponseRate)
	check(o.TokenTTL >= 0, "token TTL %v is negative", o.TokenTTL)
	check(o.PageSize >= 0 && o.PageSize <= MaxPageSize, "page size %d is outside [0, %d]", o.PageSize, MaxPageSize)
	check(o.VerifyTimeout >= 0, "verify timeout %v is negative", o.VerifyTimeout)
	if len(problems) > 0 {
		return errors.New("invalid emulator options: " + strings.Join(problems, "; "))
	}
	return nil
}

// Emulator is an [http.Handler] serving the emulated Flow Service API, the
// IMS token endpoint and the emulator's statistics. It is safe for
// concurrent use.
type Emulator struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	specs  *specCatalog
	store  *store
	state  *stateFile // nil when state lives in memory only
	faults *faults
	tokens *tokenStore
	stats  *statsCounter

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New returns an emulator. With opts.StatePath set, it locks the state file
// against other emulators and loads it if it exists. Call [Emulator.Close]
// to release it. It returns an error for invalid options, an unreadable
// state file or a state file locked by another emulator.
func New(opts Options) (*Emulator, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.PageSize == 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.VerifyTimeout == 0 {
		opts.VerifyTimeout = DefaultVerifyTimeout
	}
	e := &Emulator{opts: opts, log: opts.Logger, now: opts.Clock}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}

	specs, err := loadSpecs()
	if err != nil {
		return nil, err
	}
	e.specs = specs

	var conns []*connection
	if opts.StatePath != "" {
		e.state, conns, err = openState(opts.StatePath)
		if err != nil {
			return nil, err
		}
	}
	e.store = newStore(conns)
	e.faults = newFaults(opts, e.now)
	e.tokens = newTokenStore()
	e.stats = newStatsCounter()
	e.log.Debug("emulator started", "connections", len(conns), "state", opts.StatePath)
	return e, nil
}

// Close writes any unsaved state and releases the state file. Call it after
// the server has stopped, because a change made by a request still in
// flight may be missing from the file. Requests served after Close fail
// with 503. Close is idempotent.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		if e.state == nil {
			return
		}
		_, seq := e.store.snapshot()
		e.closeErr = errors.Join(e.state.save(e.store, seq), e.state.close())
	})
	return e.closeErr
}

// ServeHTTP implements [http.Handler]. Every response carries an
// x-request-id header. When a lost response is injected it hijacks and
// closes the connection, or panics with [http.ErrAbortHandler] when w
// cannot be hijacked, as over HTTP/2.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.URL.Path == StatsPath || r.URL.Path == StatsResetPath {
		e.serveStats(w, r)
		return
	}

	rq := &request{id: uuid.NewString()}
	resp := newBufferedResponse()
	resp.Header().Set("x-request-id", rq.id)
	lost := false
	switch {
	case e.closed.Load():
		e.fail(resp, rq, errUnavailable())
	case r.URL.Path == TokenPath:
		e.serveToken(resp, r, rq)
	case r.URL.Path == BasePath || strings.HasPrefix(r.URL.Path, BasePath+"/"):
		lost = e.serveFlow(resp, r, rq)
	default:
		e.fail(resp, rq, errRouteNotFound())
	}

	e.stats.record(r.Method, resp.status, lost)
	e.log.Debug("request",
		"method", r.Method,
		"path", r.URL.Path,
		"status", resp.status,
		"lost", lost,
		"duration", time.Since(start),
		"request_id", rq.id)
	if lost {
		e.log.Info("response dropped after commit", "method", r.Method, "path", r.URL.Path,
			"status", resp.status, "request_id", rq.id)
		dropConnection(w)
		return
	}
	resp.writeTo(w)
}

// request is the state that handlers share about one request, beyond the
// [http.Request].
type request struct {
	id     string // x-request-id
	scope  scope
	client string // x-api-key, recorded as createdClient
}

// errRouteNotFound is the error for a path the emulator does not serve.
// NOTE: the real gateway's response for an unknown path is undocumented.
func errRouteNotFound() *apiError {
	return newError("1101-404", "Resource not found", "The requested resource is not found.")
}

// fail writes a Flow Service error body and logs it.
func (e *Emulator) fail(w http.ResponseWriter, rq *request, err *apiError) {
	e.log.Info("request failed", "code", err.code, "title", err.title, "request_id", rq.id)
	writeJSON(w, err.status, err.body(rq.id))
}

// failGateway writes a gateway error body and logs it.
func (e *Emulator) failGateway(w http.ResponseWriter, rq *request, err gatewayError) {
	e.log.Info("request rejected by gateway check", "error_code", err.ErrorCode, "request_id", rq.id)
	writeJSON(w, err.status, err)
}
