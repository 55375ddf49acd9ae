package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// TestRiverUIRefusesCrossSiteDelete wires the gateway as `serve` does, with
// the real River UI, and replays the attack of issue 11: a cross-site
// text/plain form to River UI's job delete, carried by the browser's Basic
// credentials, deleted a waiting ping. Now it is refused and the job stays;
// the same request from the River UI's own page still works.
func TestRiverUIRefusesCrossSiteDelete(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const admin = "gateway-admin-token-0123456789"
	dir := t.TempDir()
	cfg, err := loadConfig(nil, mapEnv(map[string]string{
		"SSOGATE_NETWORK_NAME":    "csrf.fyre.co",
		"SSOGATE_NETWORK_KEY":     "csrf-network-key",
		"SSOGATE_DATABASE_URL":    "sqlite:" + filepath.Join(dir, "gateway.db"),
		"SSOGATE_PUBLIC_URL":      "http://127.0.0.1:1",
		"SSOGATE_HUB_URL":         "http://127.0.0.1:1",
		"SSOGATE_ADMIN_TOKEN":     admin,
		"SSOGATE_WEBHOOK_SECRETS": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}), requirements{network: true})
	require.NoError(t, err)
	a, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(a.close)
	g, err := wireGateway(ctx, a)
	require.NoError(t, err)
	// River is not started: the ping job waits, as in the report.
	require.NoError(t, a.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return g.pingpull.EnqueuePingTx(ctx, tx, "victim")
	}))
	res, err := a.store.Jobs().JobList(ctx, river.NewJobListParams().First(10))
	require.NoError(t, err)
	require.Len(t, res.Jobs, 1)
	job := res.Jobs[0]
	srv := httptest.NewServer(a.router)
	t.Cleanup(srv.Close)

	del := func(header map[string]string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/admin/jobs/api/jobs/delete",
			strings.NewReader(`{"ids":["`+strconv.FormatInt(job.ID, 10)+`"]}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/plain")
		req.SetBasicAuth("admin", admin)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, header := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "same-site", "Origin": "http://evil.127.0.0.1.nip.io"},
		{"Origin": "https://evil.example"},
	} {
		status, body := del(header)
		require.Equal(t, http.StatusForbidden, status, body)
		require.Contains(t, body, `"code":"cross_origin"`)
		_, err := a.store.Jobs().JobGet(ctx, job.ID)
		require.NoError(t, err, "the waiting ping is still there")
	}

	// The River UI's page and its own request.
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/admin/jobs/", nil)
	require.NoError(t, err)
	req.SetBasicAuth("admin", admin)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, string(page), "<html")
	requireNoFraming(t, resp.Header, "River UI")

	status, body := del(map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": srv.URL})
	require.Equal(t, http.StatusOK, status, body)
	_, err = a.store.Jobs().JobGet(ctx, job.ID)
	require.ErrorIs(t, err, rivertype.ErrNotFound, "the same request from the UI's page deletes: the refusals above were the protection")
}

// requireNoFraming checks an answer's X-Frame-Options and CSP.
func requireNoFraming(t *testing.T, h http.Header, what string) {
	t.Helper()
	require.Equal(t, "DENY", h.Get("X-Frame-Options"), what)
	csp := strings.Join(h.Values("Content-Security-Policy"), ", ")
	require.Contains(t, csp, "frame-ancestors 'none'", what)
}

// TestDemoPagesCannotBeFramed runs the demo in process and fetches every
// HTML page it serves: the site's, the provider's login page, the
// gateway's sign-in pages, the hub's users page and the River UI. Each
// carries X-Frame-Options DENY and a CSP with frame-ancestors 'none'. It
// also checks what the demo opens: the users page with the admin token only
// (Basic), the demo app (comment API, update stream) without one.
func TestDemoPagesCannotBeFramed(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	site, gateway, hubURL, dir := d.site, d.gateway, d.hub, d.dir
	raw, err := os.ReadFile(filepath.Join(dir, "secrets.json"))
	require.NoError(t, err)
	var secrets demoSecrets
	require.NoError(t, json.Unmarshal(raw, &secrets))
	require.NotEmpty(t, secrets.AdminToken)

	get := func(client *http.Client, rawURL string, basic bool) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, rawURL, nil)
		require.NoError(t, err)
		if basic {
			req.SetBasicAuth("admin", secrets.AdminToken)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		return resp, string(body)
	}
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}

	pages := []struct {
		name, url string
		basic     bool
		status    int
	}{
		{"site home", site + "/", false, http.StatusOK},
		{"site article", site + "/article", false, http.StatusOK},
		{"site profile", site + "/profile", false, http.StatusOK},
		{"gateway sign-in error page", gateway + "/login", false, http.StatusBadRequest},
		{"gateway callback error page", gateway + "/callback", false, http.StatusBadRequest},
		{"provider login page (through the gateway's login)", gateway + "/login?" + url.Values{"origin": {site}, "mode": {"popup"}}.Encode(), false, http.StatusOK},
		{"hub users page", hubURL + "/users", true, http.StatusOK},
		{"gateway River UI", gateway + "/admin/jobs/", true, http.StatusOK},
	}
	for _, p := range pages {
		resp, body := get(browser, p.url, p.basic)
		require.Equal(t, p.status, resp.StatusCode, "%s: %s", p.name, body)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html", p.name)
		requireNoFraming(t, resp.Header, p.name)
	}
	// The provider's login page is the provider's own answer.
	resp, _ := get(browser, gateway+"/login?"+url.Values{"origin": {site}, "mode": {"popup"}}.Encode(), false)
	require.True(t, strings.HasSuffix(resp.Request.URL.Path, "/login"), resp.Request.URL.String())
	require.NotEqual(t, gateway, "http://"+resp.Request.URL.Host)

	// The hub's users routes need the admin token in the demo too.
	resp, _ = get(http.DefaultClient, hubURL+"/users", false)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, strings.Join(resp.Header.Values("WWW-Authenticate"), ", "), "Basic realm=")
	resp, _ = get(http.DefaultClient, hubURL+"/api/networks/"+demoNetwork+"/users/alice", false)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	// The demo app is on.
	resp, _ = get(http.DefaultClient, hubURL+"/comments.js", false)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := get(http.DefaultClient, hubURL+"/api/comments?article_id=a1", false)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
}

// TestHubAdminAndDemoAppOffByDefault runs `ssogate hub` as configured by
// its defaults plus a network: no users page, no users API, no demo app.
func TestHubAdminAndDemoAppOffByDefault(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg, err := loadConfig(nil, mapEnv(map[string]string{
		"SSOGATE_NETWORK_NAME": "off.fyre.co",
		"SSOGATE_NETWORK_KEY":  "off-network-key",
		"SSOGATE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "hub.db"),
	}), requirements{network: true})
	require.NoError(t, err)
	require.False(t, cfg.Hub.DemoApp)
	require.Equal(t, 8, cfg.Hub.UpdateStreamsPerClient)
	a, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(a.close)
	_, err = wireHub(a)
	require.NoError(t, err)
	srv := httptest.NewServer(a.router)
	t.Cleanup(srv.Close)
	for _, path := range []string{"/users", "/api/networks/off.fyre.co/users/alice", "/comments.js",
		"/api/comments?article_id=a1", "/api/networks/off.fyre.co/updates"} {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		require.NoError(t, err, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Equal(t, "not_found", e.Error.Code, path)
	}
	// The protocol's script is still served, and cannot be framed either.
	resp, err := srv.Client().Get(srv.URL + "/auth.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))

	// A bad cap is a configuration error.
	_, err = loadConfig(nil, mapEnv(map[string]string{"SSOGATE_UPDATE_STREAMS_PER_CLIENT": "-2"}), requirements{})
	var ce *ConfigError
	require.True(t, errors.As(err, &ce), "%v", err)
	require.Contains(t, err.Error(), "hub.update_streams_per_client")
}
