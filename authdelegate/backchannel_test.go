package authdelegate

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/devidp"
)

// postLogoutToken delivers a logout token as the provider does.
func (b *testBundle) postLogoutToken(token string) (int, map[string]any) {
	b.t.Helper()
	resp, err := http.PostForm(b.gw.URL+"/backchannel-logout", url.Values{"logout_token": {token}})
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// logoutClaims builds logout token claims for tests that need a token the
// provider would never send.
func (b *testBundle) logoutClaims(edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":    b.idpURL,
		"aud":    testClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    randomToken(12),
		"sub":    "alice",
		"events": map[string]any{devidp.BackChannelLogoutEvent: map[string]any{}},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func (b *testBundle) signed(claims map[string]any) string {
	b.t.Helper()
	tok, err := b.idp.SignJWT("logout+jwt", claims)
	require.NoError(b.t, err)
	return tok
}

func TestBackchannelLogoutFromProvider(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tab1 := b.login("alice")
	tab2 := b.login("alice")
	bob := b.login("bob")
	es1 := b.openEvents(tab1.Credential, "")
	es2 := b.openEvents(tab2.Credential, "")
	b.waitStreams(2)

	// The provider ends alice's sessions and posts logout tokens (sid+sub)
	// to the gateway over real HTTP.
	require.NoError(t, b.idp.Logout(t.Context(), "alice"))
	for _, es := range []*eventStream{es1, es2} {
		ev := es.next(t)
		require.Equal(t, "logout", ev.name)
		require.JSONEq(t, `{"reason":"backchannel"}`, ev.data)
	}
	require.Equal(t, reasonBackchannel, b.session(tab1.Credential).EndReason)
	require.Equal(t, reasonBackchannel, b.session(tab2.Credential).EndReason)
	require.True(t, b.session(bob.Credential).Active(b.clock.Now()))
	require.Equal(t, 2.0, counterValue(t, b.h.metrics.backchannel.WithLabelValues("success")))
}

func TestBackchannelLogout(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("by sid ends only that session", func(t *testing.T) {
		one := b.login("bob")
		two := b.login("bob")
		sid := b.session(one.Credential).ProviderSID
		tok, err := b.idp.LogoutToken(testClientID, "", sid)
		require.NoError(t, err)
		status, body := b.postLogoutToken(tok)
		require.Equal(t, http.StatusOK, status, body)
		require.False(t, b.session(one.Credential).Active(b.clock.Now()))
		require.True(t, b.session(two.Credential).Active(b.clock.Now()))
	})

	t.Run("by sub ends every session of the subject", func(t *testing.T) {
		one := b.login("alice")
		two := b.login("alice")
		status, body := b.postLogoutToken(b.signed(b.logoutClaims(nil)))
		require.Equal(t, http.StatusOK, status, body)
		require.False(t, b.session(one.Credential).Active(b.clock.Now()))
		require.False(t, b.session(two.Credential).Active(b.clock.Now()))
	})

	t.Run("replayed jti", func(t *testing.T) {
		tok := b.signed(b.logoutClaims(nil))
		status, _ := b.postLogoutToken(tok)
		require.Equal(t, http.StatusOK, status)
		fresh := b.login("alice")
		status, body := b.postLogoutToken(tok)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_request", body["error"])
		require.True(t, b.session(fresh.Credential).Active(b.clock.Now()), "a replay ends nothing")
	})

	t.Run("without exp and a fresh iat", func(t *testing.T) {
		one := b.login("alice")
		status, body := b.postLogoutToken(b.signed(b.logoutClaims(func(c map[string]any) { delete(c, "exp") })))
		require.Equal(t, http.StatusOK, status, body)
		require.False(t, b.session(one.Credential).Active(b.clock.Now()))
	})

	t.Run("aud as an array", func(t *testing.T) {
		one := b.login("alice")
		status, body := b.postLogoutToken(b.signed(b.logoutClaims(func(c map[string]any) { c["aud"] = []string{"other", testClientID} })))
		require.Equal(t, http.StatusOK, status, body)
		require.False(t, b.session(one.Credential).Active(b.clock.Now()))
	})

	t.Run("replayed jti without exp", func(t *testing.T) {
		tok := b.signed(b.logoutClaims(func(c map[string]any) { delete(c, "exp") }))
		status, _ := b.postLogoutToken(tok)
		require.Equal(t, http.StatusOK, status)
		fresh := b.login("alice")
		status, _ = b.postLogoutToken(tok)
		require.Equal(t, http.StatusBadRequest, status)
		require.True(t, b.session(fresh.Credential).Active(b.clock.Now()), "a replay ends nothing")
	})

	refused := []struct {
		name  string
		token func() string
	}{
		{"wrong audience", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["aud"] = "another-client" }))
		}},
		{"with nonce", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["nonce"] = "n" }))
		}},
		{"expired", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) {
				c["iat"] = time.Now().Add(-10 * time.Minute).Unix()
				c["exp"] = time.Now().Add(-8 * time.Minute).Unix()
			}))
		}},
		{"issued too long ago", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) {
				c["iat"] = time.Now().Add(-time.Hour).Unix()
				c["exp"] = time.Now().Add(time.Hour).Unix()
			}))
		}},
		{"without exp, issued too long ago", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) {
				delete(c, "exp")
				c["iat"] = time.Now().Add(-6 * time.Minute).Unix()
			}))
		}},
		{"exp in the past, iat fresh", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))
		}},
		{"events without the logout event", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["events"] = map[string]any{"other": map[string]any{}} }))
		}},
		{"logout event not an object", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["events"] = map[string]any{devidp.BackChannelLogoutEvent: "x"} }))
		}},
		{"iat not a number", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["iat"] = "yesterday" }))
		}},
		{"signed by another key", func() string {
			other, err := devidp.New(devidp.Config{Issuer: b.idpURL, AllowInsecure: true, Clients: []devidp.Client{{ID: testClientID, Secret: "s", RedirectURIs: []string{b.gw.URL + "/callback"}}}})
			require.NoError(t, err)
			tok, err := other.SignJWT("logout+jwt", b.logoutClaims(nil))
			require.NoError(t, err)
			return tok
		}},
		{"issued in the future", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }))
		}},
		{"no iat", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { delete(c, "iat") }))
		}},
		{"no events", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { delete(c, "events") }))
		}},
		{"no jti", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { delete(c, "jti") }))
		}},
		{"neither sub nor sid", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { delete(c, "sub") }))
		}},
		{"other issuer", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { c["iss"] = "https://evil.example" }))
		}},
		{"an ID token", func() string {
			return b.signed(b.logoutClaims(func(c map[string]any) { delete(c, "events"); c["nonce"] = "x" }))
		}},
		{"not a JWT", func() string { return "abc.def.ghi" }},
		{"tampered", func() string {
			tok := b.signed(b.logoutClaims(nil))
			return tok[:len(tok)-4] + strings.Repeat("A", 4)
		}},
		{"empty", func() string { return "" }},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			victim := b.login("alice")
			status, body := b.postLogoutToken(tc.token())
			require.Equal(t, http.StatusBadRequest, status, body)
			require.Equal(t, "invalid_request", body["error"])
			require.True(t, b.session(victim.Credential).Active(b.clock.Now()))
		})
	}
	require.GreaterOrEqual(t, counterValue(t, b.h.metrics.backchannel.WithLabelValues("expired")), 4.0)
	require.GreaterOrEqual(t, counterValue(t, b.h.metrics.backchannel.WithLabelValues("replayed")), 1.0)
}
