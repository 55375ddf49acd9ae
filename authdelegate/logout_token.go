package authdelegate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// backChannelLogoutEvent marks a JWT as a logout token (OpenID Connect
// Back-Channel Logout 1.0, section 2.4).
const backChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutToken is a verified back-channel logout token.
type logoutToken struct {
	Issuer    string
	Subject   string
	SessionID string
	TokenID   string
	IssuedAt  time.Time
	// Expiry is zero when the token has no exp (optional since the final
	// text of the specification; Ory Hydra leaves it out).
	Expiry time.Time
}

// logoutTokenError is a refused logout token: Result is the metric label
// ("malformed", "invalid", "expired"), Reason the real reason, safe to log
// (it never holds the token).
type logoutTokenError struct {
	Result string
	Reason string
}

func (e *logoutTokenError) Error() string { return "authdelegate: logout token: " + e.Reason }

func refuseLogout(result, format string, args ...any) *logoutTokenError {
	return &logoutTokenError{Result: result, Reason: fmt.Sprintf(format, args...)}
}

// logoutCheck is what a logout token's claims are checked against.
type logoutCheck struct {
	Issuer   string
	ClientID string
	Now      time.Time
	MaxAge   time.Duration
	Leeway   time.Duration
}

// verifyLogoutToken checks the signature of raw (one signature, an
// algorithm the provider advertises, a key of its key set) and then its
// claims. go-oidc's VerifyLogout is not used: it refuses tokens without
// exp, which the final specification made optional.
func (p *provider) verifyLogoutToken(ctx context.Context, raw string, want logoutCheck) (*logoutToken, error) {
	jws, err := jose.ParseSigned(raw, p.algs)
	if err != nil {
		return nil, refuseLogout("malformed", "not a signed JWT with an accepted algorithm: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, refuseLogout("invalid", "%d signatures, want exactly 1", len(jws.Signatures))
	}
	payload, err := p.keys.VerifySignature(ctx, raw)
	if err != nil {
		return nil, refuseLogout("invalid", "signature: %v", err)
	}
	return parseLogoutToken(payload, want)
}

// numericDate is a JWT NumericDate; present tells a missing claim from 0.
type numericDate struct {
	t       time.Time
	present bool
}

func (n *numericDate) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("not a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return errors.New("out of range")
	}
	sec, frac := math.Modf(f)
	n.t, n.present = time.Unix(int64(sec), int64(frac*1e9)), true
	return nil
}

// audience is aud: one string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("not a string or an array of strings")
	}
	*a = l
	return nil
}

// parseLogoutToken checks the claims of a logout token whose signature was
// verified (section 2.6): iss, aud, iat within MaxAge (and not in the
// future), exp when present, the logout event, sub or sid, jti, no nonce.
func parseLogoutToken(payload []byte, want logoutCheck) (*logoutToken, error) {
	var c struct {
		Issuer    string                     `json:"iss"`
		Subject   string                     `json:"sub"`
		Audience  audience                   `json:"aud"`
		IssuedAt  numericDate                `json:"iat"`
		Expiry    numericDate                `json:"exp"`
		JTI       string                     `json:"jti"`
		SessionID string                     `json:"sid"`
		Events    map[string]json.RawMessage `json:"events"`
		Nonce     json.RawMessage            `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, refuseLogout("malformed", "claims are not valid JSON: %v", err)
	}
	switch {
	case c.Issuer != want.Issuer:
		return nil, refuseLogout("invalid", "issuer %q, want %q", c.Issuer, want.Issuer)
	case !slices.Contains(c.Audience, want.ClientID):
		return nil, refuseLogout("invalid", "audience %q does not name client %q", []string(c.Audience), want.ClientID)
	case c.Nonce != nil:
		// An ID token must never pass as a logout token.
		return nil, refuseLogout("invalid", "has a nonce claim")
	case !isJSONObject(c.Events[backChannelLogoutEvent]):
		return nil, refuseLogout("invalid", "events has no back-channel logout event object")
	case c.JTI == "":
		return nil, refuseLogout("invalid", "no jti")
	case c.Subject == "" && c.SessionID == "":
		return nil, refuseLogout("invalid", "neither sub nor sid")
	case !c.IssuedAt.present:
		return nil, refuseLogout("invalid", "no iat")
	case c.IssuedAt.t.After(want.Now.Add(want.Leeway)):
		return nil, refuseLogout("invalid", "issued in the future (iat %s)", c.IssuedAt.t.UTC().Format(time.RFC3339))
	case c.Expiry.present && c.Expiry.t.Before(want.Now.Add(-want.Leeway)):
		return nil, refuseLogout("expired", "expired at %s", c.Expiry.t.UTC().Format(time.RFC3339))
	case c.IssuedAt.t.Before(want.Now.Add(-want.MaxAge)):
		return nil, refuseLogout("expired", "issued %s ago, more than the %s allowed", want.Now.Sub(c.IssuedAt.t).Round(time.Second), want.MaxAge)
	}
	return &logoutToken{
		Issuer: c.Issuer, Subject: c.Subject, SessionID: c.SessionID, TokenID: c.JTI,
		IssuedAt: c.IssuedAt.t, Expiry: c.Expiry.t,
	}, nil
}

func isJSONObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return len(raw) > 0 && json.Unmarshal(raw, &m) == nil && m != nil
}
