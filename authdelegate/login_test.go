package authdelegate

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ssogate/ssogate/internal/devidp"
	"github.com/ssogate/ssogate/store"
)

func TestLoginPopup(t *testing.T) {
	t.Parallel()
	b := setup(t)

	br := b.newBrowser()
	first := br.get(b.loginURL(modePopup, ""))
	require.Equal(t, http.StatusOK, first.status)
	require.True(t, strings.HasPrefix(first.url.String(), b.idpURL), first.url.String())
	res := br.submitLogin(first, "alice", "login")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, "no-store", res.header.Get("Cache-Control"))
	require.Contains(t, res.header.Get("Content-Security-Policy"), "script-src 'nonce-")

	msg, target := popupResult(t, res)
	require.Equal(t, b.site, target, "postMessage must aim at the site origin only")
	require.Equal(t, "ssogate.login", msg.Type)
	require.Empty(t, msg.Error)
	require.Regexp(t, `^[A-Za-z0-9_-]{43}$`, msg.Credential)
	require.EqualValues(t, 1, msg.Version)
	require.InDelta(t, b.clock.Now().Add(DefaultTokenTTL).Unix(), msg.ExpiresAt, 2)

	claims := b.verify(msg.Token)
	require.Equal(t, "alice", claims.UserID)
	require.Equal(t, "Alice Example", claims.DisplayName)

	// The store has the hash only, the provider's sid and an encrypted
	// refresh token.
	s := b.session(msg.Credential)
	require.Equal(t, "alice", s.UserID)
	require.Equal(t, "alice", s.ProviderSubject)
	require.Equal(t, b.idp.SessionIDs("alice"), []string{s.ProviderSID})
	require.Equal(t, b.site, s.Origin)
	require.NotEmpty(t, s.RefreshTokenEnc)
	require.NotContains(t, string(s.RefreshTokenEnc), msg.Credential)
	require.True(t, s.Active(b.clock.Now()))

	p, err := b.store.ProfileGet(t.Context(), "alice")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(p.Data, &doc))
	require.Equal(t, "alice", doc["id"])
	require.Equal(t, "Alice Example", doc["display_name"])
	require.Equal(t, "alice@example.com", doc["email"])
	require.Equal(t, map[string]any{"first": "Alice", "last": "Example"}, doc["name"])
	require.Equal(t, "alice", <-b.changed, "a new profile version enqueues a ping")

	// The flow cookie is gone after the callback.
	gw, _ := url.Parse(b.gw.URL + "/callback")
	for _, c := range br.client.Jar.Cookies(gw) {
		require.False(t, strings.HasPrefix(c.Name, flowCookiePrefix), c.Name)
	}

	status, body := b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "alice", b.verify(body["token"].(string)).UserID)
	require.EqualValues(t, 1, body["version"])

	// A second login with unchanged claims does not bump the version.
	again := b.login("alice")
	require.EqualValues(t, 1, again.Version)
	require.NotEqual(t, msg.Credential, again.Credential)
	require.Equal(t, 2.0, counterValue(t, b.h.metrics.logins.WithLabelValues(loginSuccess)))
}

func TestLoginKeepsWebhookFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msg := b.login("bob")
	// The backend's webhook adds fields the provider does not know.
	err := b.store.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
		_, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "bob",
			Data: json.RawMessage(`{"bio":"x","display_name":"Bobby","id":"bob","tags":["a"]}`), Now: b.clock.Now()})
		return err
	})
	require.NoError(t, err)
	require.EqualValues(t, 1, msg.Version)

	// Claims without updated_at cannot be placed in time: they fill what is
	// missing (email, name) but do not overwrite the webhook's name.
	again := b.login("bob")
	require.EqualValues(t, 3, again.Version)
	require.Equal(t, "Bobby", b.verify(again.Token).DisplayName)
	p, err := b.store.ProfileGet(t.Context(), "bob")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(p.Data, &doc))
	require.Equal(t, "Bobby", doc["display_name"])
	require.Equal(t, "bob@example.com", doc["email"])
	require.Equal(t, "x", doc["bio"])
	require.Equal(t, []any{"a"}, doc["tags"])
	require.EqualValues(t, 3, b.login("bob").Version, "nothing left to fill")

	// A change at the provider (with updated_at) is newer than the webhook's:
	// it wins.
	_, err = b.idp.UpdateUser(t.Context(), "bob", func(u *devidp.User) { u.Name = "Robert" })
	require.NoError(t, err)
	latest := b.login("bob")
	require.EqualValues(t, 4, latest.Version)
	require.Equal(t, "Robert", b.verify(latest.Token).DisplayName)
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("denied", func(t *testing.T) {
		br := b.newBrowser()
		res := br.submitLogin(br.get(b.loginURL(modePopup, "")), "alice", "cancel")
		require.Equal(t, http.StatusForbidden, res.status)
		require.Contains(t, res.body, "Sign-in cancelled")
		msg, target := popupResult(t, res)
		require.Equal(t, b.site, target)
		require.Equal(t, "access_denied", msg.Error)
		require.Empty(t, msg.Credential)
	})

	t.Run("replayed state", func(t *testing.T) {
		br := b.newBrowser()
		br.stopAtCallback = true
		stopped := br.submitLogin(br.get(b.loginURL(modePopup, "")), "alice", "login")
		require.NotEmpty(t, stopped.location, stopped.body)
		callback := stopped.location
		require.True(t, strings.HasPrefix(callback, b.gw.URL+"/callback?"), callback)
		res := br.get(callback)
		require.Equal(t, http.StatusOK, res.status, res.body)
		replay := br.get(callback)
		require.Equal(t, http.StatusBadRequest, replay.status)
		require.Contains(t, replay.body, "expired or was already used")
		require.NotContains(t, replay.body, "var result")
	})

	t.Run("wrong nonce", func(t *testing.T) {
		br := b.newBrowser()
		br.rewrite = func(u *url.URL) {
			q := u.Query()
			q.Set("nonce", "not-the-flows-nonce")
			u.RawQuery = q.Encode()
		}
		res := br.submitLogin(br.get(b.loginURL(modePopup, "")), "alice", "login")
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Contains(t, res.body, "could not be verified")
		msg, _ := popupResult(t, res)
		require.Equal(t, "login_failed", msg.Error)
	})

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		br := b.newBrowser()
		br.rewrite = func(u *url.URL) {
			q := u.Query()
			q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
			u.RawQuery = q.Encode()
		}
		res := br.submitLogin(br.get(b.loginURL(modePopup, "")), "alice", "login")
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Contains(t, res.body, "could not be completed")
	})

	t.Run("other browser", func(t *testing.T) {
		// Login CSRF: a callback URL finished in a browser that did not
		// start the flow (no flow cookie).
		br := b.newBrowser()
		br.stopAtCallback = true
		stopped := br.submitLogin(br.get(b.loginURL(modePopup, "")), "alice", "login")
		require.NotEmpty(t, stopped.location, stopped.body)
		other := b.newBrowser().get(stopped.location)
		require.Equal(t, http.StatusBadRequest, other.status)
		require.Contains(t, other.body, "started in another browser")
		require.NotContains(t, other.body, "var result")
		// And the flow is spent: the right browser cannot use it afterwards.
		require.Equal(t, http.StatusBadRequest, br.get(stopped.location).status)
	})

	t.Run("expired flow", func(t *testing.T) {
		b := setup(t)
		br := b.newBrowser()
		login := br.get(b.loginURL(modePopup, ""))
		b.clock.Advance(DefaultLoginFlowTTL + time.Second)
		res := br.submitLogin(login, "alice", "login")
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Contains(t, res.body, "expired")
	})

	t.Run("missing state", func(t *testing.T) {
		res := b.newBrowser().get(b.gw.URL + "/callback?code=x")
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Contains(t, res.body, "incomplete")
	})

	require.GreaterOrEqual(t, counterValue(t, b.h.metrics.logins.WithLabelValues(loginDenied)), 1.0)
}

func TestLoginRefusesOriginsAndReturnTo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name  string
		query url.Values
	}{
		{"unknown origin", url.Values{"origin": {"https://evil.example"}}},
		{"origin with path", url.Values{"origin": {b.site + "/x"}}},
		{"no origin", url.Values{}},
		{"port differs", url.Values{"origin": {"http://localhost:9999"}}},
		{"bad mode", url.Values{"origin": {b.site}, "mode": {"iframe"}}},
		{"redirect without return_to", url.Values{"origin": {b.site}, "mode": {"redirect"}}},
		{"return_to elsewhere", url.Values{"origin": {b.site}, "mode": {"redirect"}, "return_to": {"https://evil.example/"}}},
		{"return_to other allowed origin", url.Values{"origin": {b.site}, "mode": {"redirect"}, "return_to": {"http://127.0.0.1:8124/"}}},
		{"return_to scheme relative", url.Values{"origin": {b.site}, "mode": {"redirect"}, "return_to": {"//evil.example/"}}},
		{"return_to javascript", url.Values{"origin": {b.site}, "mode": {"redirect"}, "return_to": {"javascript:alert(1)"}}},
		{"return_to userinfo", url.Values{"origin": {b.site}, "mode": {"redirect"}, "return_to": {"http://localhost:8123@evil.example/"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.newBrowser().get(b.gw.URL + "/login?" + tc.query.Encode())
			require.Equal(t, http.StatusBadRequest, res.status)
			require.Equal(t, b.gw.URL+"/login?"+tc.query.Encode(), res.url.String(), "no redirect anywhere")
			require.NotContains(t, res.body, "var result")
		})
	}
	require.GreaterOrEqual(t, counterValue(t, b.h.metrics.logins.WithLabelValues(loginBadOrigin)), 4.0)
}

func TestLoginRedirectMode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser()
	returnTo := b.site + "/article?id=7#comments"
	res := br.submitLogin(br.get(b.loginURL(modeRedirect, returnTo)), "alice", "login")
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	loc, err := url.Parse(res.location)
	require.NoError(t, err)
	require.Equal(t, b.site+"/article?id=7", strings.SplitN(loc.String(), "#", 2)[0])
	frag, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	code := frag.Get("ssogate_code")
	require.NotEmpty(t, code)

	// Another origin cannot redeem it, and trying burns it.
	req := map[string]string{"code": code}
	status, body := b.apiFrom("http://127.0.0.1:8124", "/session/exchange", req)
	require.Equal(t, http.StatusBadRequest, status, body)
	// So log in again (single sign-on at the provider: no form) and redeem
	// from the right origin.
	res = br.get(b.loginURL(modeRedirect, returnTo))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	loc, err = url.Parse(res.location)
	require.NoError(t, err)
	frag, _ = url.ParseQuery(loc.Fragment)
	code = frag.Get("ssogate_code")

	status, body = b.apiFrom(b.site, "/session/exchange", map[string]string{"code": code})
	require.Equal(t, http.StatusOK, status, body)
	cred := body["credential"].(string)
	require.Regexp(t, `^[A-Za-z0-9_-]{43}$`, cred)
	require.Equal(t, "alice", b.verify(body["token"].(string)).UserID)
	require.True(t, b.session(cred).Active(b.clock.Now()))

	status, body = b.apiFrom(b.site, "/session/exchange", map[string]string{"code": code})
	require.Equal(t, http.StatusBadRequest, status, "a code is single-use")
	require.Equal(t, "invalid_code", body["error"].(map[string]any)["code"])

	// A denied redirect-mode login goes back to the site with the error.
	br = b.newBrowser()
	res = br.submitLogin(br.get(b.loginURL(modeRedirect, returnTo)), "alice", "cancel")
	require.Equal(t, http.StatusSeeOther, res.status)
	require.True(t, strings.HasSuffix(res.location, "#ssogate_error=access_denied"), res.location)
}

// apiFrom POSTs JSON with an Origin header and no credential.
func (b *testBundle) apiFrom(origin, path string, body any) (int, map[string]any) {
	b.t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, b.gw.URL+path, strings.NewReader(string(raw)))
	require.NoError(b.t, err)
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestLoginProfileRefused(t *testing.T) {
	t.Parallel()
	refuseEmail := func(doc json.RawMessage) (json.RawMessage, error) {
		if strings.Contains(string(doc), `"email"`) {
			return nil, errors.New("email refused")
		}
		return defaultCanonicalProfile(doc)
	}
	b := setup(t, setupOpts{mutate: func(c *Config) { c.CanonicalProfileFunc = refuseEmail }})
	msg := b.login("alice")
	require.Equal(t, "Alice Example", b.verify(msg.Token).DisplayName, "the display name alone is kept")
	p, err := b.store.ProfileGet(t.Context(), "alice")
	require.NoError(t, err)
	require.NotContains(t, string(p.Data), "email")

	refuseAll := func(json.RawMessage) (json.RawMessage, error) { return nil, errors.New("no") }
	b = setup(t, setupOpts{mutate: func(c *Config) { c.CanonicalProfileFunc = refuseAll }})
	br := b.newBrowser()
	res := br.submitLogin(br.get(b.loginURL(modePopup, "")), "alice", "login")
	require.Equal(t, http.StatusServiceUnavailable, res.status)
	require.Contains(t, res.body, "could not be saved")
}
