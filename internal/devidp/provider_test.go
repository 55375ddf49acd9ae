package devidp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ssogate/ssogate/internal/httpbase"
)

func TestDiscovery(t *testing.T) {
	t.Parallel()
	b := setup(t)

	resp, err := http.Get(b.srv.URL + "/.well-known/openid-configuration")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc struct {
		Issuer                    string   `json:"issuer"`
		AuthorizationEndpoint     string   `json:"authorization_endpoint"`
		TokenEndpoint             string   `json:"token_endpoint"`
		UserinfoEndpoint          string   `json:"userinfo_endpoint"`
		EndSessionEndpoint        string   `json:"end_session_endpoint"`
		JWKSURI                   string   `json:"jwks_uri"`
		ScopesSupported           []string `json:"scopes_supported"`
		CodeChallengeMethods      []string `json:"code_challenge_methods_supported"`
		GrantTypesSupported       []string `json:"grant_types_supported"`
		BackChannelLogout         bool     `json:"backchannel_logout_supported"`
		BackChannelLogoutSession  bool     `json:"backchannel_logout_session_supported"`
		IDTokenSigningAlgsSupport []string `json:"id_token_signing_alg_values_supported"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	require.Equal(t, b.srv.URL, doc.Issuer)
	require.Equal(t, b.srv.URL+"/authorize", doc.AuthorizationEndpoint)
	require.Equal(t, b.srv.URL+"/oauth/token", doc.TokenEndpoint)
	require.Equal(t, b.srv.URL+"/userinfo", doc.UserinfoEndpoint)
	require.Equal(t, b.srv.URL+"/end_session", doc.EndSessionEndpoint)
	require.Equal(t, b.srv.URL+"/keys", doc.JWKSURI)
	require.Subset(t, doc.ScopesSupported, []string{"openid", "profile", "email", "offline_access"})
	require.Equal(t, []string{"S256"}, doc.CodeChallengeMethods)
	require.Subset(t, doc.GrantTypesSupported, []string{"authorization_code", "refresh_token"})
	require.True(t, doc.BackChannelLogout)
	require.True(t, doc.BackChannelLogoutSession)
	require.Contains(t, doc.IDTokenSigningAlgsSupport, "RS256")
}

func TestCodeFlowPublicClientWithPKCE(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)

	tok, idt := b.loginAs(t, br, b.public, "alice")
	require.Equal(t, "alice", idt.Subject)
	require.Equal(t, []string{publicClientID}, idt.Audience)
	require.NotEmpty(t, tok.AccessToken)
	require.NotEmpty(t, tok.RefreshToken, "offline_access gives a refresh token")
	require.NoError(t, idt.VerifyAccessToken(tok.AccessToken))

	c := claimsOf(t, idt)
	require.Equal(t, b.idp.SessionIDs("alice"), []string{c.SID})
	require.Equal(t, "Alice Example", c.Name)
	require.Equal(t, "alice@example.com", c.Email)
	require.Equal(t, "alice", c.PreferredUsername)

	info, err := b.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	require.NoError(t, err)
	require.Equal(t, "alice", info.Subject)
	require.Equal(t, "alice@example.com", info.Email)
	require.True(t, info.EmailVerified)
	var extra struct {
		Name string `json:"name"`
		Bio  string `json:"bio"`
	}
	require.NoError(t, info.Claims(&extra))
	require.Equal(t, "Alice Example", extra.Name)
	require.Equal(t, "Reads the news every morning.", extra.Bio)
}

func TestCodeFlowConfidentialClient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)

	_, idt := b.loginAs(t, br, b.secret, "bob")
	require.Equal(t, "bob", idt.Subject)

	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		f := newAuthFlow(b.secret)
		res := br.submitLogin(br.get(f.url), "bob", "bob-password", "login")
		wrong := b.oauthConfig(secretClientID, "nope")
		// AutoDetect would retry with the secret in the form, and the
		// first failed attempt already burnt the single-use code.
		wrong.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		_, err := wrong.Exchange(t.Context(), res.location.Query().Get("code"), oauth2.VerifierOption(f.verifier))
		requireOAuthError(t, err, "invalid_client")
	})
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)

	tests := []struct {
		name string
		opts []oauth2.AuthCodeOption
		cfg  *oauth2.Config
	}{
		{
			name: "public client without PKCE",
			cfg:  b.public,
		},
		{
			name: "plain PKCE method",
			cfg:  b.public,
			opts: []oauth2.AuthCodeOption{
				oauth2.SetAuthURLParam("code_challenge", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"),
				oauth2.SetAuthURLParam("code_challenge_method", "plain"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			br := b.newBrowser(t)
			res := br.get(tt.cfg.AuthCodeURL("st", tt.opts...))
			require.NotNil(t, res.location, "%d: %s", res.status, res.body)
			require.Equal(t, "invalid_request", res.location.Query().Get("error"))
			require.Equal(t, "st", res.location.Query().Get("state"))
		})
	}

	t.Run("unregistered redirect URI is not redirected to", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		cfg := b.oauthConfig(publicClientID, "")
		cfg.RedirectURL = "https://evil.example/callback"
		res := br.get(newAuthFlow(cfg).url)
		require.Nil(t, res.location)
		require.Equal(t, http.StatusBadRequest, res.status)
	})
}

func TestCodeExchangeRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("wrong verifier", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		f := newAuthFlow(b.public)
		res := br.submitLogin(br.get(f.url), "alice", "alice-password", "login")
		_, err := b.public.Exchange(t.Context(), res.location.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		requireOAuthError(t, err, "invalid_grant")
	})

	t.Run("code replay", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		f := newAuthFlow(b.public)
		res := br.submitLogin(br.get(f.url), "alice", "alice-password", "login")
		b.exchange(t, b.public, f, res.location)
		_, err := b.public.Exchange(t.Context(), res.location.Query().Get("code"), oauth2.VerifierOption(f.verifier))
		requireOAuthError(t, err, "invalid_grant")
	})

	t.Run("code of another client", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		f := newAuthFlow(b.public)
		res := br.submitLogin(br.get(f.url), "alice", "alice-password", "login")
		_, err := b.secret.Exchange(t.Context(), res.location.Query().Get("code"), oauth2.VerifierOption(f.verifier))
		requireOAuthError(t, err, "invalid_grant")
	})
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("lists the demo accounts", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		p := br.get(newAuthFlow(b.public).url)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, "alice-password")
		require.Contains(t, p.body, "bob-password")
		require.Contains(t, p.body, `value="cancel"`)
	})

	t.Run("wrong password shows an error and allows a retry", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		f := newAuthFlow(b.public)
		login := br.get(f.url)
		res := br.submitLogin(login, "alice", "bob-password", "login")
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Nil(t, res.location)
		require.Contains(t, res.body, "Wrong username or password.")

		res = br.submitLogin(login, "alice", "alice-password", "login")
		_, idt := b.exchange(t, b.public, f, res.location)
		require.Equal(t, "alice", idt.Subject)
	})

	t.Run("unknown user", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		res := br.submitLogin(br.get(newAuthFlow(b.public).url), "mallory", "alice-password", "login")
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Contains(t, res.body, "Wrong username or password.")
	})

	t.Run("cancel answers access_denied", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		f := newAuthFlow(b.public)
		login := br.get(f.url)
		res := br.submitLogin(login, "", "", "cancel")
		require.NotNil(t, res.location)
		q := res.location.Query()
		require.Equal(t, "access_denied", q.Get("error"))
		require.Equal(t, f.state, q.Get("state"))
		require.Empty(t, q.Get("code"))

		again := br.submitLogin(login, "alice", "alice-password", "login")
		require.Equal(t, http.StatusBadRequest, again.status, "a cancelled request is gone")
	})

	t.Run("unknown request", func(t *testing.T) {
		t.Parallel()
		br := b.newBrowser(t)
		p := br.get(b.idp.Issuer() + "/login?id=nope")
		require.Equal(t, http.StatusBadRequest, p.status)
		require.Contains(t, p.body, "Sign-in expired")
	})
}

func TestSingleSignOn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)
	_, first := b.loginAs(t, br, b.public, "alice")

	// A second client in the same browser gets in without the form.
	f := newAuthFlow(b.secret)
	res := br.get(f.url)
	require.NotNil(t, res.location, "expected single sign-on, got %d", res.status)
	_, second := b.exchange(t, b.secret, f, res.location)
	require.Equal(t, "alice", second.Subject)
	require.Equal(t, claimsOf(t, first).SID, claimsOf(t, second).SID)

	// prompt=login shows the form again.
	f = newAuthFlow(b.public, oauth2.SetAuthURLParam("prompt", "login"))
	p := br.get(f.url)
	require.Nil(t, p.location)
	require.Equal(t, pathLogin, p.url.Path)

	// prompt=none in a fresh browser answers login_required.
	other := b.newBrowser(t)
	f = newAuthFlow(b.public, oauth2.SetAuthURLParam("prompt", "none"))
	res = other.get(f.url)
	require.NotNil(t, res.location)
	require.Equal(t, "login_required", res.location.Query().Get("error"))
	require.Equal(t, f.state, res.location.Query().Get("state"))
}

func TestUserinfoRefusesBadToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "nope", TokenType: "Bearer"}))
	require.Error(t, err)
}

func TestIssuerWithPath(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.Issuer += "/idp" }})
	require.Equal(t, b.srv.URL+"/idp", b.idp.Issuer())
	require.Equal(t, b.srv.URL+"/idp/authorize", b.provider.Endpoint().AuthURL)

	br := b.newBrowser(t)
	_, idt := b.loginAs(t, br, b.public, "bob")
	require.Equal(t, "bob", idt.Subject)
	require.Equal(t, b.srv.URL+"/idp", idt.Issuer)
}

func TestKeysEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Get(b.srv.URL + "/keys")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(body, &set))
	require.Len(t, set.Keys, 1)
	require.Equal(t, "RSA", set.Keys[0]["kty"])
	require.NotContains(t, set.Keys[0], "d", "the private exponent must never be published")
}

func TestMount(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "/idp"} {
		t.Run("path "+path, func(t *testing.T) {
			t.Parallel()
			var handler http.Handler
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
			t.Cleanup(srv.Close)
			cfg := validConfig()
			cfg.Issuer = srv.URL + path
			idp, err := New(cfg)
			require.NoError(t, err)
			r := httpbase.NewMux()
			r.Handle("/other", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
			idp.Mount(r)
			handler = r

			resp, err := http.Get(idp.Issuer() + "/.well-known/openid-configuration")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			if path != "" {
				resp, err = http.Get(srv.URL + "/other")
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusTeapot, resp.StatusCode)
			}
		})
	}
}

func TestOneCodePerSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)
	f := newAuthFlow(b.public)
	login := br.get(f.url)
	id := login.url.Query().Get("id")
	res := br.submitLogin(login, "alice", "alice-password", "login")
	require.NotNil(t, res.location)

	// op's own callback route is closed: the login page answers directly.
	p := br.get(b.idp.Issuer() + "/authorize/callback?id=" + id)
	require.Equal(t, http.StatusNotFound, p.status)
	// Submitting the form again does not mint a second code.
	again := br.submitLogin(login, "alice", "alice-password", "login")
	require.Equal(t, http.StatusBadRequest, again.status)
	b.exchange(t, b.public, f, res.location)
}
