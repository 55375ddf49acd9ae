package devidp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Client IDs registered by setup.
const (
	publicClientID = "web"
	secretClientID = "gateway"
	clientSecret   = "gateway-secret"
)

// testBundle is a provider on a real loopback server, a back-channel
// receiver, and go-oidc relying parties for its two clients.
type testBundle struct {
	idp         *Provider
	srv         *httptest.Server
	rp          *httptest.Server
	redirectURI string
	logoutURI   string
	logouts     chan string // raw logout tokens received
	changes     chan User   // OnUserChange calls
	provider    *oidc.Provider
	public      *oauth2.Config // shared: never copy (oauth2 caches the auth style in it)
	secret      *oauth2.Config
}

type setupOpts struct {
	mutate func(*Config)
}

func setup(t *testing.T, opts ...setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{logouts: make(chan string, 16), changes: make(chan User, 16)}

	rpMux := http.NewServeMux()
	rpMux.HandleFunc("POST /backchannel-logout", func(w http.ResponseWriter, r *http.Request) {
		b.logouts <- r.PostFormValue("logout_token")
		w.WriteHeader(http.StatusOK)
	})
	rpMux.HandleFunc("GET /callback", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK) // the browser helper stops before it gets here
	})
	b.rp = httptest.NewServer(rpMux)
	t.Cleanup(b.rp.Close)
	b.redirectURI = b.rp.URL + "/callback"
	b.logoutURI = b.rp.URL + "/after-logout"

	var handler http.Handler
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)

	cfg := Config{
		Issuer:        b.srv.URL,
		AllowInsecure: true,
		Users:         DemoUsers(),
		Clients: []Client{
			{
				ID:                     publicClientID,
				RedirectURIs:           []string{b.redirectURI},
				PostLogoutRedirectURIs: []string{b.logoutURI},
				BackChannelLogoutURI:   b.rp.URL + "/backchannel-logout",
			},
			{
				ID:                     secretClientID,
				Secret:                 clientSecret,
				RedirectURIs:           []string{b.redirectURI},
				PostLogoutRedirectURIs: []string{b.logoutURI},
				BackChannelLogoutURI:   b.rp.URL + "/backchannel-logout",
			},
		},
		OnUserChange: func(u User) { b.changes <- u },
	}
	for _, o := range opts {
		if o.mutate != nil {
			o.mutate(&cfg)
		}
	}
	idp, err := New(cfg)
	require.NoError(t, err)
	b.idp = idp
	handler = idp.Handler()

	b.provider, err = oidc.NewProvider(t.Context(), idp.Issuer())
	require.NoError(t, err)
	b.public = b.oauthConfig(publicClientID, "")
	b.secret = b.oauthConfig(secretClientID, clientSecret)
	return b
}

// oauthConfig returns a new relying party configuration.
func (b *testBundle) oauthConfig(clientID, secret string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		Endpoint:     b.provider.Endpoint(),
		RedirectURL:  b.redirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
}

// verifier returns an ID token verifier for clientID.
func (b *testBundle) verifier(clientID string) *oidc.IDTokenVerifier {
	return b.provider.Verifier(&oidc.Config{ClientID: clientID})
}

// browser is a user agent with a cookie jar that stops at the relying
// party's redirect URI instead of following it.
type browser struct {
	t      *testing.T
	client *http.Client
}

func (b *testBundle) newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	stopAt := []string{b.redirectURI, b.logoutURI}
	return &browser{t: t, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			for _, p := range stopAt {
				if strings.HasPrefix(req.URL.String(), p) {
					return http.ErrUseLastResponse
				}
			}
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}}
}

// page is a response with its body read.
type page struct {
	status   int
	url      *url.URL // the URL that answered (after redirects)
	location *url.URL // the redirect to the RP, when stopped there
	body     string
}

func (br *browser) do(req *http.Request) page {
	br.t.Helper()
	resp, err := br.client.Do(req)
	require.NoError(br.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(br.t, err)
	p := page{status: resp.StatusCode, url: resp.Request.URL, body: string(body)}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		p.location, err = resp.Request.URL.Parse(loc)
		require.NoError(br.t, err)
	}
	return p
}

func (br *browser) get(rawURL string) page {
	br.t.Helper()
	req, err := http.NewRequestWithContext(br.t.Context(), http.MethodGet, rawURL, nil)
	require.NoError(br.t, err)
	return br.do(req)
}

func (br *browser) post(rawURL string, form url.Values) page {
	br.t.Helper()
	req, err := http.NewRequestWithContext(br.t.Context(), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(br.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return br.do(req)
}

// submitLogin posts the login form shown at p.
func (br *browser) submitLogin(p page, username, password, action string) page {
	br.t.Helper()
	require.Equal(br.t, http.StatusOK, p.status, p.body)
	require.True(br.t, strings.HasSuffix(p.url.Path, pathLogin), "expected the login page, got %s", p.url)
	id := p.url.Query().Get("id")
	require.NotEmpty(br.t, id)
	return br.post(p.url.ResolveReference(&url.URL{Path: "login"}).String(), url.Values{
		"id": {id}, "username": {username}, "password": {password}, "action": {action},
	})
}

// authFlow is one authorization request made by a relying party.
type authFlow struct {
	state, nonce, verifier string
	url                    string
}

func newAuthFlow(cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) authFlow {
	f := authFlow{state: randomToken(12), nonce: randomToken(12), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}, extra...)
	f.url = cfg.AuthCodeURL(f.state, opts...)
	return f
}

// loginAs runs the code flow for cfg in br as username and returns the
// exchanged token and the verified ID token.
func (b *testBundle) loginAs(t *testing.T, br *browser, cfg *oauth2.Config, username string) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	f := newAuthFlow(cfg)
	res := br.submitLogin(br.get(f.url), username, username+"-password", "login")
	require.NotNil(t, res.location, "expected a redirect to the client, got %d: %s", res.status, res.body)
	return b.exchange(t, cfg, f, res.location)
}

// exchange checks the callback at loc and exchanges its code.
func (b *testBundle) exchange(t *testing.T, cfg *oauth2.Config, f authFlow, loc *url.URL) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	require.True(t, strings.HasPrefix(loc.String(), b.redirectURI), loc.String())
	q := loc.Query()
	require.Empty(t, q.Get("error"), q.Get("error_description"))
	require.Equal(t, f.state, q.Get("state"))
	tok, err := cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	require.NoError(t, err)
	raw, ok := tok.Extra("id_token").(string)
	require.True(t, ok, "token response has no id_token")
	idt, err := b.verifier(cfg.ClientID).Verify(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, f.nonce, idt.Nonce)
	return tok, idt
}

// refresh uses a refresh token once (no automatic reuse by oauth2).
func refresh(ctx context.Context, cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}).Token()
}

// requireOAuthError asserts err is a token endpoint error with code.
func requireOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, code, re.ErrorCode, string(re.Body))
}

// nextLogout waits for a logout token at the receiver.
func (b *testBundle) nextLogout(t *testing.T) string {
	t.Helper()
	select {
	case tok := <-b.logouts:
		return tok
	case <-time.After(10 * time.Second):
		t.Fatal("no back-channel logout token arrived")
		return ""
	}
}

// noLogout asserts nothing is waiting at the receiver.
func (b *testBundle) noLogout(t *testing.T) {
	t.Helper()
	select {
	case tok := <-b.logouts:
		t.Fatalf("unexpected logout token (%d bytes)", len(tok))
	default:
	}
}

type idClaims struct {
	SID               string `json:"sid"`
	Name              string `json:"name"`
	Email             string `json:"email"`
	PreferredUsername string `json:"preferred_username"`
	Bio               string `json:"bio"`
	Nonce             string `json:"nonce"`
}

func claimsOf(t *testing.T, idt *oidc.IDToken) idClaims {
	t.Helper()
	var c idClaims
	require.NoError(t, idt.Claims(&c))
	return c
}
