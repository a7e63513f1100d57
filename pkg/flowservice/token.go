package flowservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// TokenSource supplies access tokens.
type TokenSource interface {
	// Token returns a valid access token, fetching one if needed.
	Token(ctx context.Context) (string, error)
	// Invalidate drops a cached token after the server rejected it with 401.
	Invalidate(token string)
}

// StaticToken returns a TokenSource that always returns token, for example
// one copied from the Developer Console. Invalidate does nothing, so a
// rejected static token fails the call. Printing or logging the source shows
// no token.
func StaticToken(token string) TokenSource {
	return staticToken{token: token}
}

type staticToken struct{ token string }

func (s staticToken) Token(context.Context) (string, error) {
	if s.token == "" {
		return "", errors.New("get access token: the static access token is empty")
	}
	return s.token, nil
}

func (staticToken) Invalidate(string) {}

func (staticToken) String() string         { return "flowservice.StaticToken([REDACTED])" }
func (s staticToken) GoString() string     { return s.String() }
func (s staticToken) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s staticToken) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), s.GoString())
}

// imsTokenPath is the OAuth server-to-server token endpoint of Adobe IMS.
const imsTokenPath = "/ims/token/v3"

const (
	// imsMaxRetries bounds retries of a token request that failed with a
	// connection error, 429 or 5xx. Minting a token has no side effect, so
	// every token request is safe to repeat.
	imsMaxRetries = 3
	imsMaxBackoff = 5 * time.Second

	// imsFetchTimeout bounds one token fetch with its retries. The fetch
	// runs detached from the caller's context, because callers waiting on
	// the same fetch must not fail when the first caller gives up.
	imsFetchTimeout = 2 * time.Minute

	// maxTokenResponseBytes bounds the token response read into memory.
	maxTokenResponseBytes = 1 << 20

	// maxTokenLifetime caps expires_in (seconds) far above the documented
	// 24 hours, so that a bogus value cannot overflow a time.Duration.
	maxTokenLifetime = 365 * 24 * 60 * 60
)

// defaultIMSScopes are the scopes of Experience Platform's configuration
// samples for OAuth server-to-server credentials. The exact list of a
// credential is on its Developer Console page.
var defaultIMSScopes = []string{
	"openid", "AdobeID", "read_organizations", "additional_info.projectedProductContext", "session",
}

// IMSConfig configures an Adobe IMS OAuth server-to-server token source.
type IMSConfig struct {
	// BaseURL is the IMS host, such as https://ims-na1.adobelogin.com.
	// Plain http:// is accepted only for loopback hosts.
	BaseURL      string
	ClientID     string // the API key of the Developer Console project
	ClientSecret string
	// Scopes are sent comma-separated. Empty means openid, AdobeID,
	// read_organizations, additional_info.projectedProductContext and
	// session, the scopes of an Experience Platform credential.
	Scopes []string
	// HTTPClient sends the token requests, with the same loopback rule for
	// a plain http:// BaseURL as [Config.HTTPClient]. Nil means a client
	// with a 60 s request timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger // debug logging of token requests, discarded when nil
}

// String describes the configuration without the client id, which is the
// API key, without the client secret, and with the base URL shown without
// user info and query.
func (c IMSConfig) String() string {
	return fmt.Sprintf("IMSConfig{BaseURL: %q, ClientID: [REDACTED], ClientSecret: [REDACTED], Scopes: %q}",
		displayRawURL(c.BaseURL), c.Scopes)
}

// GoString is like String, so that %#v does not print the credentials either.
func (c IMSConfig) GoString() string { return c.String() }

// LogValue keeps the credentials out of structured logs.
func (c IMSConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Format prints String for every verb, so that none prints the credentials.
func (c IMSConfig) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String(), c.GoString()) }

// MarshalJSON encodes the settings under their Go names, with the client id
// and secret redacted and the base URL without user info and query. The HTTP
// client and the logger are left out.
func (c IMSConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		BaseURL      string
		ClientID     string
		ClientSecret string
		Scopes       []string
	}{displayRawURL(c.BaseURL), redactedUnlessEmpty(c.ClientID), redactedUnlessEmpty(c.ClientSecret), c.Scopes})
}

// NewIMSTokenSource returns a TokenSource that requests access tokens from
// {BaseURL}/ims/token/v3 with the client_credentials grant. It fetches a
// token on first use, caches it, and fetches a new one shortly before it
// expires or after Invalidate. Concurrent callers share one request. It is
// safe for concurrent use, and printing or logging it shows no secret.
func NewIMSTokenSource(cfg IMSConfig) (TokenSource, error) {
	var problems []error
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		problems = append(problems, fmt.Errorf("IMS base URL: %w", err))
	}
	if cfg.ClientID == "" {
		problems = append(problems, errors.New("missing client id"))
	}
	if cfg.ClientSecret == "" {
		problems = append(problems, errors.New("missing client secret"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("configure IMS token source: %w", errors.Join(problems...))
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = defaultIMSScopes
	}
	logger := discardLogger(cfg.Logger)
	return &imsTokenSource{
		cfg:      cfg,
		endpoint: joinPath(base, imsTokenPath).String(),
		http:     wrapHTTPClient(cfg.HTTPClient, logger, base.Scheme == "http"),
		logger:   logger,
		now:      time.Now,
	}, nil
}

type imsTokenSource struct {
	cfg      IMSConfig
	endpoint string
	http     *http.Client
	logger   *slog.Logger
	now      func() time.Time // replaced in tests
	fetches  singleflight.Group

	mu        sync.Mutex
	token     string
	refreshAt time.Time // when to fetch a new token
	expiry    time.Time // when the cached token stops working
}

func (s *imsTokenSource) String() string {
	return "flowservice.IMSTokenSource(" + displayRawURL(s.endpoint) + ")"
}

func (s *imsTokenSource) GoString() string     { return s.String() }
func (s *imsTokenSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s *imsTokenSource) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), s.GoString())
}

// Token returns the cached token or fetches a new one. If a refresh before
// expiry fails, it returns the cached token while that still works.
func (s *imsTokenSource) Token(ctx context.Context) (string, error) {
	token, expiry, fresh := s.cached()
	if fresh {
		return token, nil
	}

	result := s.fetches.DoChan("token", func() (any, error) {
		// A fetch that finished between the check above and this call
		// has cached a token already.
		if token, _, fresh := s.cached(); fresh {
			return token, nil
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), imsFetchTimeout)
		defer cancel()
		return s.fetch(ctx)
	})
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("get access token: %w", ctx.Err())
	case r := <-result:
		if r.Err == nil {
			return r.Val.(string), nil
		}
		if token != "" && s.now().Before(expiry) {
			s.logger.Warn("refreshing the access token failed; using the cached token until it expires",
				slog.Time("expiry", expiry), slog.String("error", r.Err.Error()))
			return token, nil
		}
		return "", r.Err
	}
}

// cached returns the cached token, its expiry, and whether it is fresh: not
// yet due for a refresh.
func (s *imsTokenSource) cached() (token string, expiry time.Time, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, s.expiry, s.token != "" && s.now().Before(s.refreshAt)
}

// Invalidate drops token from the cache if it is still the cached one, so
// that a 401 for an old token does not discard a newer one.
func (s *imsTokenSource) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token = ""
		s.refreshAt = time.Time{}
		s.expiry = time.Time{}
	}
}

// fetch requests a token, retrying transient failures, and caches it.
func (s *imsTokenSource) fetch(ctx context.Context) (string, error) {
	for retry := 0; ; retry++ {
		fetchedAt := s.now()
		token, lifetime, retryAfter, err := s.request(ctx)
		if err == nil {
			s.store(token, fetchedAt, lifetime)
			return token, nil
		}
		if !retryAfter.retryable || retry >= imsMaxRetries {
			return "", fmt.Errorf("get access token: %w", err)
		}
		delay := max(backoff(retry+1, baseBackoff, imsMaxBackoff), retryAfter.delay)
		if retryAfter.delay > maxRetryAfter || exceedsDeadline(ctx, delay) {
			return "", fmt.Errorf("get access token: %w", err)
		}
		s.logger.Info("retrying access token request",
			slog.Duration("delay", delay), slog.String("error", err.Error()))
		if sleepErr := sleep(ctx, delay); sleepErr != nil {
			return "", fmt.Errorf("get access token: %w (after %v)", sleepErr, err)
		}
	}
}

// store caches token. The token is replaced a margin before it expires (a
// tenth of its lifetime, at most five minutes), so that a request never
// starts with a token about to lapse.
//
// NOTE: the documentation always shows expires_in. A response without it
// (or with zero) yields a token that is used once and then fetched again.
func (s *imsTokenSource) store(token string, fetchedAt time.Time, lifetime time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
	s.expiry = fetchedAt.Add(lifetime)
	s.refreshAt = s.expiry.Add(-min(5*time.Minute, lifetime/10))
	s.logger.Debug("fetched access token", slog.Duration("expires_in", lifetime))
}

// retryHint records whether a failed token request is worth retrying and the
// delay that the server requested with Retry-After.
type retryHint struct {
	retryable bool
	delay     time.Duration
}

// rejectedCredentials are the OAuth 2.0 error codes (RFC 6749, section 5.2)
// that mean the client id or secret was not accepted.
var rejectedCredentials = map[string]bool{"invalid_client": true, "unauthorized_client": true}

// tokenResponse is the IMS response. Its expires_in is in seconds for the
// client_credentials grant (the retired JWT exchange used milliseconds).
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// request sends one token request.
func (s *imsTokenSource) request(ctx context.Context) (string, time.Duration, retryHint, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.cfg.ClientID},
		"client_secret": {s.cfg.ClientSecret},
		"scope":         {strings.Join(s.cfg.Scopes, ",")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, retryHint{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := s.http.Do(req)
	if err != nil {
		hint := retryHint{retryable: retryableTransportError(err)}
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return "", 0, hint, fmt.Errorf("POST %s: %w", imsTokenPath, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes))
	if err != nil {
		return "", 0, retryHint{retryable: true}, fmt.Errorf("POST %s: read response: %w", imsTokenPath, err)
	}
	if resp.StatusCode != http.StatusOK {
		hint := retryHint{retryable: retryableStatus(resp.StatusCode)}
		hint.delay, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		secrets := redactor{s.cfg.ClientSecret, publicID(s.cfg.ClientID)}
		apiErr := newError(http.MethodPost, imsTokenPath, resp.StatusCode, resp.Header, body, secrets)
		if resp.StatusCode == http.StatusBadRequest && rejectedCredentials[apiErr.Code] {
			// RFC 6749 allows 400 for rejected client credentials, and
			// callers test for those with ErrUnauthorized.
			return "", 0, hint, fmt.Errorf("%w: %w", ErrUnauthorized, apiErr)
		}
		return "", 0, hint, apiErr
	}

	// The body contains the token, so no decoding error quotes it.
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", 0, retryHint{}, fmt.Errorf("POST %s: response is not a token response", imsTokenPath)
	}
	if tr.AccessToken == "" {
		return "", 0, retryHint{}, fmt.Errorf("POST %s: response has no access_token", imsTokenPath)
	}
	seconds, err := strconv.ParseInt(strings.Trim(string(tr.ExpiresIn), `"`), 10, 64)
	switch {
	case err != nil || seconds < 0:
		seconds = 0
	case seconds > maxTokenLifetime:
		seconds = maxTokenLifetime
	}
	return tr.AccessToken, time.Duration(seconds) * time.Second, retryHint{}, nil
}
