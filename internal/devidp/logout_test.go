package devidp

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
)

// endSessionURL builds an RP-initiated logout request.
func (b *testBundle) endSessionURL(t *testing.T, params url.Values) string {
	t.Helper()
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	require.NoError(t, b.provider.Claims(&meta))
	return meta.EndSession + "?" + params.Encode()
}

// verifyLogout checks a received logout token the way a relying party
// would, with go-oidc, and returns it.
func (b *testBundle) verifyLogout(t *testing.T, raw, clientID string) *oidc.LogoutToken {
	t.Helper()
	lt, err := b.verifier(clientID).VerifyLogout(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, b.idp.Issuer(), lt.Issuer)
	require.Equal(t, []string{clientID}, lt.Audience)
	require.NotEmpty(t, lt.TokenID)
	require.False(t, lt.IssuedAt.IsZero())

	var claims map[string]any
	require.NoError(t, lt.Claims(&claims))
	require.NotContains(t, claims, "nonce")
	require.Equal(t, map[string]any{BackChannelLogoutEvent: map[string]any{}}, claims["events"])

	header, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	require.NoError(t, err)
	require.Contains(t, string(header), `"typ":"logout+jwt"`)
	return lt
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)
	tok, idt := b.loginAs(t, br, b.public, "alice")
	sid := claimsOf(t, idt).SID

	res := br.get(b.endSessionURL(t, url.Values{
		"id_token_hint":            {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {b.logoutURI},
		"state":                    {"bye"},
	}))
	require.NotNil(t, res.location, "%d: %s", res.status, res.body)
	require.True(t, strings.HasPrefix(res.location.String(), b.logoutURI), res.location.String())
	require.Equal(t, "bye", res.location.Query().Get("state"))

	// End-session waits for delivery, so the token is already here.
	lt := b.verifyLogout(t, b.nextLogout(t), publicClientID)
	require.Equal(t, sid, lt.SessionID)
	require.Equal(t, "alice", lt.Subject)
	b.noLogout(t)

	require.Empty(t, b.idp.SessionIDs("alice"))
	_, err := refresh(t.Context(), b.public, tok.RefreshToken)
	requireOAuthError(t, err, "invalid_grant")

	// The single sign-on cookie is gone: the form shows again.
	p := br.get(newAuthFlow(b.public).url)
	require.Nil(t, p.location)
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, `name="password"`)
}

func TestEndSessionAllClientsOfTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)
	tok, _ := b.loginAs(t, br, b.public, "bob")
	f := newAuthFlow(b.secret)
	res := br.get(f.url) // single sign-on into the second client
	b.exchange(t, b.secret, f, res.location)

	// Logout through the cookie alone, without a hint.
	res = br.get(b.endSessionURL(t, url.Values{}))
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, b.idp.Issuer()+"/logged-out", res.url.String())
	require.Contains(t, res.body, "Signed out")

	got := map[string]bool{}
	for range 2 {
		raw := b.nextLogout(t)
		var aud string
		for _, c := range []string{publicClientID, secretClientID} {
			if _, err := b.verifier(c).VerifyLogout(t.Context(), raw); err == nil {
				aud = c
			}
		}
		require.NotEmpty(t, aud)
		b.verifyLogout(t, raw, aud)
		got[aud] = true
	}
	require.Equal(t, map[string]bool{publicClientID: true, secretClientID: true}, got)
	_, err := refresh(t.Context(), b.public, tok.RefreshToken)
	requireOAuthError(t, err, "invalid_grant")
}

func TestEndSessionRefusesUnregisteredRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)
	tok, _ := b.loginAs(t, br, b.public, "alice")

	res := br.get(b.endSessionURL(t, url.Values{
		"id_token_hint":            {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {"https://evil.example/"},
	}))
	require.Nil(t, res.location)
	require.Equal(t, http.StatusBadRequest, res.status)
	require.Len(t, b.idp.SessionIDs("alice"), 1, "a refused logout ends nothing")
	b.noLogout(t)
}

func TestEndSessionOtherBrowserKeepsItsSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	laptop, phone := b.newBrowser(t), b.newBrowser(t)
	laptopTok, laptopID := b.loginAs(t, laptop, b.public, "alice")
	phoneTok, _ := b.loginAs(t, phone, b.public, "alice")
	require.Len(t, b.idp.SessionIDs("alice"), 2)

	laptop.get(b.endSessionURL(t, url.Values{"id_token_hint": {laptopTok.Extra("id_token").(string)}}))
	lt := b.verifyLogout(t, b.nextLogout(t), publicClientID)
	require.Equal(t, claimsOf(t, laptopID).SID, lt.SessionID)

	_, err := refresh(t.Context(), b.public, phoneTok.RefreshToken)
	require.NoError(t, err, "the phone's session is another session")
}

func TestAdminLogout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, idt := b.loginAs(t, b.newBrowser(t), b.public, "alice")
	bobTok, _ := b.loginAs(t, b.newBrowser(t), b.public, "bob")

	require.NoError(t, b.idp.Logout(t.Context(), "alice"))
	lt := b.verifyLogout(t, b.nextLogout(t), publicClientID)
	require.Equal(t, "alice", lt.Subject)
	require.Equal(t, claimsOf(t, idt).SID, lt.SessionID)
	b.noLogout(t)

	_, err := refresh(t.Context(), b.public, tok.RefreshToken)
	requireOAuthError(t, err, "invalid_grant")
	_, err = refresh(t.Context(), b.public, bobTok.RefreshToken)
	require.NoError(t, err)

	require.NoError(t, b.idp.Logout(t.Context(), "alice"), "no sessions left is not an error")
	b.noLogout(t)
}

func TestBackChannelDeliveryFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) {
		c.Clients[0].BackChannelLogoutURI = c.Clients[0].RedirectURIs[0] + "/missing" // answers 404
	}})
	b.loginAs(t, b.newBrowser(t), b.public, "alice")
	err := b.idp.Logout(t.Context(), "alice")
	require.ErrorContains(t, err, "status 404")
	require.Empty(t, b.idp.SessionIDs("alice"), "the session ends even when delivery fails")
}

func TestLogoutTokenAndSignJWT(t *testing.T) {
	t.Parallel()
	b := setup(t)

	raw, err := b.idp.LogoutToken(publicClientID, "", "some-sid")
	require.NoError(t, err)
	lt := b.verifyLogout(t, raw, publicClientID)
	require.Equal(t, "some-sid", lt.SessionID)
	require.Empty(t, lt.Subject)

	_, err = b.idp.LogoutToken(publicClientID, "", "")
	require.Error(t, err)

	// SignJWT lets relying-party tests build tokens the provider never sends.
	withNonce, err := b.idp.SignJWT("logout+jwt", map[string]any{
		"iss": b.idp.Issuer(), "aud": publicClientID, "sub": "alice", "jti": "j1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "nonce": "n",
		"events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	})
	require.NoError(t, err)
	_, err = b.verifier(publicClientID).VerifyLogout(t.Context(), withNonce)
	require.ErrorContains(t, err, "nonce")

	wrongAud, err := b.idp.LogoutToken("someone-else", "alice", "")
	require.NoError(t, err)
	_, err = b.verifier(publicClientID).VerifyLogout(t.Context(), wrongAud)
	require.ErrorContains(t, err, "audience")

	var header map[string]any
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(withNonce, ".")[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(h, &header))
	require.Equal(t, "RS256", header["alg"])
	require.NotEmpty(t, header["kid"])
}

func TestLogoutTokensWithoutExp(t *testing.T) {
	t.Parallel()
	claimsOf := func(cfg Config) map[string]any {
		p, err := New(cfg)
		require.NoError(t, err)
		raw, err := p.LogoutToken("web", "alice", "sid-1")
		require.NoError(t, err)
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(payload, &c))
		return c
	}
	withExp := claimsOf(validConfig())
	require.Contains(t, withExp, "exp")
	require.Contains(t, withExp, "iat")

	cfg := validConfig()
	cfg.LogoutTokensWithoutExp = true
	without := claimsOf(cfg)
	require.NotContains(t, without, "exp", "as Ory Hydra sends them")
	require.Contains(t, without, "iat")
	require.Equal(t, "sid-1", without["sid"])
}
