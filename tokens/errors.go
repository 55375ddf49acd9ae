package tokens

import (
	"errors"
	"time"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (Config problems excepted), so callers can tell them apart with
// errors.Is.
var (
	// ErrMalformed: the token is not a compact JWS with a JSON object
	// payload, or a claim has the wrong JSON type (for example expires as a
	// string), or a required claim (user_id, expires) is missing.
	ErrMalformed = errors.New("tokens: malformed token")
	// ErrBadSignature: the signature does not match any key of the ring.
	ErrBadSignature = errors.New("tokens: bad signature")
	// ErrUnsupportedAlgorithm: the header names an algorithm other than
	// HS256.
	ErrUnsupportedAlgorithm = errors.New("tokens: unsupported algorithm")
	// ErrWrongDomain: the domain claim is missing or names another network.
	ErrWrongDomain = errors.New("tokens: wrong domain")
	// ErrExpired: the token's expires (or exp) lies in the past, beyond the
	// leeway. The error is an *ExpiredError.
	ErrExpired = errors.New("tokens: token expired")
	// ErrNotYetValid: the token has an nbf claim in the future, beyond the
	// leeway. Livefyre's libraries never set nbf; JWT libraries honour it.
	ErrNotYetValid = errors.New("tokens: token not yet valid")
	// ErrNotSystem: VerifySystem got a valid token of a user other than
	// "system".
	ErrNotSystem = errors.New("tokens: not a system token")
	// ErrInvalidUserID: a user id breaks ValidUserID (^[a-zA-Z0-9_.-]+$, at
	// most 255 bytes, not "." or ".."); Mint refuses to sign it, Verify
	// refuses a signed token carrying it.
	ErrInvalidUserID = errors.New("tokens: invalid user id")
	// ErrInvalidDisplayName: Mint got a display name longer than
	// MaxDisplayNameLength characters or not valid UTF-8; ValidateDisplayName
	// also reports control and invisible format characters with it.
	ErrInvalidDisplayName = errors.New("tokens: invalid display name")
	// ErrInvalidTTL: Mint got a lifetime that is not positive, or one that
	// ends after the year 9999.
	ErrInvalidTTL = errors.New("tokens: invalid lifetime")
)

// ExpiredError reports a token whose lifetime is over. errors.Is(err,
// ErrExpired) is true for it; errors.As gives the expiry.
type ExpiredError struct {
	// Expires is when the token stopped being valid (the earlier of its
	// expires and exp claims), in UTC, without the leeway.
	Expires time.Time
}

// Error implements error.
func (e *ExpiredError) Error() string {
	return "tokens: token expired at " + e.Expires.UTC().Format(time.RFC3339Nano)
}

// Is makes errors.Is(err, ErrExpired) true.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }
