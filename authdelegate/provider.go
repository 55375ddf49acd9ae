package authdelegate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// provider is the discovered OpenID provider and the clients built on it.
type provider struct {
	oidc     *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	// endSession is the end_session_endpoint (RP-Initiated Logout), if any.
	endSession string
	// revocation is the revocation_endpoint (RFC 7009), if any.
	revocation string
	// keys is the provider's key set (jwks_uri), algs the signing
	// algorithms it advertises: logout tokens are checked with them.
	keys oidc.KeySet
	algs []jose.SignatureAlgorithm
}

// providerCache discovers the provider on first use and keeps the result.
// A failed discovery is not cached, so a provider that is down at start-up
// is picked up once it answers; New tries once so that a healthy start has
// it ready.
type providerCache struct {
	mu sync.Mutex
	p  *provider
}

// errProviderUnavailable wraps discovery failures.
var errProviderUnavailable = errors.New("authdelegate: provider unavailable")

func (h *Handler) provider(ctx context.Context) (*provider, error) {
	h.prov.mu.Lock()
	defer h.prov.mu.Unlock()
	if h.prov.p != nil {
		return h.prov.p, nil
	}
	op, err := oidc.NewProvider(h.clientContext(ctx), h.cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", errProviderUnavailable, err)
	}
	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		JWKS       string   `json:"jwks_uri"`
		Revocation string   `json:"revocation_endpoint"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, fmt.Errorf("%w: discovery document: %w", errProviderUnavailable, err)
	}
	scopes := h.cfg.Scopes
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	p := &provider{
		oidc: op,
		oauth: oauth2.Config{
			ClientID:     h.cfg.ClientID,
			ClientSecret: h.cfg.ClientSecret,
			Endpoint:     op.Endpoint(),
			RedirectURL:  h.cfg.PublicURL + "/callback",
			Scopes:       scopes,
		},
		verifier: op.Verifier(&oidc.Config{ClientID: h.cfg.ClientID, Now: h.cfg.Now}),
		// The key set outlives the request that discovered it.
		keys: oidc.NewRemoteKeySet(context.WithoutCancel(h.clientContext(ctx)), meta.JWKS),
	}
	for _, a := range meta.Algs {
		if a != "none" && a != "" {
			p.algs = append(p.algs, jose.SignatureAlgorithm(a))
		}
	}
	if len(p.algs) == 0 {
		p.algs = []jose.SignatureAlgorithm{jose.RS256}
	}
	if u, err := url.Parse(meta.EndSession); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		p.endSession = meta.EndSession
	}
	if u, err := url.Parse(meta.Revocation); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		p.revocation = meta.Revocation
	}
	h.prov.p = p
	return p, nil
}

// cachedProvider is the discovered provider, or nil when discovery has not
// succeeded yet; it never blocks on the network.
func (h *Handler) cachedProvider() *provider {
	h.prov.mu.Lock()
	defer h.prov.mu.Unlock()
	return h.prov.p
}

// clientContext carries the configured HTTP client to go-oidc and oauth2.
func (h *Handler) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, h.cfg.HTTPClient)
}

// providerClaims are the claims of one sign-in or refresh: the ID token's,
// overlaid with userinfo's when the provider has a userinfo endpoint.
type providerClaims struct {
	Subject   string
	SessionID string
	Raw       map[string]any
}

// claimsFromTokens verifies the ID token of tok (checking nonce when
// wantNonce is set) and merges userinfo claims. rawIDToken is "" when the
// token response had no ID token (allowed on refresh only).
func (h *Handler) claimsFromTokens(ctx context.Context, p *provider, tok *oauth2.Token, wantNonce string, requireIDToken bool) (*providerClaims, string, error) {
	rawIDToken, _ := tok.Extra("id_token").(string)
	pc := &providerClaims{Raw: map[string]any{}}
	if rawIDToken == "" {
		if requireIDToken {
			return nil, "", errors.New("authdelegate: token response has no id_token")
		}
	} else {
		idt, err := p.verifier.Verify(h.clientContext(ctx), rawIDToken)
		if err != nil {
			return nil, "", fmt.Errorf("authdelegate: verify id token: %w", err)
		}
		if wantNonce != "" && !constantTimeEqual(idt.Nonce, wantNonce) {
			return nil, "", errors.New("authdelegate: id token nonce does not match the login flow")
		}
		if err := idt.Claims(&pc.Raw); err != nil {
			return nil, "", fmt.Errorf("authdelegate: id token claims: %w", err)
		}
		pc.Subject = idt.Subject
		pc.SessionID, _ = pc.Raw["sid"].(string)
	}
	if p.oidc.UserInfoEndpoint() != "" && tok.AccessToken != "" {
		ui, err := p.oidc.UserInfo(h.clientContext(ctx), oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, "", fmt.Errorf("authdelegate: userinfo: %w", err)
		}
		if pc.Subject != "" && ui.Subject != pc.Subject {
			return nil, "", errors.New("authdelegate: userinfo subject differs from the id token's")
		}
		var extra map[string]any
		if err := ui.Claims(&extra); err != nil {
			return nil, "", fmt.Errorf("authdelegate: userinfo claims: %w", err)
		}
		for k, v := range extra {
			switch k {
			case "iss", "aud", "exp", "iat", "nonce", "sid", "azp", "at_hash", "auth_time":
				continue
			}
			pc.Raw[k] = v
		}
		if pc.Subject == "" {
			pc.Subject = ui.Subject
		}
	}
	if pc.Subject == "" {
		return nil, "", errors.New("authdelegate: no subject from the provider")
	}
	return pc, rawIDToken, nil
}

// claimString returns claim name of raw as a string ("" when missing, off or
// not a string; numbers are formatted, for numeric subjects).
func claimString(raw map[string]any, name string) string {
	if name == "" || name == "-" {
		return ""
	}
	switch v := raw[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	}
	return ""
}
