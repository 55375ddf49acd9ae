package hub

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testAdminToken is the bundle's admin token.
const testAdminToken = "hub-admin-token-0123456789"

// adminHeader carries the admin token as a bearer token.
var adminHeader = http.Header{"Authorization": {"Bearer " + testAdminToken}}

// requireFrameHeaders checks that an answer cannot be framed.
func requireFrameHeaders(t *testing.T, resp response, what string) {
	t.Helper()
	require.Equal(t, "DENY", resp.header.Get("X-Frame-Options"), what)
	require.Contains(t, strings.Join(resp.header.Values("Content-Security-Policy"), ", "), "frame-ancestors 'none'", what)
}

// TestUsersRoutesOffWithoutAdminToken: with no admin token the users page
// and the users API are not served at all (they were public before, emails
// included), as the README says of admin routes.
func TestUsersRoutesOffWithoutAdminToken(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.AdminToken = "" }))
	b.touch("bob", "Bob")
	for _, path := range []string{"/users", "/api/networks/" + testNetwork + "/users/bob"} {
		for _, header := range []http.Header{nil, adminHeader} {
			resp := b.do(http.MethodGet, path, "", "", header)
			require.Equal(t, http.StatusNotFound, resp.status, path)
			require.NotContains(t, resp.body, "Bob", path)
		}
	}
}

// TestUsersRoutesAdminGuard: with an admin token, the users routes take it
// as a bearer token or Basic password (any user), answer 401 JSON with both
// challenges otherwise, refuse cross-site subresource requests and are
// never framed.
func TestUsersRoutesAdminGuard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.touch("bob", "Bob")
	basic := func(user, password string) http.Header {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.SetBasicAuth(user, password)
		return http.Header{"Authorization": r.Header.Values("Authorization")}
	}
	for _, path := range []string{"/users", "/api/networks/" + testNetwork + "/users/bob"} {
		refused := map[string]http.Header{
			"none":                    nil,
			"empty bearer":            {"Authorization": {"Bearer "}},
			"wrong bearer":            {"Authorization": {"Bearer x"}},
			"token prefix":            {"Authorization": {"Bearer " + testAdminToken[:len(testAdminToken)-1]}},
			"token and more":          {"Authorization": {"Bearer " + testAdminToken + "x"}},
			"upper case":              {"Authorization": {"Bearer " + strings.ToUpper(testAdminToken)}},
			"token as basic user":     basic(testAdminToken, ""),
			"wrong basic password":    basic("admin", "nope"),
			"token in another header": {"X-Admin-Token": {testAdminToken}},
		}
		for name, header := range refused {
			resp := b.do(http.MethodGet, path, "", "", header)
			require.Equal(t, http.StatusUnauthorized, resp.status, "%s: %s", path, name)
			require.Equal(t, "unauthorized", resp.errorCode(t), "%s: %s", path, name)
			challenges := strings.Join(resp.header.Values("WWW-Authenticate"), ", ")
			require.Contains(t, challenges, "Basic realm=", "browsers need a Basic challenge to log in")
			require.Contains(t, challenges, "Bearer realm=")
			requireFrameHeaders(t, resp, path+" 401")
		}
		for name, header := range map[string]http.Header{
			"bearer":              adminHeader,
			"bearer in lowercase": {"Authorization": {"bearer " + testAdminToken}},
			"basic, any user":     basic("someone", testAdminToken),
		} {
			resp := b.do(http.MethodGet, path, "", "", header)
			require.Equal(t, http.StatusOK, resp.status, "%s: %s: %s", path, name, resp.body)
			require.Contains(t, resp.body, "Bob")
			requireFrameHeaders(t, resp, path)
		}
		// Another site cannot probe the routes with the browser's Basic
		// credentials through an image, a script or a no-cors fetch.
		for _, mode := range []string{"no-cors", "cors"} {
			header := basic("admin", testAdminToken)
			header.Set("Sec-Fetch-Site", "cross-site")
			header.Set("Sec-Fetch-Mode", mode)
			header.Set("Sec-Fetch-Dest", "empty")
			resp := b.do(http.MethodGet, path, "", "", header)
			require.Equal(t, http.StatusForbidden, resp.status, path)
			require.Equal(t, "cross_origin", resp.errorCode(t))
		}
		// A link followed from elsewhere still opens the page.
		header := basic("admin", testAdminToken)
		header.Set("Sec-Fetch-Site", "cross-site")
		header.Set("Sec-Fetch-Mode", "navigate")
		header.Set("Sec-Fetch-Dest", "document")
		require.Equal(t, http.StatusOK, b.do(http.MethodGet, path, "", "", header).status, path)
	}
	page := b.do(http.MethodGet, "/users", "", "", adminHeader)
	require.Equal(t, "text/html; charset=utf-8", page.header.Get("Content-Type"))
	require.Equal(t, usersPageCSP, page.header.Get("Content-Security-Policy"))
}

// TestDemoAppOffByDefault: the comment API, its script and the update
// stream are the demo's, served only with DemoApp.
func TestDemoAppOffByDefault(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.DemoApp = false }))
	for _, req := range []struct{ method, path, ctype, body string }{
		{http.MethodGet, "/comments.js", "", ""},
		{http.MethodGet, "/api/comments?network=" + testNetwork + "&article_id=a1", "", ""},
		{http.MethodPost, "/api/comments", "application/json", `{"article_id":"a1","body":"hi"}`},
		{http.MethodGet, "/api/networks/" + testNetwork + "/updates", "", ""},
	} {
		resp := b.do(req.method, req.path, req.ctype, req.body, nil)
		require.Equal(t, http.StatusNotFound, resp.status, req.path)
	}
	// The protocol's own routes stay.
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/auth.js", "", "", nil).status)

	on := setup(t)
	require.Equal(t, http.StatusOK, on.do(http.MethodGet, "/comments.js", "", "", nil).status)
}

// TestUpdateStreamCapPerClient: one client address holds at most
// UpdateStreamsPerClient update streams; the next is answered 429 JSON
// with Retry-After, and a closed stream frees its place.
func TestUpdateStreamCapPerClient(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *Config) { c.UpdateStreamsPerClient = 2 }))
	path := "/api/networks/" + testNetwork + "/updates"
	first := b.openUpdates(path, nil)
	b.openUpdates(path+"?user=bob", nil)
	resp := b.do(http.MethodGet, path, "", "", nil)
	require.Equal(t, http.StatusTooManyRequests, resp.status, resp.body)
	require.Equal(t, "too_many_streams", resp.errorCode(t))
	require.Equal(t, "10", resp.header.Get("Retry-After"))

	first.cancel()
	require.Eventually(t, func() bool {
		b.h.streams.mu.Lock()
		defer b.h.streams.mu.Unlock()
		return b.h.streams.open["127.0.0.1"] < 2
	}, waitFor, 10*time.Millisecond, "the closed stream kept its place")
	b.openUpdates(path, nil)
}

func TestAdminTokenTooShort(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Networks: []NetworkConfig{{Name: testNetwork, Key: testKey}}, Store: newTestStore(t), AdminToken: "short"})
	require.ErrorContains(t, err, "admin_token must be at least 16 characters")
}

func TestUpdateStreamCapDefault(t *testing.T) {
	t.Parallel()
	require.Equal(t, DefaultUpdateStreamsPerClient, Config{}.WithDefaults().UpdateStreamsPerClient)
	require.Equal(t, 8, DefaultUpdateStreamsPerClient)
	require.Equal(t, -1, Config{UpdateStreamsPerClient: -1}.WithDefaults().UpdateStreamsPerClient)
}
