package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/tokens"
)

var printedURL = regexp.MustCompile(`https?://[^\s)]+`)

// TestDemoHasNoDeadEnds opens every URL ssogate demo prints, and the pages
// they lead to: each answers an HTML page (the admin ones after the Basic
// login the demo names), the roots say what each server is and link what it
// serves, the provider's root lists its users, and the users page links
// each user to a page of their own.
func TestDemoHasNoDeadEnds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := startDemo(t)
	gateway, hubURL, dir, stdout := d.gateway, d.hub, d.dir, d.stdout
	secrets, err := loadDemoSecrets(filepath.Join(dir, "secrets.json"))
	require.NoError(t, err)
	require.Contains(t, stdout.String(), "any user name, password: admin_token in "+filepath.Join(dir, "secrets.json"))

	client := &http.Client{Timeout: 30 * time.Second}
	get := func(url string, admin bool) (int, string, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		if admin {
			req.SetBasicAuth("admin", secrets.AdminToken)
		}
		resp, err := client.Do(req)
		require.NoError(t, err, url)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	urls := printedURL.FindAllString(stdout.String(), -1)
	require.Len(t, urls, 5, "the URLs the demo prints: %q", urls)
	for _, u := range urls {
		admin := strings.Contains(u, "/admin/") || strings.HasSuffix(u, "/users")
		if admin {
			status, _, _ := get(u, false)
			require.Equal(t, http.StatusUnauthorized, status, "%s without the login", u)
		}
		status, ctype, body := get(u, admin)
		require.Equal(t, http.StatusOK, status, "%s: %s", u, body)
		require.True(t, strings.HasPrefix(ctype, "text/html"), "%s answers %s, not a page", u, ctype)
	}

	_, _, body := get(gateway+"/", false)
	for _, want := range []string{"ssogate gateway", `href="/authdelegate.js"`, `href="/openapi.yaml"`, "embedding.md", "webhook.md", `href="/admin/jobs/"`, "demo.fyre.co"} {
		require.Contains(t, body, want, "the gateway's root page")
	}
	_, _, body = get(hubURL+"/", false)
	for _, want := range []string{"ssogate hub", `href="/users"`, `href="/auth.js"`, `href="/comments.js"`, `href="/openapi.yaml"`} {
		require.Contains(t, body, want, "the hub's root page")
	}
	idp := urls[3]
	_, _, body = get(idp, false)
	for _, want := range []string{"Development OpenID provider", `data-username="alice"`, `data-username="bob"`, "alice-password", "/.well-known/openid-configuration"} {
		require.Contains(t, body, want, "the provider's root page")
	}

	// The users page links each user to a page of their own, once the hub
	// has seen them (a first sign-in or a ping; here a ping as the site's
	// backend would send it).
	codec, err := tokens.New(tokens.Config{Network: demoNetwork, Key: secrets.NetworkKey})
	require.NoError(t, err)
	system, err := codec.MintSystem(time.Minute)
	require.NoError(t, err)
	resp, err := client.PostForm(hubURL+"/api/v3_0/user/alice/refresh", url.Values{"lftoken": {system}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var page string
	require.Eventually(t, func() bool {
		_, _, page = get(hubURL+"/users", true)
		return strings.Contains(page, `href="/users/demo.fyre.co/alice"`)
	}, 30*time.Second, 50*time.Millisecond, "alice shows on the users page: %s", page)
	link := regexp.MustCompile(`href="(/users/demo\.fyre\.co/[^"]+)"`).FindStringSubmatch(page)[1]
	var status int
	var ctype string
	// alice's first pull goes out at once (the fast path): her page shows
	// its result once it is recorded.
	require.Eventually(t, func() bool {
		status, ctype, body = get(hubURL+link, true)
		return status == http.StatusOK && !strings.Contains(body, "Last pull</th><td>never")
	}, 30*time.Second, 50*time.Millisecond, "alice's pull is recorded: %s", body)
	require.True(t, strings.HasPrefix(ctype, "text/html"))
	require.Contains(t, body, "Remote profile")
}
