package hub

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAuthAPIDefaultAvatar: a user without an image gets the configured
// default avatar; the built-in one is served by the hub.
func TestAuthAPIDefaultAvatar(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.DefaultAvatarURL = "https://cdn.example/anon.png" }))
	resp := b.authCall("lftoken="+url.QueryEscape(b.userToken("bob", "Bob")), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	profile := resp.json(t)["data"].(map[string]any)["profile"].(map[string]any)
	require.Equal(t, "https://cdn.example/anon.png", profile["avatar"])

	// Behind a TLS proxy the built-in default is an https URL.
	plain := setup(t)
	resp = plain.authCall("lftoken="+url.QueryEscape(plain.userToken("bob", "Bob")), http.Header{"X-Forwarded-Proto": {"https"}})
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	avatar := resp.json(t)["data"].(map[string]any)["profile"].(map[string]any)["avatar"].(string)
	require.Equal(t, "https://"+strings.TrimPrefix(plain.hub.URL, "http://")+"/avatar/default.svg", avatar)

	got, err := http.Get(plain.hub.URL + "/avatar/default.svg")
	require.NoError(t, err)
	defer func() { _ = got.Body.Close() }()
	body, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode)
	require.Equal(t, "image/svg+xml", got.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(string(body), "<svg "), string(body))

	_, err = New(Config{Networks: []NetworkConfig{{Name: testNetwork, Key: testKey}}, Store: b.store, DefaultAvatarURL: "/relative.png"})
	require.ErrorContains(t, err, "default_avatar_url")
}

// TestSessionTokenClaims: the hub's app-session token carries what
// Livefyre's did, {domain, user_id, expires} (and iat), nothing of the
// user's profile.
func TestSessionTokenClaims(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.sessionToken("bob", "Bobby")
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(raw, &claims))
	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	require.Equal(t, []string{"domain", "expires", "iat", "user_id"}, keys)
	require.Equal(t, testNetwork, claims["domain"])
	require.Equal(t, "bob", claims["user_id"])

	// It is refused wherever a userAuthToken or system token is taken: the
	// auth API, a ping, a registration, a logout ping.
	resp := b.authCall("lftoken="+url.QueryEscape(tok), nil)
	require.Equal(t, http.StatusForbidden, resp.status)
	require.Equal(t, "token_is_session", resp.errorCode(t))
	for _, path := range []string{"/api/v3_0/user/bob/refresh", "/api/v3.0/user/bob/refresh", "/api/v3_0/user/bob/logout"} {
		resp := b.do(http.MethodPost, path, "application/x-www-form-urlencoded", "lftoken="+url.QueryEscape(tok), nil)
		require.Equal(t, http.StatusForbidden, resp.status, path)
	}
	resp = b.do(http.MethodPost, "/", "application/x-www-form-urlencoded",
		url.Values{"actor_token": {tok}, "pull_profile_url": {"https://evil.example/{id}"}}.Encode(), nil)
	require.Equal(t, http.StatusForbidden, resp.status)
}
