package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// tokenStore remembers the access tokens that the emulator minted, with
// their expiry, so that an expired token is rejected and a client's refresh
// logic can be tested.
type tokenStore struct {
	mu     sync.Mutex
	expiry map[string]time.Time
}

func newTokenStore() *tokenStore {
	return &tokenStore{expiry: map[string]time.Time{}}
}

func (s *tokenStore) add(token string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiry[token] = expires
}

// accept reports whether token may call the API at time now. A token the
// emulator minted is valid until it expires. Any other token is valid when
// no static token is configured, or when it equals the static token.
func (s *tokenStore) accept(token, static string, now time.Time) bool {
	s.mu.Lock()
	expires, minted := s.expiry[token]
	s.mu.Unlock()
	if minted {
		return now.Before(expires)
	}
	return static == "" || token == static
}

// tokenResponse is the documented IMS client_credentials response.
// expires_in is in seconds.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// oauthError is the error body of the token endpoint. NOTE: the IMS error
// body is undocumented, so this is the OAuth 2.0 shape of RFC 6749 section
// 5.2.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// serveToken serves POST /ims/token/v3 with grant_type=client_credentials.
// Parameters are read from the form body or, as IMS also allows, from the
// query string.
func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request, rq *request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		e.failToken(w, rq, http.StatusMethodNotAllowed, "invalid_request", "method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		e.failToken(w, rq, http.StatusBadRequest, "invalid_request", "invalid form body")
		return
	}
	if grant := r.Form.Get("grant_type"); grant != "client_credentials" {
		e.failToken(w, rq, http.StatusBadRequest, "unsupported_grant_type",
			"grant_type must be client_credentials")
		return
	}
	clientID, secret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	if clientID == "" || secret == "" {
		e.failToken(w, rq, http.StatusBadRequest, "invalid_request",
			"missing client_id or client_secret parameter")
		return
	}
	if e.opts.ClientID != "" && clientID != e.opts.ClientID ||
		e.opts.ClientSecret != "" && secret != e.opts.ClientSecret {
		e.failToken(w, rq, http.StatusUnauthorized, "invalid_client", "invalid client credentials")
		return
	}

	now := e.now()
	token := mintToken(clientID, now, e.opts.TokenTTL)
	e.tokens.add(token, now.Add(e.opts.TokenTTL))
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: token,
		TokenType:   "bearer",
		ExpiresIn:   int64(e.opts.TokenTTL / time.Second),
	})
}

func (e *Emulator) failToken(w http.ResponseWriter, rq *request, status int, code, description string) {
	e.log.Info("token request failed", "error", code, "request_id", rq.id)
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

// mintToken returns a JWT-shaped access token. Like an IMS token, its
// payload carries created_at and expires_in in milliseconds as strings. Its
// signature is random bytes, because the emulator accepts a token by looking
// it up.
func mintToken(clientID string, now time.Time, ttl time.Duration) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	payload, _ := json.Marshal(map[string]string{
		"id":         uuid.NewString(),
		"type":       "access_token",
		"client_id":  clientID,
		"created_at": strconv.FormatInt(now.UnixMilli(), 10),
		"expires_in": strconv.FormatInt(ttl.Milliseconds(), 10),
	})
	signature := make([]byte, 32)
	rand.Read(signature)
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(signature)
}
