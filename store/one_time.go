package store

import (
	"context"
	"time"
)

// OneTime is a single-use value with an expiry: login flow state (state,
// nonce, PKCE verifier), the one-time code of the redirect login, a
// back-channel logout jti.
type OneTime struct {
	// Kind namespaces keys ("login_flow", "exchange_code", "logout_jti").
	Kind string
	// Key is unique within Kind. Callers store a hash when the key is a
	// secret.
	Key       string
	Value     []byte
	ExpiresAt time.Time
}

// OneTimeQueries create and consume single-use values.
type OneTimeQueries interface {
	// OneTimeCreate returns ErrConflict when (Kind, Key) exists and has not
	// expired (an expired one is replaced).
	OneTimeCreate(ctx context.Context, value *OneTime) error
	// OneTimeConsume deletes and returns the value. ErrNotFound when it does
	// not exist, was consumed already, or expired before now.
	OneTimeConsume(ctx context.Context, kind, key string, now time.Time) (*OneTime, error)
	// OneTimeDeleteExpired deletes values that expired before now.
	OneTimeDeleteExpired(ctx context.Context, now time.Time) (int, error)
}
