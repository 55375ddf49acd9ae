package authdelegate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/internal/testenv"
	"github.com/ssogate/ssogate/tokens"
)

// envOIDCProvider names a folder holding node_modules/oidc-provider (9.x);
// .ci/run installs it.
const envOIDCProvider = "OIDC_PROVIDER_NODE_MODULES"

// oidcProvider is internal/oidcprovider/provider.mjs running in Node.
type oidcProvider struct {
	issuer       string
	clientID     string
	clientSecret string
}

// startOIDCProvider runs the provider for a gateway at gatewayURL until the
// test ends.
func startOIDCProvider(t *testing.T, gatewayURL, site string) *oidcProvider {
	t.Helper()
	modules := os.Getenv(envOIDCProvider)
	if modules == "" {
		testenv.Missing(t, "%s is unset (npm install --prefix DIR oidc-provider@9)", envOIDCProvider)
	}
	if _, err := os.Stat(filepath.Join(modules, "node_modules", "oidc-provider", "package.json")); err != nil {
		testenv.Missing(t, "%s has no node_modules/oidc-provider: %v", envOIDCProvider, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "no node in PATH: %v", err)
	}
	p := &oidcProvider{clientID: "gateway", clientSecret: randomToken(24)}
	cfg, err := json.Marshal(map[string]any{
		"clientId": p.clientID, "clientSecret": p.clientSecret, "gatewayURL": gatewayURL,
		"postLogoutRedirectURIs": []string{site + "/"}, "accessTokenTTL": 90,
	})
	require.NoError(t, err)
	cmd := exec.Command(node, filepath.Join("..", "internal", "oidcprovider", "provider.mjs"), string(cfg))
	cmd.Env = append(os.Environ(), envOIDCProvider+"="+modules)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = &testLogWriter{t: t, prefix: "oidc-provider: "}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close() // the provider stops when its stdin closes
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		require.True(t, ok, "the provider exited before it was ready")
		var ready struct {
			Issuer string `json:"issuer"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &ready), line)
		p.issuer = ready.Issuer
	case <-time.After(30 * time.Second):
		t.Fatal("the provider did not start within 30s")
	}
	return p
}

// introspect asks the provider whether token is active (RFC 7662), as the
// gateway's client.
func (p *oidcProvider) introspect(t *testing.T, token string) bool {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.issuer+"/token/introspection",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(p.clientID, p.clientSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Active bool `json:"active"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Active
}

// testLogWriter sends a child's stderr to the test log, line by line.
type testLogWriter struct {
	t      *testing.T
	prefix string
}

func (w *testLogWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if !strings.Contains(line, "WARNING: ") {
			w.t.Log(w.prefix + line)
		}
	}
	return len(b), nil
}

// TestOIDCProviderEndToEnd runs the gateway against a real, certified,
// out-of-process provider (npm oidc-provider) in Chromium: login in both
// modes, refresh with rotation, logout with the refresh token revoked at
// the provider, back-channel logout from the provider to every tab, and
// the figures of the issue (provider logout → every tab, login round trip).
func TestOIDCProviderEndToEnd(t *testing.T) {
	chromiumPath := testenv.Chromium(t)
	t.Parallel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var gwHandler http.Handler
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gwHandler.ServeHTTP(w, r) }))
	t.Cleanup(gw.Close)
	siteSrv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = popupSitePage.Execute(w, map[string]string{"Gateway": gw.URL})
	})}}
	siteSrv.Start()
	t.Cleanup(siteSrv.Close)

	op := startOIDCProvider(t, gw.URL, site)
	st := testdb.SQLite(t)
	codec, err := tokens.New(tokens.Config{Network: testNetwork, Key: testNetworkKey})
	require.NoError(t, err)
	clock := &testClock{}
	h, err := New(t.Context(), Config{
		Store: st, Tokens: codec, IssuerURL: op.issuer, ClientID: op.clientID, ClientSecret: op.clientSecret,
		PublicURL: gw.URL, AllowedOrigins: []string{site}, SessionKey: []byte("0123456789abcdef0123456789abcdef"),
		Registerer: prometheus.NewRegistry(), Now: clock.Now, RevokeRetryDelay: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	r := httpbase.NewMux()
	h.Mount(r)
	gwHandler = r
	run(t, h)
	b := &testBundle{t: t, store: st, h: h, gw: gw, clock: clock, site: site}
	b.startJobs()

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.WindowSize(900, 700),
		chromedp.Flag("test-third-party-cookie-phaseout", true),
	)...)
	defer cancelAlloc()
	ctx, cancel := context.WithTimeout(allocCtx, 10*time.Minute)
	defer cancel()
	newTab := func(parent context.Context, opts ...chromedp.ContextOption) context.Context {
		tab, cancelTab := chromedp.NewContext(parent, opts...)
		t.Cleanup(cancelTab)
		require.NoError(t, chromedp.Do(tab))
		if _, err := chromedp.Call(tab, network.SetCookieControls, network.SetCookieControlsParams{EnableThirdPartyCookieRestriction: true}); err != nil {
			t.Logf("Network.setCookieControls not available (%v)", err)
		}
		return tab
	}
	tab1 := newTab(ctx)
	ph := &popupHarness{t: t, b: b, site: site, ctx: tab1}
	nameIs := func(name string) string {
		return fmt.Sprintf(`(document.getElementById('name') || {}).textContent === %q`, name)
	}
	evalInt := func(tab context.Context, expr string) int64 {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[float64](expr))
		require.NoError(t, err)
		return int64(v)
	}
	// providerLogin answers oidc-provider's login form in tab (any login
	// name works) and returns the page's clock at the submit.
	providerLogin := func(tab context.Context, user string) int64 {
		t.Helper()
		require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`))))
		return evalInt(tab, fmt.Sprintf(`(function () {
			document.querySelector('input[name="login"]').value = %q;
			document.querySelector('input[name="password"]').value = 'any';
			var t0 = Date.now();
			document.querySelector('button.login-submit').click();
			return t0;
		})()`, user))
	}
	popupLogin := func(user string) int64 {
		t.Helper()
		popup, cancelPopup := ph.openPopup()
		t0 := providerLogin(popup, user)
		ph.waitJS(tab1, nameIs("Alice Example"))
		cancelPopup()
		return evalInt(tab1, `window.signedInAt`) - t0
	}
	sessionOf := func() (string, []byte) {
		t.Helper()
		sessions, err := st.SessionListByUser(t.Context(), "alice", clock.Now())
		require.NoError(t, err)
		require.Len(t, sessions, 1)
		return sessions[0].ID, sessions[0].RefreshTokenEnc
	}
	refreshToken := func() string {
		t.Helper()
		id, enc := sessionOf()
		rt, err := h.sealer.open(enc, []byte(id))
		require.NoError(t, err)
		return string(rt)
	}

	// Popup login; a second tab shares the session.
	require.NoError(t, chromedp.Do(tab1, chromedp.Navigate(site+"/")))
	popupLogin("alice")
	tab2 := newTab(tab1)
	require.NoError(t, chromedp.Do(tab2, chromedp.Navigate(site+"/")))
	ph.waitJS(tab2, nameIs("Alice Example"))

	// Refresh with rotation: the provider's access token (90s) nears its
	// expiry; the next token request uses the refresh token, which the
	// provider rotates.
	rt1 := refreshToken()
	require.True(t, op.introspect(t, rt1))
	clock.Advance(31 * time.Second)
	_, err = chromedp.Run(tab1, chromedp.Evaluate[bool](`auth.d.ssogate.refresh().then(function () { window.refreshed = true; }), true`))
	require.NoError(t, err)
	ph.waitJS(tab1, `window.refreshed === true`)
	rt2 := refreshToken()
	require.NotEqual(t, rt1, rt2, "the provider rotated the refresh token")
	require.False(t, op.introspect(t, rt1), "the old refresh token is spent")
	require.True(t, op.introspect(t, rt2))
	require.GreaterOrEqual(t, counterValue(t, h.metrics.providerRefresh.WithLabelValues("success")), 1.0)

	// Logout in one tab: both tabs sign out and the gateway revokes the
	// refresh token at the provider.
	require.NoError(t, chromedp.Do(tab1, chromedp.Click(chromedp.CSS("#logout"))))
	ph.waitJS(tab1, nameIs("signed out"))
	ph.waitJS(tab2, nameIs("signed out"))
	asynctest.Eventually(t, waitFor, "the refresh token revoked at the provider", func() bool { return !op.introspect(t, rt2) })

	// Redirect mode, in a fresh browser profile.
	tab3 := newTab(tab1, chromedp.WithNewBrowserContext())
	require.NoError(t, chromedp.Do(tab3, chromedp.Navigate(site+"/?mode=redirect")))
	require.NoError(t, chromedp.Do(tab3, chromedp.Click(chromedp.CSS("#login"))))
	providerLogin(tab3, "bob")
	ph.waitJS(tab3, nameIs("Bob Example"))
	href, err := chromedp.Run(tab3, chromedp.Evaluate[string](`location.href`))
	require.NoError(t, err)
	require.Equal(t, site+"/?mode=redirect", href)

	// Back-channel logout from the provider: the reader signs out at the
	// provider itself (its end-session page, in a third tab of the same
	// browser); the provider posts a logout token to the gateway and every
	// tab signs out. Repeated for the figures.
	// OIDC_E2E_RUNS=50 for the README's figures; fewer keep CI short.
	runs := 10
	if testing.Short() {
		runs = 3
	}
	if v, err := strconv.Atoi(os.Getenv("OIDC_E2E_RUNS")); err == nil && v > 0 {
		runs = v
	}
	var logins, logouts []time.Duration
	providerTab := newTab(tab1)
	providerLogout := func() int64 {
		t.Helper()
		require.NoError(t, chromedp.Do(providerTab, chromedp.Navigate(op.issuer+"/session/end")))
		require.NoError(t, chromedp.Do(providerTab, chromedp.WaitVisible(chromedp.CSS(`button[name="logout"][value="yes"]`))))
		return evalInt(providerTab, `(function () { var t0 = Date.now(); document.querySelector('button[name="logout"][value="yes"]').click(); return t0; })()`)
	}
	// alice is still signed in at the provider from the first login (the
	// gateway logout does not end it): end that first, unmeasured.
	providerLogout()
	require.NoError(t, chromedp.Do(providerTab, chromedp.WaitVisible(chromedp.CSS(`body`))))
	asynctest.Eventually(t, waitFor, "the first back-channel logout", func() bool {
		return counterValue(t, h.metrics.backchannel.WithLabelValues("success")) >= 1
	})
	base := counterValue(t, h.metrics.backchannel.WithLabelValues("success"))
	for i := range runs {
		logins = append(logins, time.Duration(popupLogin("alice"))*time.Millisecond)
		ph.waitJS(tab2, nameIs("Alice Example"))
		t0 := providerLogout()
		ph.waitJS(tab1, nameIs("signed out"))
		ph.waitJS(tab2, nameIs("signed out"))
		last := max(evalInt(tab1, `window.signedOutAt`), evalInt(tab2, `window.signedOutAt`))
		logouts = append(logouts, time.Duration(last-t0)*time.Millisecond)
		require.Equal(t, base+float64(i+1), counterValue(t, h.metrics.backchannel.WithLabelValues("success")), "run %d", i)
	}
	slices.Sort(logins)
	slices.Sort(logouts)
	pct := func(d []time.Duration, p float64) time.Duration { return d[int(p*float64(len(d)-1)+0.5)] }
	t.Logf("provider logout -> every tab (2) signed out, %d runs: p50 %s, p99 %s, max %s",
		runs, pct(logouts, 0.5), pct(logouts, 0.99), logouts[len(logouts)-1])
	t.Logf("login round trip (provider form submit -> app authenticated, popup), %d runs: p50 %s, p99 %s",
		runs, pct(logins, 0.5), pct(logins, 0.99))
}
