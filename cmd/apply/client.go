package main

import (
	"io"
	"log/slog"

	"github.com/apply-cli/apply/pkg/flowservice"
)

// newLogger returns a debug logger writing to stderr with -v, or one that
// discards everything.
func newLogger(stderr io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newClient returns a Flow Service client for t, authenticated with the
// access token, or through the IMS token exchange with the client id and
// secret. It sends no request.
func newClient(t target, c credentials, rateLimit float64, logger *slog.Logger) (*flowservice.Client, error) {
	tokens := flowservice.StaticToken(c.accessToken)
	if c.accessToken == "" {
		ims, err := flowservice.NewIMSTokenSource(flowservice.IMSConfig{
			BaseURL:      c.imsEndpoint,
			ClientID:     c.clientID,
			ClientSecret: c.clientSecret,
			Scopes:       c.scopes,
			Logger:       logger,
		})
		if err != nil {
			return nil, err
		}
		tokens = ims
	}
	return flowservice.New(flowservice.Config{
		Endpoint:  t.endpoint,
		APIKey:    c.apiKey,
		OrgID:     t.orgID,
		Sandbox:   t.sandbox,
		Token:     tokens,
		RateLimit: rateLimit,
		Logger:    logger,
	})
}
