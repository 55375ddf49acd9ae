package hub

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// fixedClock is a clock the test moves by hand.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func withClock(c *fixedClock) option { return withConfig(func(cfg *Config) { cfg.Now = c.Now }) }

// authEnvelope calls the auth API with tok as JSON and returns the status
// and the envelope.
func (b *testBundle) authEnvelope(tok string) (int, map[string]any) {
	b.t.Helper()
	resp := b.authCall("lftoken="+url.QueryEscape(tok), nil)
	return resp.status, resp.json(b.t)
}

func envelopeError(t *testing.T, env map[string]any) string {
	t.Helper()
	require.Equal(t, "error", env["status"], env)
	e, _ := env["error"].(map[string]any)
	require.NotNil(t, e, env)
	return e["code"].(string)
}

func TestAuthAPIRefusesSystemTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register("https://x.example/p?id={id}")
	exp := time.Now().Add(time.Hour).Unix()
	upper := signHS256(t, `{"alg":"HS256","typ":"JWT"}`,
		fmt.Sprintf(`{"domain":"test.fyre.co","user_id":"SYSTEM","display_name":"x","expires":%d}`, exp), testKey)
	for name, tok := range map[string]string{"system token": b.systemToken(), "user SYSTEM": upper} {
		status, env := b.authEnvelope(tok)
		require.Equal(t, http.StatusForbidden, status, name)
		require.EqualValues(t, http.StatusForbidden, env["code"], name)
		require.Equal(t, "token_system", envelopeError(t, env), name)
		require.Nil(t, env["data"], name)

		// JSONP: HTTP 200 (so the script runs), the envelope says 403.
		resp := b.authCall("lftoken="+url.QueryEscape(tok)+"&callback=cb", nil)
		_, env = jsonp(t, resp)
		require.EqualValues(t, http.StatusForbidden, env["code"], name)
		require.Equal(t, "token_system", envelopeError(t, env), name)
	}
	for _, id := range []string{"system", "SYSTEM"} {
		_, err := b.store.RemoteProfileGet(b.ctx, testNetwork, id)
		require.ErrorIs(t, err, store.ErrNotFound, "no remote profile for %s", id)
	}
	require.Equal(t, 4.0, b.metric("ssogate_hub_auth_requests_total", "token_system"))
}

func TestAuthAPIRefusesItsOwnSessionToken(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	b := setup(t, withClock(clock))
	session := b.sessionToken("bob", "Bob")
	status, env := b.authEnvelope(session)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "token_is_session", envelopeError(t, env))

	// Expired, it is still named for what it is.
	clock.Advance(2 * time.Hour)
	status, env = b.authEnvelope(session)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "token_is_session", envelopeError(t, env))
}

func TestAuthAPICapsTheSessionLifetime(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	b := setup(t, withClock(clock))
	session := b.h.networks[testNetwork].session
	for _, tc := range []struct {
		name    string
		left    time.Duration
		wantTTL int64
	}{
		{"ten minutes left", 10 * time.Minute, 600},
		{"a fraction of a second is cut", 10*time.Minute + 900*time.Millisecond, 600},
		{"forty days left: TokenTTL", 40 * 24 * time.Hour, 30 * 24 * 3600},
	} {
		exp := float64(clock.Now().Add(tc.left).UnixMicro()) / 1e6
		uat := signHS256(t, `{"alg":"HS256","typ":"JWT"}`, fmt.Sprintf(`{"domain":"test.fyre.co","user_id":"bob","expires":%f}`, exp), testKey)
		status, env := b.authEnvelope(uat)
		require.Equal(t, http.StatusOK, status, tc.name)
		data := env["data"].(map[string]any)
		issued := data["token"].(map[string]any)
		require.EqualValues(t, tc.wantTTL, issued["ttl"], tc.name)
		claims, err := session.Verify(issued["value"].(string))
		require.NoError(t, err, tc.name)
		require.Equal(t, clock.Now().Unix()+tc.wantTTL, claims.Expires.Unix(), tc.name)
		require.False(t, claims.Expires.After(clock.Now().Add(tc.left)), "%s: never longer than the token that granted it", tc.name)
		require.Equal(t, clock.Now().Unix(), claims.IssuedAt.Unix())
	}

	// Under a second left (within the verifier's leeway): no session.
	exp := float64(clock.Now().Add(500*time.Millisecond).UnixMicro()) / 1e6
	uat := signHS256(t, `{"alg":"HS256","typ":"JWT"}`, fmt.Sprintf(`{"domain":"test.fyre.co","user_id":"bob","expires":%f}`, exp), testKey)
	status, env := b.authEnvelope(uat)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "token_invalid", envelopeError(t, env))
}

// TestTokenKindsDoNotMix: an app-session token is no network token (ping,
// registration, the gateway's pull) and a network token is no app session
// (the comment API).
func TestTokenKindsDoNotMix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register("https://x.example/p?id={id}")
	session := b.sessionToken("bob", "Bob")

	resp := b.do(http.MethodPost, "/api/v3_0/user/bob/refresh", "application/x-www-form-urlencoded", "lftoken="+url.QueryEscape(session), nil)
	require.Equal(t, http.StatusForbidden, resp.status, resp.body)
	require.Equal(t, "token_invalid", resp.errorCode(t))
	resp = b.do(http.MethodPost, "/", "application/x-www-form-urlencoded",
		url.Values{"actor_token": {session}, "pull_profile_url": {"https://evil.example/{id}"}}.Encode(), nil)
	require.Equal(t, http.StatusForbidden, resp.status, resp.body)
	pu, err := b.store.PullURLGet(b.ctx, testNetwork)
	require.NoError(t, err)
	require.Equal(t, "https://x.example/p?id={id}", pu.Template)
	resp = b.do(http.MethodPost, "/api/v3_0/user/bob/logout", "application/x-www-form-urlencoded", "lftoken="+url.QueryEscape(session), nil)
	require.Equal(t, http.StatusForbidden, resp.status, resp.body)
	// The gateway's pull endpoint verifies with the network key.
	_, err = b.codec.VerifySystem(session)
	require.ErrorIs(t, err, tokens.ErrBadSignature)
	_, err = b.codec.Verify(session)
	require.ErrorIs(t, err, tokens.ErrBadSignature)

	post := func(tok string) response {
		return b.do(http.MethodPost, "/api/comments", "application/json", `{"article_id":"a1","body":"hi"}`,
			http.Header{"Authorization": {"Bearer " + tok}})
	}
	for name, tok := range map[string]string{"userAuthToken": b.userToken("bob", "Bob"), "system token": b.systemToken()} {
		resp := post(tok)
		require.Equal(t, http.StatusForbidden, resp.status, name)
		require.Equal(t, "token_invalid", resp.errorCode(t), name)
	}
	require.Equal(t, http.StatusCreated, post(session).status)

	// The other network's derived key is its own.
	other, err := b.h.networks["other.fyre.co"].session.MintUntil("bob", time.Now().Add(time.Hour))
	require.NoError(t, err)
	_, err = b.h.networks[testNetwork].session.Verify(other)
	require.Error(t, err)
}

func TestLogoutEndsAppSessions(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	b := setup(t, withClock(clock))
	post := func(tok string) response {
		return b.do(http.MethodPost, "/api/comments", "application/json", `{"article_id":"a1","body":"hi"}`,
			http.Header{"Authorization": {"Bearer " + tok}})
	}
	logout := func(path, body string) response {
		return b.do(http.MethodPost, path, "application/x-www-form-urlencoded", body, nil)
	}
	before := b.sessionToken("bob", "Bob")
	carol := b.sessionToken("carol", "Carol")
	require.Equal(t, http.StatusCreated, post(before).status)

	clock.Advance(time.Second)
	resp := logout("/api/v3_0/user/bob/logout", "lftoken="+url.QueryEscape(b.systemToken()))
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	data := resp.json(t)["data"].(map[string]any)
	require.Equal(t, "bob@test.fyre.co", data["id"])
	require.Equal(t, clock.Now().UTC().Format(time.RFC3339Nano), data["sessions_valid_after"])

	resp = post(before)
	require.Equal(t, http.StatusForbidden, resp.status, resp.body)
	require.Equal(t, "session_ended", resp.errorCode(t))
	require.Equal(t, http.StatusCreated, post(carol).status, "other users keep their sessions")

	// A session issued in the logout's second may predate it: refused too.
	require.Equal(t, http.StatusForbidden, post(b.sessionToken("bob", "Bob")).status)
	clock.Advance(time.Second)
	require.Equal(t, http.StatusCreated, post(b.sessionToken("bob", "Bob")).status, "a new authentication is a new session")

	// Bad logouts change nothing.
	after := b.sessionToken("bob", "Bob")
	big := "lftoken=" + url.QueryEscape(b.systemToken()) + "&pad=" + strings.Repeat("a", maxParamBody)
	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"no token", "/api/v3_0/user/bob/logout", "", 403, "token_missing"},
		{"garbage token", "/api/v3_0/user/bob/logout", "lftoken=x.y.z", 403, "token_invalid"},
		{"userAuthToken", "/api/v3_0/user/bob/logout", "lftoken=" + url.QueryEscape(b.userToken("bob", "Bob")), 403, "token_not_system"},
		{"app-session token", "/api/v3_0/user/bob/logout", "lftoken=" + url.QueryEscape(after), 403, "token_invalid"},
		{"invalid id", "/api/v3_0/user/b%40b/logout", "lftoken=" + url.QueryEscape(b.systemToken()), 400, "invalid_user_id"},
		{"reserved id", "/api/v3_0/user/SYSTEM/logout", "lftoken=" + url.QueryEscape(b.systemToken()), 400, "reserved_user_id"},
		{"oversized body", "/api/v3_0/user/bob/logout", big, 413, "body_too_large"},
		{"malformed body", "/api/v3_0/user/bob/logout", "%zz", 400, "malformed_body"},
	} {
		resp := logout(tc.path, tc.body)
		require.Equal(t, tc.status, resp.status, "%s: %s", tc.name, resp.body)
		require.Equal(t, tc.code, resp.errorCode(t), tc.name)
	}
	require.Equal(t, http.StatusCreated, post(after).status)
	resp = b.do(http.MethodGet, "/api/v3_0/user/bob/logout", "", "", nil)
	require.Equal(t, http.StatusMethodNotAllowed, resp.status)

	// The v3.0 spelling, with the token in the query.
	clock.Advance(time.Second)
	resp = logout("/api/v3.0/user/bob/logout?lftoken="+url.QueryEscape(b.systemToken()), "")
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Equal(t, http.StatusForbidden, post(after).status)
	require.Equal(t, 2.0, b.metric("ssogate_hub_logouts_total", "ok"))
}

func TestPingRefusesTheReservedUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register("https://x.example/p?id={id}")
	for _, id := range []string{"system", "SYSTEM", "System"} {
		resp := b.ping(id)
		require.Equal(t, http.StatusBadRequest, resp.status, id)
		require.Equal(t, "reserved_user_id", resp.errorCode(t), id)
	}
	require.Equal(t, http.StatusOK, b.ping("systems").status)
}
