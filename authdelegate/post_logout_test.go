package authdelegate

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/devidp"
)

// TestPostLogoutViaGateway: the provider accepts only the gateway's
// /logged-out as post-logout URI (as Hydra accepts only a redirect URI's
// origin); the reader still lands on the site page they logged out from.
func TestPostLogoutViaGateway(t *testing.T) {
	t.Parallel()
	var gwURL string
	b := setup(t, setupOpts{
		mutate: func(c *Config) { c.PostLogoutViaGateway = true; gwURL = c.PublicURL },
		mutateIDP: func(c *devidp.Config) {
			c.Clients[0].PostLogoutRedirectURIs = []string{c.Clients[0].RedirectURIs[0][:len(c.Clients[0].RedirectURIs[0])-len("/callback")] + "/logged-out"}
		},
	})
	require.NotEmpty(t, gwURL)
	br := b.newBrowser()
	msg, _ := popupResult(t, br.submitLogin(br.get(b.loginURL(modePopup, "")), "alice", "login"))

	sitePage := b.site + "/articles/42?comments=open"
	status, body := b.api(http.MethodPost, "/logout", msg.Credential, map[string]string{"post_logout_redirect_uri": sitePage})
	require.Equal(t, http.StatusOK, status, body)
	endURL, err := url.Parse(body["end_session_url"].(string))
	require.NoError(t, err)
	require.Equal(t, b.gw.URL+"/logged-out", endURL.Query().Get("post_logout_redirect_uri"))
	require.Equal(t, sitePage, endURL.Query().Get("state"))

	// The reader's browser goes to the provider, which sends it to the
	// gateway's page, which sends it to the site page.
	res := br.get(endURL.String())
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, b.gw.URL+"/logged-out", res.url.Scheme+"://"+res.url.Host+res.url.Path)
	require.Equal(t, sitePage, res.location)
}

func TestPostLogoutPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser()
	for _, tc := range []struct {
		name, state, location string
	}{
		{"allowed site page", b.site + "/a?b=c#d", b.site + "/a?b=c#d"},
		{"other origin", "https://evil.example/", ""},
		{"scheme-relative", "//evil.example/", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"credentials", "http://user:pw@" + b.site[len("http://"):] + "/", ""},
		{"no state", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := br.get(b.gw.URL + "/logged-out?" + url.Values{"state": {tc.state}}.Encode())
			if tc.location != "" {
				require.Equal(t, http.StatusSeeOther, res.status)
				require.Equal(t, tc.location, res.location)
				return
			}
			require.Equal(t, http.StatusOK, res.status)
			require.Empty(t, res.location)
			require.Contains(t, res.body, "You are signed out")
			require.Contains(t, res.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		})
	}
}
