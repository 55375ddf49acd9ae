package authdelegate

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
	"github.com/ssogate/ssogate/web"
)

// profilePage embeds the hub's real auth.js (served by the site here: no
// auth API call is made) and the gateway's authdelegate.js, and records
// the windows the delegate opens.
const profilePage = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>window.opened = []; window.open = function (u) { window.opened.push(String(u)); return null; };</script>
<script src="/auth.js"></script>
<script src="%s/authdelegate.js"></script>
<script>
Livefyre.require(['auth'], function (auth) {
  window.auth = auth;
  window.delegate = ssogate.authDelegate({auth: auth, onError: function () {}});
  auth.delegate(window.delegate);
});
</script></body></html>`

// TestDelegateProfileDefaultsAndDestroy: viewProfile(author) opens the
// plain author object's profileUrl (Livefyre's apps pass one), and
// editProfile() with nothing opens the signed-in user's settings;
// destroy() is the delegate's own method and stops it.
func TestDelegateProfileDefaultsAndDestroy(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	b := setup(t, setupOpts{site: site})
	authJS, err := web.Hub.ReadFile("hub/auth.js")
	require.NoError(t, err)
	siteSrv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth.js":
			w.Header().Set("Content-Type", "application/javascript")
			_, _ = w.Write(authJS)
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = fmt.Fprintf(w, profilePage, b.gw.URL)
		default:
			http.NotFound(w, r)
		}
	})}}
	siteSrv.Start()
	t.Cleanup(siteSrv.Close)

	ctx, cancel := chromedp.NewContext(context.Background(),
		chromedp.WithAllocatorOptions(chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true)))
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site+"/")))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(function () {
		var o = {};
		function opened(f) { window.opened = []; f(); return window.opened.join(' '); }
		o.authorSignedOut = opened(function () { auth.viewProfile({id: 'x@n', displayName: 'X', profileUrl: 'https://s.example/x'}); });
		o.editSignedOut = opened(function () { auth.editProfile(); });
		var me = auth.api.updateUser(new auth.User(), {profile: {id: 'me@n', displayName: 'Me',
			profileUrl: 'https://s.example/me', settingsUrl: 'https://s.example/settings'}, token: {value: 't', ttl: 60}});
		auth.login({livefyre: me});
		o.edit = opened(function () { auth.editProfile(); });
		o.viewNothing = opened(function () { auth.viewProfile(); });
		o.viewUser = opened(function () { auth.viewProfile(me); });
		o.viewOtherWithoutURL = opened(function () { auth.viewProfile({id: 'other@n', displayName: 'O', profileUrl: null}); });
		o.viewAuthor = opened(function () { auth.viewProfile({id: 'x@n', displayName: 'X', profileUrl: 'https://s.example/x'}); });
		o.destroy = typeof delegate.destroy;
		delegate.destroy();
		return o;
	})()`))
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"authorSignedOut": "https://s.example/x", "editSignedOut": "",
		"edit": "https://s.example/settings", "viewNothing": "https://s.example/me", "viewUser": "https://s.example/me",
		"viewOtherWithoutURL": "", "viewAuthor": "https://s.example/x", "destroy": "function",
	}, got)

	// After destroy, another tab's sign-in (a storage event) is ignored.
	signedIn, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(function () {
		var key = 'ssogate:%s:session';
		localStorage.setItem(key, JSON.stringify({credential: 'another-tab'}));
		window.dispatchEvent(new StorageEvent('storage', {key: key}));
		return delegate.ssogate.state().signedIn;
	})()`, b.gw.URL)))
	require.NoError(t, err)
	require.False(t, signedIn)
}
