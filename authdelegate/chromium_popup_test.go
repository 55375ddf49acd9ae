package authdelegate

import (
	"context"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
)

// popupSitePage embeds authdelegate.js with a stub Livefyre auth and
// records the delegate's events and what login's callback got.
var popupSitePage = template.Must(template.New("popup-site").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Popup test site</title></head>
<body>
<p>Signed in as: <span id="name">signed out</span></p>
<p><button id="login">Sign in</button> <button id="logout">Sign out</button></p>
<script src="{{.Gateway}}/authdelegate.js"></script>
<script>
var events = [], loginErrors = [];
function displayName(token) {
  var p = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(p)).display_name;
}
var auth = {
  d: null,
  delegate: function (d) {
    var self = this;
    this.d = d;
    d.forEachAuthentication(function (creds) { self.authenticate(creds); });
  },
  authenticate: function (creds) {
    if (creds) { document.getElementById('name').textContent = displayName(creds.livefyre); window.signedInAt = Date.now(); }
  },
  login: function () {
    var self = this;
    this.d.login(function (err, creds) {
      if (err) { loginErrors.push(err.code + ': ' + err.message); } else { self.authenticate(creds); }
    });
  },
  logout: function (cb) {
    document.getElementById('name').textContent = 'signed out';
    window.signedOutAt = Date.now();
    if (cb) { cb(); }
  }
};
var q = new URLSearchParams(location.search);
auth.delegate(ssogate.authDelegate({
  auth: auth,
  mode: q.get('mode') || 'popup',
  popupFallback: q.get('fallback') || undefined,
  onEvent: function (name, detail) {
    if (name === 'token' || name === 'leader') { return; }
    events.push(name + ' ' + JSON.stringify(detail));
  }
}));
document.getElementById('login').onclick = function () { auth.login(); };
document.getElementById('logout').onclick = function () { auth.d.logout(function () { auth.logout(); }); };
</script>
</body></html>
`))

// popupHarness is a browser on a site (localhost) embedding a gateway
// (127.0.0.1) in front of devidp, with Chromium's popup blocker on.
type popupHarness struct {
	t    *testing.T
	b    *testBundle
	site string
	ctx  context.Context
}

func newPopupHarness(t *testing.T) *popupHarness {
	t.Helper()
	chromiumPath := testenv.Chromium(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	var gateway string
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = popupSitePage.Execute(w, map[string]string{"Gateway": gateway})
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	b := setup(t, setupOpts{site: site})
	gateway = b.gw.URL

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.WindowSize(900, 700),
		// chromedp turns the popup blocker off by default; these tests
		// need it as readers have it.
		chromedp.Flag("disable-popup-blocking", false),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := context.WithTimeout(allocCtx, 2*time.Minute)
	t.Cleanup(cancel)
	tab, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab))
	return &popupHarness{t: t, b: b, site: site, ctx: tab}
}

// waitJS polls expr (a boolean expression) until it holds, across
// navigations.
func (p *popupHarness) waitJS(tab context.Context, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		_, err := chromedp.Run(tab, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		if time.Now().Before(deadline) && strings.Contains(err.Error(), "navigated") {
			continue
		}
		page, _ := chromedp.Run(tab, chromedp.Evaluate[string](`location.href + ' | ' + document.body.innerText + ' | ' + (window.events || []).join(',') + ' | ' + (window.loginErrors || []).join(',')`))
		p.t.Fatalf("waiting for %s: %v (page: %q)", expr, err, page)
	}
}

func (p *popupHarness) strings(expr string) []string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](expr))
	require.NoError(p.t, err)
	return v
}

// loginWithoutGesture calls auth.login() from script, not from a click:
// what popup blockers refuse.
func (p *popupHarness) loginWithoutGesture() {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`auth.login(), true`))
	require.NoError(p.t, err)
}

// signIn fills the provider's login form in tab.
func signIn(tab context.Context, user string) error {
	return chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), user+"-password"),
		chromedp.Click(chromedp.CSS(`button[value="login"].primary`)),
	)
}

// openPopup clicks the sign-in button (a user gesture: the blocker lets it
// through) and returns the popup's context.
func (p *popupHarness) openPopup() (context.Context, context.CancelFunc) {
	p.t.Helper()
	id := chromedp.FromContext(p.ctx).Target.TargetID
	ch := chromedp.WaitNewTarget(p.ctx, func(info *target.Info) bool { return info.OpenerID == id })
	require.NoError(p.t, chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS("#login"))))
	select {
	case popupID := <-ch:
		return chromedp.NewContext(p.ctx, chromedp.WithTargetID(popupID))
	case <-time.After(waitFor):
		p.t.Fatal("no login popup opened")
		return nil, nil
	}
}

// TestChromiumPopupBlocked: login() outside a click is what popup blockers
// refuse; the delegate signs in by redirect instead, or, with
// popupFallback 'none', says popup_blocked.
func TestChromiumPopupBlocked(t *testing.T) {
	t.Parallel()
	p := newPopupHarness(t)

	require.NoError(t, chromedp.Do(p.ctx, chromedp.Navigate(p.site+"/?fallback=none")))
	p.loginWithoutGesture()
	p.waitJS(p.ctx, `loginErrors.length === 1`)
	require.Equal(t, []string{`popup_blocked {"fallback":"none"}`}, p.strings(`events`))
	require.Equal(t, []string{"popup_blocked: The sign-in window was blocked by the browser. Allow pop-ups for this site and try again."}, p.strings(`loginErrors`))

	require.NoError(t, chromedp.Do(p.ctx, chromedp.Navigate(p.site+"/")))
	p.loginWithoutGesture()
	// The page itself goes to the provider.
	require.NoError(t, signIn(p.ctx, "alice"))
	p.waitJS(p.ctx, `(document.getElementById('name') || {}).textContent === 'Alice Example'`)
	href, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.href`))
	require.NoError(t, err)
	require.Equal(t, p.site+"/", href)
	require.Equal(t, []string{`login {"version":1}`}, p.strings(`events`), "the new page saw the login")
}

// TestChromiumPopupClosed: the reader closes the popup before signing in.
func TestChromiumPopupClosed(t *testing.T) {
	t.Parallel()
	p := newPopupHarness(t)
	require.NoError(t, chromedp.Do(p.ctx, chromedp.Navigate(p.site+"/")))
	popup, cancelPopup := p.openPopup()
	require.NoError(t, chromedp.Do(popup, chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`))))
	cancelPopup() // closes the popup window
	p.waitJS(p.ctx, `loginErrors.length === 1`)
	require.Equal(t, []string{`login_cancelled {"reason":"closed"}`}, p.strings(`events`))
	require.Equal(t, []string{"login_cancelled: Sign-in was cancelled."}, p.strings(`loginErrors`))
}

// TestChromiumPopupSeveredByCOOP: the provider's login page sends
// Cross-Origin-Opener-Policy: same-origin, which cuts the popup off from
// the site tab (it reads as closed there). The popup finishes on the site
// page with a one-time code, and the tab signs in through the shared
// storage.
func TestChromiumPopupSeveredByCOOP(t *testing.T) {
	t.Parallel()
	p := newPopupHarness(t)
	p.b.idpCOOP.Store(true)
	require.NoError(t, chromedp.Do(p.ctx, chromedp.Navigate(p.site+"/")))
	popup, cancelPopup := p.openPopup()
	defer cancelPopup()
	require.NoError(t, signIn(popup, "alice"))
	p.waitJS(p.ctx, `(document.getElementById('name') || {}).textContent === 'Alice Example'`)
	// The tab notices the severed popup on its own clock (a poll, then a
	// grace for a late message), which may come before or after the
	// sign-in arrives through storage: wait for it, then check it is all
	// the tab heard.
	p.waitJS(p.ctx, `events.length > 0`)
	require.Equal(t, []string{`login_cancelled {"reason":"closed"}`}, p.strings(`events`), "the tab lost the popup")
	// The popup ended on the site page, signed in, the code gone.
	p.waitJS(popup, `(document.getElementById('name') || {}).textContent === 'Alice Example' && location.hash === ''`)
}
