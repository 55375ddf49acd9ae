package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
)

// browser starts headless Chromium for the test, or skips (fails under CI)
// when it is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	chromiumPath := testenv.Chromium(t)
	ctx, cancel := chromedp.NewContext(context.Background(),
		chromedp.WithAllocatorOptions(chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true)))
	t.Cleanup(cancel)
	// Start the browser with a context that has no timeout.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	return ctx
}

// sitePage is a page of a website that embeds the hub's auth.js the way
// Livefyre's docs show, records every auth event, and has a delegate.
const sitePage = `<!doctype html>
<html><head><meta charset="utf-8"><title>site</title></head><body>
<script src="%s/auth.js"%s></script>
<script>
window.events = [];
window.eventUsers = [];
Livefyre.require(['auth'], function (auth) {
  window.auth = auth;
  ['login', 'login.livefyre', 'logout', 'authenticate', 'authenticate.livefyre', 'error', 'delegate'].forEach(function (name) {
    auth.on(name, function (arg) {
      window.events.push(name);
      if (name === 'login.livefyre') window.eventUsers.push(arg.get('displayName'));
    });
  });
  auth.delegate({
    login: function (finishLogin) { finishLogin(null, {livefyre: window.nextToken}); },
    logout: function (finishLogout) { finishLogout(null); }
  });
  window.ready = true;
});
</script></body></html>`

// TestAuthJSInBrowser runs auth.js in Chromium on a site origin, against the
// hub on another origin: authenticate with a token, events fire, the
// session survives a reload, logout ends it.
func TestAuthJSInBrowser(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"jsonp", "cors"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			ctx := browser(t)
			site := httptest.NewUnstartedServer(nil)
			siteOrigin := "http://" + site.Listener.Addr().String()
			b := setup(t, withConfig(func(c *Config) { c.AppOrigins = append(c.AppOrigins, siteOrigin) }))
			attr := ""
			if transport == "cors" {
				attr = ` data-transport="cors"`
			}
			site.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = fmt.Fprintf(w, sitePage, b.hub.URL, attr)
			})
			site.Start()
			t.Cleanup(site.Close)

			eval := func(js string) {
				t.Helper()
				_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](js))
				require.NoError(t, err, js)
			}
			wait := func(js string) {
				t.Helper()
				wctx, cancel := context.WithTimeout(ctx, waitFor)
				defer cancel()
				var err error
				for {
					_, err = chromedp.Run(wctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(20*time.Millisecond)))
					// A poll that started in the page being replaced by a
					// navigation loses its execution context: poll again in
					// the new page until the deadline.
					if err == nil || wctx.Err() != nil || !strings.Contains(err.Error(), "Cannot find context with specified id") {
						break
					}
				}
				require.NoError(t, err, "waiting for %s", js)
			}
			get := func(js string) string {
				t.Helper()
				v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
				require.NoError(t, err, js)
				return v
			}
			load := func() {
				t.Helper()
				require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site.URL+"/article")))
				wait(`window.ready === true`)
			}

			load()
			require.Equal(t, "false", get(`String(auth.isAuthenticated())`))
			require.Equal(t, "delegate", get(`events.join(",")`))
			require.Equal(t, b.hub.URL, get(`auth.serverUrl`))

			// A bad token: refused (logged, as Livefyre's plugin does), nobody
			// logged in.
			eval(`window.refused = false; var w = console.warn; console.warn = function () { if (/not accepted/.test([].join.call(arguments, ' '))) window.refused = true; w.apply(console, arguments); }; auth.authenticate({livefyre: 'not-a-token'})`)
			wait(`window.refused`)
			require.Equal(t, "false", get(`String(!!auth.get('livefyre'))`))
			require.NotContains(t, get(`events.join(",")`), "error")

			// Authenticate with a token (Livefyre's debug login).
			eval(fmt.Sprintf(`events = []; auth.authenticate({livefyre: %q})`, b.userToken("bob", "Bobby")))
			wait(`!!auth.get('livefyre')`)
			require.Equal(t, "authenticate.livefyre,authenticate,login,login.livefyre", get(`events.join(",")`))
			require.Equal(t, "Bobby", get(`auth.get('livefyre').get('displayName')`))
			require.Equal(t, "bob@test.fyre.co", get(`auth.get('livefyre').get('id')`))
			require.Equal(t, b.hub.URL, get(`auth.get('livefyre').get('serverUrl')`))
			hubToken := get(`JSON.parse(localStorage.getItem('fyre-authentication-creds')).value`)
			// The hub's app-session token, signed with its own key: no
			// userAuthToken.
			_, err := b.codec.Verify(hubToken)
			require.Error(t, err)
			claims, err := b.h.networks[testNetwork].session.Verify(hubToken)
			require.NoError(t, err)
			require.Equal(t, "bob", claims.UserID)
			require.Equal(t, hubToken, get(`auth.get('livefyre').get('token')`))
			require.Contains(t, get(`localStorage.getItem('fyre-auth')`), `"displayName":"Bobby"`)

			// The session survives a reload.
			load()
			require.Equal(t, "true", get(`String(auth.isAuthenticated())`))
			require.Equal(t, "Bobby", get(`auth.get('livefyre').get('displayName')`))
			require.Equal(t, "delegate", get(`events.join(",")`))

			// The delegate's login hands over a new token: a new session.
			eval(fmt.Sprintf(`events = []; window.nextToken = %q; auth.login(function () {})`, b.userToken("bob", "Robert")))
			wait(`eventUsers.indexOf('Robert') >= 0`)
			require.Equal(t, "authenticate.livefyre,authenticate,login,login.livefyre", get(`events.join(",")`))

			// Logout ends it, here and after a reload.
			eval(`events = []; auth.logout()`)
			wait(`events.indexOf('logout') >= 0`)
			require.Equal(t, "false", get(`String(auth.isAuthenticated())`))
			require.Equal(t, "true", get(`String(localStorage.getItem('fyre-auth') === null && localStorage.getItem('fyre-authentication-creds') === null)`))
			load()
			require.Equal(t, "false", get(`String(auth.isAuthenticated())`))

			// An expired stored session is dropped at load.
			eval(`localStorage.setItem('fyre-auth', JSON.stringify({value: {profile: {id: 'x@test.fyre.co'}, token: {value: 't', ttl: 1}}, expiration: Date.now() - 1}))`)
			load()
			require.Equal(t, "false", get(`String(auth.isAuthenticated())`))
			require.Equal(t, "true", get(`String(localStorage.getItem('fyre-auth') === null)`))
			require.True(t, strings.HasPrefix(site.URL, "http://127.0.0.1"))
		})
	}
}
