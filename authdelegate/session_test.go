package authdelegate

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/devidp"
	"github.com/ssogate/ssogate/store"
)

func TestTokenRequiresSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, credential string
	}{
		{"none", ""},
		{"unknown", newCredential()},
		{"malformed", "not a credential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := b.api(http.MethodPost, "/token", tc.credential, nil)
			require.Equal(t, http.StatusUnauthorized, status)
			require.Equal(t, "unauthorized", body["error"].(map[string]any)["code"])
		})
	}

	msg := b.login("alice")
	// The credential belongs to the site origin it was issued to.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.gw.URL+"/token", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://127.0.0.1:8124")
	req.Header.Set("Authorization", "Bearer "+msg.Credential)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// Idle expiry ends the session.
	b.clock.Advance(DefaultIdleTimeout + time.Minute)
	status, body := b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "session_ended", body["error"].(map[string]any)["code"])
	require.Equal(t, reasonExpired, b.session(msg.Credential).EndReason)
}

func TestTokenTouchesSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msg := b.login("alice")
	before := b.session(msg.Credential)
	// Past TouchInterval, within the provider's access-token lifetime.
	b.clock.Advance(2 * time.Minute)
	status, _ := b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status)
	after := b.session(msg.Credential)
	require.True(t, after.IdleExpires.After(before.IdleExpires.Add(time.Minute)))
	require.Equal(t, before.AbsExpires.Unix(), after.AbsExpires.Unix())
}

func TestCORS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	preflight := func(origin string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, b.gw.URL+"/token", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	ok := preflight(b.site)
	require.Equal(t, http.StatusNoContent, ok.StatusCode)
	require.Equal(t, b.site, ok.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, ok.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	require.Contains(t, ok.Header.Get("Access-Control-Allow-Headers"), "Last-Event-ID")
	require.Empty(t, ok.Header.Get("Access-Control-Allow-Credentials"), "cookies are never allowed")

	bad := preflight("https://evil.example")
	require.Equal(t, http.StatusForbidden, bad.StatusCode)
	require.Empty(t, bad.Header.Get("Access-Control-Allow-Origin"))

	msg := b.login("alice")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.gw.URL+"/token", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Authorization", "Bearer "+msg.Credential)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msg := b.login("alice")
	other := b.login("alice") // another browser: stays signed in
	es := b.openEvents(msg.Credential, "")
	b.waitStreams(1)

	status, body := b.api(http.MethodPost, "/logout", "", nil)
	require.Equal(t, http.StatusUnauthorized, status, "logout needs the bearer credential, never a cookie")

	status, body = b.api(http.MethodPost, "/logout", msg.Credential, map[string]string{"post_logout_redirect_uri": b.site + "/"})
	require.Equal(t, http.StatusOK, status, body)
	endURL, err := url.Parse(body["end_session_url"].(string))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(endURL.String(), b.idpURL), endURL.String())
	require.NotEmpty(t, endURL.Query().Get("id_token_hint"))
	require.Equal(t, testClientID, endURL.Query().Get("client_id"))
	require.Equal(t, b.site+"/", endURL.Query().Get("post_logout_redirect_uri"))

	ev := es.next(t)
	require.Equal(t, "logout", ev.name)
	require.JSONEq(t, `{"reason":"logout"}`, ev.data)

	status, _ = b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, reasonLogout, b.session(msg.Credential).EndReason)
	require.True(t, b.session(other.Credential).Active(b.clock.Now()))

	// Idempotent, and no provider URL once the session has ended.
	status, body = b.api(http.MethodPost, "/logout", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, body["end_session_url"])

	// A post-logout target off the allowed origins is dropped.
	status, body = b.api(http.MethodPost, "/logout", other.Credential, map[string]string{"post_logout_redirect_uri": "https://evil.example/"})
	require.Equal(t, http.StatusOK, status)
	endURL, err = url.Parse(body["end_session_url"].(string))
	require.NoError(t, err)
	require.Empty(t, endURL.Query().Get("post_logout_redirect_uri"))
}

func TestProviderRefreshRotation(t *testing.T) {
	t.Parallel()
	// The provider's access tokens live 5 minutes; refreshing when they
	// expire within 10 makes every use refresh.
	b := setup(t, setupOpts{mutate: func(c *Config) { c.RefreshBefore = 10 * time.Minute }})
	msg := b.login("alice")
	first := b.session(msg.Credential)
	rt0, err := b.h.sealer.open(first.RefreshTokenEnc, []byte(first.ID))
	require.NoError(t, err)

	status, body := b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status, body)
	second := b.session(msg.Credential)
	rt1, err := b.h.sealer.open(second.RefreshTokenEnc, []byte(second.ID))
	require.NoError(t, err)
	require.NotEqual(t, string(rt0), string(rt1), "the provider rotates refresh tokens")

	// Tabs of one session asking together must not trip the provider's
	// reuse detection.
	g := asynctest.New(t)
	statuses := make([]int, 6)
	for i := range statuses {
		g.Go(func(t testing.TB) { statuses[i], _ = b.apiAs(t, http.MethodPost, "/token", msg.Credential, nil) })
	}
	g.Wait()
	for _, s := range statuses {
		require.Equal(t, http.StatusOK, s)
	}
	require.True(t, b.session(msg.Credential).Active(b.clock.Now()))
	require.GreaterOrEqual(t, counterValue(t, b.h.metrics.providerRefresh.WithLabelValues("success")), 2.0)

	// A profile change at the provider arrives with the refresh.
	_, err = b.idp.UpdateUser(t.Context(), "alice", func(u *devidp.User) { u.Name = "Alice Renamed" })
	require.NoError(t, err)
	status, body = b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Alice Renamed", b.verify(body["token"].(string)).DisplayName)
	require.EqualValues(t, 2, body["version"])
}

func TestProviderRefreshRevoked(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.RefreshBefore = 10 * time.Minute }})
	msg := b.login("alice")
	es := b.openEvents(msg.Credential, "")
	b.waitStreams(1)

	require.Positive(t, b.idp.RevokeRefreshTokens("alice"))
	status, body := b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "session_ended", body["error"].(map[string]any)["code"])

	ev := es.next(t)
	require.Equal(t, "logout", ev.name)
	require.JSONEq(t, `{"reason":"refresh_refused"}`, ev.data)
	require.Equal(t, reasonRefreshRefused, b.session(msg.Credential).EndReason)
}

func TestScript(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Get(b.gw.URL + "/authdelegate.js")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Cache-Control"), "max-age=")
	require.Contains(t, string(body), "global.ssogate.authDelegate = authDelegate")
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.gw.URL+"/authdelegate.js", nil)
	require.NoError(t, err)
	req.Header.Set("If-None-Match", `W/"other", `+etag)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
}

func TestCleanupDeletesOldSessions(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.CleanupInterval = 20 * time.Millisecond }})
	old := b.login("alice")
	status, _ := b.api(http.MethodPost, "/logout", old.Credential, nil)
	require.Equal(t, http.StatusOK, status)
	b.clock.Advance(DefaultEndedSessionRetention + time.Hour)
	require.Eventually(t, func() bool {
		_, err := b.store.SessionGet(t.Context(), hashSecret(old.Credential))
		return errors.Is(err, store.ErrNotFound)
	}, waitFor, pollEvery)
}
