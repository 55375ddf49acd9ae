package authdelegate

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	lfhub "github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/internal/devidp"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/internal/testenv"
	"github.com/ssogate/ssogate/store"
)

// testSitePage is a site that embeds the hub's real auth.js (Livefyre's
// `auth` module, served by the hub) and authdelegate.js, wired the way
// Livefyre's docs show. It shows the display name of the user auth.js
// logged in (from the hub's auth API), and records the auth events a test
// asserts on: authenticate, logout and errors.
var testSitePage = template.Must(template.New("site").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test site</title>
<style>body{font:16px system-ui;margin:2rem}#name{font-size:1.5rem;font-weight:bold}</style></head>
<body>
<h1>A site with comments</h1>
<p>Signed in as: <span id="name">signed out</span></p>
<p><button id="login">Sign in</button> <button id="logout">Sign out</button></p>
<p id="error"></p>
<script src="{{.Hub}}/auth.js"></script>
<script src="{{.Gateway}}/authdelegate.js"></script>
<script>
var calls = [];
Livefyre.require(['auth'], function (auth) {
  window.auth = auth;
  var name = document.getElementById('name');
  function render(user) { name.textContent = user ? user.get('displayName') : 'signed out'; }
  auth.on('authenticate', function () { calls.push('authenticate'); });
  auth.on('login.livefyre', render);
  auth.on('logout', function () { calls.push('logout'); render(null); });
  auth.on('error', function (e) {
    calls.push('error: ' + e.message);
    document.getElementById('error').textContent = e.message;
  });
  // auth.js restores an earlier page's session before this runs.
  if (auth.isAuthenticated()) { render(auth.get('livefyre')); }
  auth.delegate(ssogate.authDelegate({
    auth: auth,
    mode: new URLSearchParams(location.search).get('mode') || 'popup',
    onError: function (e) { calls.push('error: ' + e.message); }
  }));
  document.getElementById('login').onclick = function () { auth.login(function () {}); };
  document.getElementById('logout').onclick = function () { auth.logout(function () {}); };
});
</script>
</body></html>
`))

// startHub runs the app's hub (package hub's Handler on loopback, its own
// SQLite store) for the gateway's network, as the page's Livefyre side.
func startHub(t *testing.T) (*lfhub.Handler, string, store.Store) {
	t.Helper()
	s := testdb.SQLite(t)
	h, err := lfhub.New(lfhub.Config{
		Networks: []lfhub.NetworkConfig{{Name: testNetwork, Key: testNetworkKey}},
		Store:    s,
		Logger:   slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	r := httpbase.NewMux()
	h.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return h, srv.URL, s
}

// TestChromium runs the script in a real browser against the hub's real
// auth.js: site on localhost, gateway and hub on 127.0.0.1 (another site),
// third-party cookies blocked.
func TestChromium(t *testing.T) {
	chromiumPath := testenv.Chromium(t) // skips, or fails under CI, without it
	t.Parallel()

	// The site, reached as http://localhost:PORT.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var gateway string
	_, hubURL, hubStore := startHub(t)
	siteSrv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = testSitePage.Execute(w, map[string]string{"Gateway": gateway, "Hub": hubURL})
	})}}
	siteSrv.Start()
	t.Cleanup(siteSrv.Close)

	// The provider signs logout tokens without exp, as Ory Hydra does.
	b := setup(t, setupOpts{site: site, mutateIDP: func(c *devidp.Config) { c.LogoutTokensWithoutExp = true }})
	gateway = b.gw.URL
	require.True(t, strings.HasPrefix(gateway, "http://127.0.0.1:"))

	shots := os.Getenv("OUT")
	if shots == "" {
		shots = t.TempDir()
	}
	shots = filepath.Join(shots, "authdelegate-chromium")
	require.NoError(t, os.MkdirAll(shots, 0o755))
	t.Logf("screenshots in %s", shots)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.WindowSize(900, 700),
		// Block third-party cookies as browsers are going to by default; the
		// gateway must not need them.
		chromedp.Flag("test-third-party-cookie-phaseout", true),
	)...)
	defer cancelAlloc()
	ctx, cancel := context.WithTimeout(allocCtx, 2*time.Minute)
	defer cancel()
	tab1, cancelTab1 := chromedp.NewContext(ctx)
	defer cancelTab1()

	blockThirdPartyCookies := func(tab context.Context) {
		if _, err := chromedp.Call(tab, network.SetCookieControls, network.SetCookieControlsParams{EnableThirdPartyCookieRestriction: true}); err != nil {
			t.Logf("Network.setCookieControls not available (%v); relying on the command-line flag", err)
		}
	}
	shot := func(tab context.Context, name string) {
		t.Helper()
		buf, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644))
	}
	waitName := func(tab context.Context, want string) {
		t.Helper()
		deadline := time.Now().Add(waitFor)
		for {
			// A navigation (the redirect back from the provider) aborts a
			// poll; poll again on the new page.
			_, err := chromedp.Run(tab, chromedp.Poll[bool](
				fmt.Sprintf(`(document.getElementById('name') || {}).textContent === %q`, want),
				chromedp.WithPollingTimeout(time.Until(deadline))))
			if err == nil {
				return
			}
			if time.Now().Before(deadline) && strings.Contains(err.Error(), "navigated") {
				continue
			}
			name, _ := chromedp.Run(tab, chromedp.Evaluate[string](`location.href + ' | ' + document.body.innerText + ' | ' + (window.calls || []).join(',')`))
			t.Fatalf("waiting for %q: %v (page shows %q)", want, err, name)
		}
	}
	calls := func(tab context.Context) []string {
		t.Helper()
		c, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`calls`))
		require.NoError(t, err)
		return c
	}

	require.NoError(t, chromedp.Do(tab1))
	blockThirdPartyCookies(tab1)
	require.NoError(t, chromedp.Do(tab1, chromedp.Navigate(site+"/")))
	shot(tab1, "01-signed-out")

	// Popup login.
	tab1ID := chromedp.FromContext(tab1).Target.TargetID
	popupCh := chromedp.WaitNewTarget(tab1, func(info *target.Info) bool { return info.OpenerID == tab1ID })
	require.NoError(t, chromedp.Do(tab1, chromedp.Click(chromedp.CSS("#login"))))
	var popupID target.ID
	select {
	case popupID = <-popupCh:
	case <-time.After(waitFor):
		t.Fatal("no login popup opened")
	}
	popup, cancelPopup := chromedp.NewContext(tab1, chromedp.WithTargetID(popupID))
	require.NoError(t, chromedp.Do(popup, chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`))))
	shot(popup, "02-provider-login")
	require.NoError(t, chromedp.Do(popup,
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "alice-password"),
	))
	// The popup closes itself after posting the credential.
	_ = chromedp.Do(popup, chromedp.Click(chromedp.CSS(`button[value="login"].primary`)))
	waitName(tab1, "Alice Example")
	// Only now: cancelling a context attached to the popup closes it.
	cancelPopup()
	shot(tab1, "03-signed-in")
	require.Equal(t, []string{"authenticate"}, calls(tab1))
	// The name came through the hub: its auth.js, its auth API.
	serverURL, err := chromedp.Run(tab1, chromedp.Evaluate[string](`auth.serverUrl + ' ' + auth.get('livefyre').get('serverUrl')`))
	require.NoError(t, err)
	require.Equal(t, hubURL+" "+hubURL, serverURL)
	rp, err := hubStore.RemoteProfileGet(t.Context(), testNetwork, "alice")
	require.NoError(t, err, "the hub's auth API saw alice")
	require.Equal(t, "Alice Example", rp.DisplayName)

	// A second tab of the same site shares the session.
	tab2, cancelTab2 := chromedp.NewContext(tab1)
	defer cancelTab2()
	require.NoError(t, chromedp.Do(tab2))
	blockThirdPartyCookies(tab2)
	require.NoError(t, chromedp.Do(tab2, chromedp.Navigate(site+"/")))
	waitName(tab2, "Alice Example")
	// One event stream serves both tabs (the leader relays).
	b.waitStreams(1)

	// The backend changes the name (what the webhook does), the hub pulls:
	// both tabs show the new name without a click.
	started := time.Now()
	v := b.changeProfile("alice", "Alice Renamed")
	b.markReady("alice", v)
	waitName(tab1, "Alice Renamed")
	waitName(tab2, "Alice Renamed")
	t.Logf("profile change to both tabs' DOM: %s (polling granularity included)", time.Since(started))
	shot(tab1, "04-tab1-renamed")
	shot(tab2, "05-tab2-renamed")
	for _, tab := range []context.Context{tab1, tab2} {
		c := calls(tab)
		require.Equal(t, []string{"logout", "authenticate"}, c[len(c)-2:], "silent re-login: app logout, then authenticate")
	}
	sessions, err := b.store.SessionListByUser(t.Context(), "alice", b.clock.Now())
	require.NoError(t, err)
	require.Len(t, sessions, 1, "the silent re-login keeps the gateway session")

	// Logout in one tab logs out the other.
	require.NoError(t, chromedp.Do(tab1, chromedp.Click(chromedp.CSS("#logout"))))
	waitName(tab1, "signed out")
	waitName(tab2, "signed out")
	shot(tab2, "06-tab2-logged-out")
	sessions, err = b.store.SessionListByUser(t.Context(), "alice", b.clock.Now())
	require.NoError(t, err)
	require.Empty(t, sessions)

	// Sign in again (single sign-on at the provider: the popup answers at
	// once); the other tab follows through storage events.
	tab2ID := chromedp.FromContext(tab2).Target.TargetID
	popupCh = chromedp.WaitNewTarget(tab2, func(info *target.Info) bool { return info.OpenerID == tab2ID })
	require.NoError(t, chromedp.Do(tab2, chromedp.Click(chromedp.CSS("#login"))))
	select {
	case <-popupCh:
	case <-time.After(waitFor):
		t.Fatal("no login popup opened")
	}
	waitName(tab2, "Alice Renamed")
	waitName(tab1, "Alice Renamed")
	b.waitStreams(1)

	// The provider logs alice out (back-channel): both tabs log out.
	require.NoError(t, b.idp.Logout(t.Context(), "alice"))
	waitName(tab1, "signed out")
	waitName(tab2, "signed out")
	shot(tab1, "07-tab1-backchannel-logout")
	shot(tab2, "08-tab2-backchannel-logout")
	for _, tab := range []context.Context{tab1, tab2} {
		for _, c := range calls(tab) {
			require.False(t, strings.HasPrefix(c, "error"), c)
		}
	}

	// Redirect mode, in a fresh profile (no provider session, empty
	// storage): the page goes to the provider and comes back with a
	// one-time code in the fragment, which the script redeems and removes.
	tab3, cancelTab3 := chromedp.NewContext(tab1, chromedp.WithNewBrowserContext())
	defer cancelTab3()
	require.NoError(t, chromedp.Do(tab3))
	blockThirdPartyCookies(tab3)
	require.NoError(t, chromedp.Do(tab3,
		chromedp.Navigate(site+"/?mode=redirect"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "bob"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "bob-password"),
		chromedp.Click(chromedp.CSS(`button[value="login"].primary`)),
	))
	waitName(tab3, "Bob Example")
	href, err := chromedp.Run(tab3, chromedp.Evaluate[string](`location.href`))
	require.NoError(t, err)
	require.Equal(t, site+"/?mode=redirect", href, "the code is removed from the address bar")
	shot(tab3, "09-redirect-mode")
}
