package devidp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// BackChannelLogoutEvent is the events member that marks a JWT as a logout
// token (OpenID Connect Back-Channel Logout 1.0, section 2.4).
const BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenTTL is the exp of logout tokens, relative to iat.
const logoutTokenTTL = 2 * time.Minute

// logoutDelivery is one logout token to send.
type logoutDelivery struct {
	clientID string
	uri      string
	subject  string
	sid      string
}

// logoutClaims are the claims of a logout token. It never has a nonce.
type logoutClaims struct {
	Issuer    string                    `json:"iss"`
	Subject   string                    `json:"sub,omitempty"`
	Audience  string                    `json:"aud"`
	IssuedAt  int64                     `json:"iat"`
	Expires   int64                     `json:"exp,omitempty"`
	JWTID     string                    `json:"jti"`
	Events    map[string]map[string]any `json:"events"`
	SessionID string                    `json:"sid,omitempty"`
}

// LogoutToken returns a signed logout token for clientID naming subject
// and/or sid (at least one). The provider sends these itself; tests use it
// to build tokens on purpose.
func (p *Provider) LogoutToken(clientID, subject, sid string) (string, error) {
	if subject == "" && sid == "" {
		return "", errors.New("devidp: logout token needs sub or sid")
	}
	now := p.cfg.Now()
	claims := logoutClaims{
		Issuer:    p.cfg.Issuer,
		Subject:   subject,
		Audience:  clientID,
		IssuedAt:  now.Unix(),
		JWTID:     randomToken(16),
		Events:    map[string]map[string]any{BackChannelLogoutEvent: {}},
		SessionID: sid,
	}
	if !p.cfg.LogoutTokensWithoutExp {
		claims.Expires = now.Add(logoutTokenTTL).Unix()
	}
	return p.SignJWT("logout+jwt", claims)
}

// SignJWT signs claims (marshalled to JSON) with the provider's key, with
// typ as the JOSE "typ" header. It exists for tests that need tokens the
// provider would never issue (a logout token with a nonce, an expired one);
// the provider itself uses it for logout tokens.
func (p *Provider) SignJWT(typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devidp: marshal claims: %w", err)
	}
	key := p.store.key
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key.key, KeyID: key.id}}, opts)
	if err != nil {
		return "", fmt.Errorf("devidp: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devidp: sign: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("devidp: serialize: %w", err)
	}
	return token, nil
}

// deliverLogouts sends the logout tokens concurrently and waits for all.
func (p *Provider) deliverLogouts(ctx context.Context, ds []logoutDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() {
			errs[i] = p.deliverLogout(ctx, d)
			if errs[i] != nil {
				p.cfg.Logger.WarnContext(ctx, "devidp: back-channel logout failed",
					"client_id", d.clientID, "sid", d.sid, "error", errs[i])
				return
			}
			p.cfg.Logger.InfoContext(ctx, "devidp: back-channel logout delivered",
				"client_id", d.clientID, "sid", d.sid)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deliverLogout POSTs one logout token (section 2.5: a form with
// logout_token; any 2xx is success).
func (p *Provider) deliverLogout(ctx context.Context, d logoutDelivery) error {
	token, err := p.LogoutToken(d.clientID, d.subject, d.sid)
	if err != nil {
		return err
	}
	form := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, d.uri, strings.NewReader(form))
	if err != nil {
		return fmt.Errorf("devidp: back-channel logout to client %q: %w", d.clientID, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("devidp: back-channel logout to client %q: %w", d.clientID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("devidp: back-channel logout to client %q: status %d", d.clientID, resp.StatusCode)
	}
	return nil
}
