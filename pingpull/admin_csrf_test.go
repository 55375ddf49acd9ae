package pingpull

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// adminRequest sends one request to the gateway's admin routes with the
// admin token as the Basic password (what a browser that logged in to the
// River UI sends with every request, from any page) and the given headers.
func adminRequest(t *testing.T, b *testBundle, method, path, contentType, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.server.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth("admin", testAdmin)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(raw)
}

// TestAdminRefusesCrossSiteRequests: a cross-site page cannot use the
// browser's Basic credentials on the River UI or the admin API (a
// text/plain form to River UI's job delete was accepted before).
func TestAdminRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
	b := setup(t, setupOpts{cfg: func(c *Config) { c.RiverUI = ui }})
	own := b.server.URL
	for _, tt := range []struct {
		name   string
		header map[string]string
	}{
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"same-site fetch metadata", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://other.example"}},
		{"foreign origin without fetch metadata", map[string]string{"Origin": "https://evil.example"}},
		{"null origin (sandboxed frame)", map[string]string{"Origin": "null"}},
	} {
		for _, path := range []string{"/admin/jobs/api/jobs/delete", "/admin/api/deadletters/1/replay"} {
			status, header, body := adminRequest(t, b, http.MethodPost, path, "text/plain", `{"ids":["1"]}`, tt.header)
			require.Equal(t, http.StatusForbidden, status, "%s %s: %s", tt.name, path, body)
			require.Equal(t, "cross_origin", errorCode(t, []byte(body)), tt.name)
			require.Equal(t, "DENY", header.Get("X-Frame-Options"))
		}
	}
	require.Zero(t, reached.Load(), "no cross-site request reached the River UI")

	// The River UI's own requests (same origin; its code posts JSON as
	// text/plain) and non-browser clients pass.
	for _, header := range []map[string]string{
		{"Sec-Fetch-Site": "same-origin", "Origin": own},
		{"Origin": own},
		{},
	} {
		status, _, body := adminRequest(t, b, http.MethodPost, "/admin/jobs/api/jobs/delete", "text/plain;charset=UTF-8", `{"ids":["1"]}`, header)
		require.Equal(t, http.StatusOK, status, body)
	}
	require.EqualValues(t, 3, reached.Load())

	// Cross-site subresources (an <img> or no-cors fetch of a River UI API
	// or an admin API answer) are refused too; a followed link is not.
	status, _, _ := adminRequest(t, b, http.MethodGet, "/admin/api/deadletters", "", "",
		map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"})
	require.Equal(t, http.StatusForbidden, status)
	status, _, _ = adminRequest(t, b, http.MethodGet, "/admin/jobs/", "", "",
		map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"})
	require.Equal(t, http.StatusOK, status)
	// Framing is a subresource too.
	status, _, _ = adminRequest(t, b, http.MethodGet, "/admin/jobs/", "", "",
		map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"})
	require.Equal(t, http.StatusForbidden, status)
}

// TestAdminAPIRequiresJSON: the admin API's unsafe requests must say
// application/json, body or not (a form cannot).
func TestAdminAPIRequiresJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, ctype := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "text/json"} {
		status, _, body := adminRequest(t, b, http.MethodPost, "/admin/api/deadletters/abc/replay", ctype, "", nil)
		require.Equal(t, http.StatusUnsupportedMediaType, status, "%q: %s", ctype, body)
		require.Equal(t, "unsupported_media_type", errorCode(t, []byte(body)))
	}
	for _, ctype := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
		status, _, body := adminRequest(t, b, http.MethodPost, "/admin/api/deadletters/abc/replay", ctype, "", nil)
		require.Equal(t, http.StatusBadRequest, status, "%q: %s", ctype, body)
		require.Equal(t, "invalid_field", errorCode(t, []byte(body)), "reached the handler")
	}
	// Authentication comes first: no token, 401 whatever the type.
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/admin/api/deadletters/abc/replay", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestAdminFrameHeaders: no admin answer can be framed, River UI's
// included, whether the request was let in or not.
func TestAdminFrameHeaders(t *testing.T) {
	t.Parallel()
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>River</title>"))
	})
	b := setup(t, setupOpts{cfg: func(c *Config) { c.RiverUI = ui }})
	for _, path := range []string{"/admin/jobs/", "/admin/api/deadletters"} {
		for _, bearer := range []string{"", testAdmin} {
			status, header, _ := b.do(t, http.MethodGet, path, bearer)
			if bearer == "" {
				require.Equal(t, http.StatusUnauthorized, status)
				require.Contains(t, strings.Join(header.Values("WWW-Authenticate"), ", "), `Basic realm="ssogate admin: any user name, the admin_token as password"`, "browsers can log in")
			} else {
				require.Equal(t, http.StatusOK, status, path)
			}
			require.Equal(t, "DENY", header.Get("X-Frame-Options"), path)
			require.Equal(t, "frame-ancestors 'none'", header.Get("Content-Security-Policy"), path)
		}
	}
}
