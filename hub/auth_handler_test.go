package hub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

func (b *testBundle) authCall(query string, header http.Header) response {
	b.t.Helper()
	return b.do(http.MethodGet, "/api/v3.0/auth/?"+query, "", "", header)
}

var jsonpRE = regexp.MustCompile(`^/\*\*/([A-Za-z0-9_$.]+)\((.*)\);\n$`)

// jsonp unwraps a JSONP answer.
func jsonp(t *testing.T, r response) (string, map[string]any) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "application/javascript; charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	m := jsonpRE.FindStringSubmatch(r.body)
	require.NotNil(t, m, r.body)
	var env map[string]any
	require.NoError(t, json.Unmarshal([]byte(m[2]), &env))
	return m[1], env
}

func TestAuthAPINewUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register("https://x.example/p?id={id}")
	tok := b.userToken("bob", "Bobby")
	resp := b.authCall("lftoken="+url.QueryEscape(tok), http.Header{"Origin": {"https://app.example"}})
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Equal(t, "https://app.example", resp.header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "no-store", resp.header.Get("Cache-Control"))
	env := resp.json(t)
	require.Equal(t, "ok", env["status"])
	require.EqualValues(t, 200, env["code"])
	data := env["data"].(map[string]any)
	// No profile or settings URL yet: null, as Livefyre answered; no image:
	// the hub's default avatar.
	require.Equal(t, map[string]any{"id": "bob@test.fyre.co", "displayName": "Bobby", "avatar": b.hub.URL + "/avatar/default.svg",
		"profileUrl": nil, "settingsUrl": nil}, data["profile"])
	require.Equal(t, map[string]any{"collections": []any{}, "networks": []any{}, "sites": []any{}}, data["modScopes"])
	require.Equal(t, false, data["isModAnywhere"])

	// The app session is the hub's own token, and ends with the
	// userAuthToken that granted it (one hour here).
	issued := data["token"].(map[string]any)
	require.InDelta(t, 3600, issued["ttl"], 5)
	_, err := b.codec.Verify(issued["value"].(string))
	require.ErrorIs(t, err, tokens.ErrBadSignature, "not signed with the network key")
	claims, err := b.h.networks[testNetwork].session.Verify(issued["value"].(string))
	require.NoError(t, err)
	require.Equal(t, "bob", claims.UserID)
	require.False(t, claims.HasDisplayName)
	require.WithinDuration(t, time.Now().Add(time.Hour), claims.Expires, time.Minute)
	submitted := data["auth_token"].(map[string]any)
	require.Equal(t, tok, submitted["value"])
	require.InDelta(t, 3600, submitted["ttl"], 5)

	// The hub now knows the user, from the token, and queued a pull.
	rp := b.profile("bob")
	require.Equal(t, store.RemoteProfilePending, rp.Status)
	require.Equal(t, "Bobby", rp.DisplayName)
	b.requirePending(1)

	// A second call for the known user queues nothing more.
	require.Equal(t, http.StatusOK, b.authCall("lftoken="+url.QueryEscape(tok), nil).status)
	require.EqualValues(t, 1, b.profile("bob").PingSeq)
	b.requirePending(1)
}

func TestAuthAPIPulledProfile(t *testing.T) {
	t.Parallel()
	b := setup(t, withJobs(), withPrivate())
	ep := newEndpoint(t, b.codec)
	ep.set("bob", `{"id":"bob","display_name":"Pulled Bob","image_url":"https://img.example/b.png","profile_url":"https://s.example/bob","settings_url":"https://s.example/settings","moderator":"true"}`)
	b.register(ep.template())
	b.ping("bob")
	b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })

	profile := func(tok string) map[string]any {
		resp := b.authCall("lftoken="+url.QueryEscape(tok), nil)
		require.Equal(t, http.StatusOK, resp.status, resp.body)
		return resp.json(t)["data"].(map[string]any)
	}
	// The token's display name wins over the pulled one.
	data := profile(b.userToken("bob", "Token Bob"))
	require.Equal(t, map[string]any{"id": "bob@test.fyre.co", "displayName": "Token Bob", "avatar": "https://img.example/b.png",
		"profileUrl": "https://s.example/bob", "settingsUrl": "https://s.example/settings"}, data["profile"])
	require.Equal(t, true, data["isModAnywhere"])
	require.Equal(t, []any{testNetwork}, data["modScopes"].(map[string]any)["networks"])

	// A token without display_name, as Livefyre's auth API issued them
	// (spaced header, float expires), shows the pulled name.
	exp := float64(time.Now().Add(time.Hour).UnixMicro()) / 1e6
	livefyreIssued := signHS256(t, `{"alg": "HS256", "typ": "JWT"}`,
		fmt.Sprintf(`{"domain": "test.fyre.co", "expires": %f, "user_id": "bob"}`, exp), testKey)
	require.Equal(t, "Pulled Bob", profile(livefyreIssued)["profile"].(map[string]any)["displayName"])
}

// signHS256 builds a compact JWS over exactly these header and payload
// bytes.
func signHS256(t *testing.T, header, payload, key string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// mintFor mints a user token of another network.
func mintFor(t *testing.T, network, key string) string {
	t.Helper()
	c, err := tokens.New(tokens.Config{Network: network, Key: key})
	require.NoError(t, err)
	tok, err := c.Mint("bob", "Bob", time.Hour)
	require.NoError(t, err)
	return tok
}

func TestAuthAPIJSONP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.userToken("bob", "Bob")
	// Without a pull URL the user is recorded, and nothing is queued.
	name, env := jsonp(t, b.authCall("lftoken="+url.QueryEscape(tok)+"&callback=_lfcallback_1400000000123", nil))
	require.Equal(t, "_lfcallback_1400000000123", name)
	require.Equal(t, "ok", env["status"])
	require.Equal(t, "Bob", env["data"].(map[string]any)["profile"].(map[string]any)["displayName"])
	require.Equal(t, store.RemoteProfilePending, b.profile("bob").Status)
	require.Zero(t, b.h.pulls.Len())
	require.Empty(t, b.pullJobs())
	now := b.h.cfg.Now()
	claims, err := b.store.RemoteProfileClaimPulls(b.ctx, store.RemoteProfileClaimParams{Now: now.Add(time.Hour), LeaseUntil: now.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Empty(t, claims, "no sweeper claims a pull without a pull URL")

	// Errors travel in the envelope, with HTTP 200 so the script runs.
	name, env = jsonp(t, b.authCall("lftoken=nope&callback=cb.x", nil))
	require.Equal(t, "cb.x", name)
	require.Equal(t, "error", env["status"])
	require.EqualValues(t, 403, env["code"])
	require.Equal(t, "token_invalid", env["error"].(map[string]any)["code"])

	// Without v3.0 spelled with a dot, and without the slash.
	resp := b.do(http.MethodGet, "/api/v3_0/auth?lftoken="+url.QueryEscape(tok)+"&callback=cb", "", "", nil)
	_, env = jsonp(t, resp)
	require.Equal(t, "ok", env["status"])
}

func TestAuthAPIErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{"no token", "", http.StatusForbidden, "token_missing"},
		{"garbage", "lftoken=x.y.z", http.StatusForbidden, "token_invalid"},
		{"bad callback", "lftoken=x&callback=alert(1)", http.StatusBadRequest, "invalid_callback"},
		{"callback with a space", "lftoken=x&callback=a%20b", http.StatusBadRequest, "invalid_callback"},
		{"other network", "lftoken=" + url.QueryEscape(mintFor(t, "nope.fyre.co", "k")), http.StatusForbidden, "unknown_network"},
	}
	for _, tc := range cases {
		resp := b.authCall(tc.query, http.Header{"Origin": {"https://evil.example"}})
		require.Equal(t, tc.status, resp.status, tc.name)
		env := resp.json(t)
		require.Equal(t, "error", env["status"], tc.name)
		require.EqualValues(t, tc.status, env["code"], tc.name)
		require.Equal(t, tc.code, env["error"].(map[string]any)["code"], tc.name)
		require.NotEmpty(t, env["msg"], tc.name)
		require.Empty(t, resp.header.Get("Access-Control-Allow-Origin"), "no CORS for other origins")
	}
}

// TestAuthAPIExpired checks an expired token with the codec's own clock.
func TestAuthAPIExpired(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } }))
	tok := mintFor(t, testNetwork, testKey) // valid for an hour from the real now
	resp := b.authCall("lftoken="+url.QueryEscape(tok), nil)
	require.Equal(t, http.StatusForbidden, resp.status)
	require.Equal(t, "token_invalid", resp.errorCode(t))
}

func TestAuthAPIPreflight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp := b.do(http.MethodOptions, "/api/v3.0/auth/", "", "", http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"}})
	require.Equal(t, http.StatusNoContent, resp.status)
	require.Equal(t, "https://app.example", resp.header.Get("Access-Control-Allow-Origin"))
	resp = b.do(http.MethodOptions, "/api/v3.0/auth/", "", "", http.Header{"Origin": {"https://evil.example"}})
	require.Equal(t, http.StatusForbidden, resp.status)
}

func TestAuthJSServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp := b.do(http.MethodGet, "/auth.js", "", "", nil)
	require.Equal(t, http.StatusOK, resp.status)
	require.Equal(t, "application/javascript; charset=utf-8", resp.header.Get("Content-Type"))
	require.True(t, strings.Contains(resp.body, "Livefyre.require"))
}
