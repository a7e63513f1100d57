package flowservice

import (
	"context"
	"errors"
)

// Sentinel errors that an [*Error] matches with [errors.Is].
var (
	ErrNotFound           = errors.New("not found")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrUnauthorized       = errors.New("unauthorized")
	// ErrOutcomeUnknown means a create may or may not have taken effect.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// Error is a failed API call.
type Error struct {
	Method    string
	Path      string
	Status    int
	Code      string // Flow Service code such as "1404-412"
	Title     string
	Detail    string
	RequestID string
}

func (e *Error) Error() string { panic("not implemented") }

// TokenSource supplies access tokens.
type TokenSource interface {
	// Token returns a valid access token, fetching one if needed.
	Token(ctx context.Context) (string, error)
	// Invalidate drops a cached token after the server rejected it with 401.
	Invalidate(token string)
}
