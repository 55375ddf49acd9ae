package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// compatPage is a site page with the hub's auth.js: pre runs before it
// (what a page had on it already: fyre.conv, an older Livefyre object),
// and helpers for the checks after it.
const compatPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>compat</title></head><body>
<script>
window.warnings = [];
var origWarn = console.warn;
console.warn = function () { window.warnings.push([].slice.call(arguments).map(String).join(' ')); origWarn.apply(console, arguments); };
window.until = function (cond, what) {
  return new Promise(function (resolve, reject) {
    var deadline = Date.now() + 10000;
    (function poll() {
      var v; try { v = cond(); } catch (e) { v = false; }
      if (v) return resolve(v);
      if (Date.now() > deadline) return reject(new Error('timed out waiting for ' + (what || cond)));
      setTimeout(poll, 20);
    })();
  });
};
window.Emitter = function () { this.l = {}; };
Emitter.prototype.on = function (n, f) { (this.l[n] = this.l[n] || []).push(f); };
Emitter.prototype.off = Emitter.prototype.removeListener = function (n, f) { this.l[n] = (this.l[n] || []).filter(function (g) { return g !== f; }); };
Emitter.prototype.once = function (n, f) { var self = this; function w() { self.off(n, w); f.apply(this, arguments); } this.on(n, w); };
Emitter.prototype.emit = function (n) { var a = [].slice.call(arguments, 1); (this.l[n] || []).slice().forEach(function (f) { f.apply(null, a); }); };
%s
</script>
<script src="%s/auth.js"></script>
</body></html>`

// compat drives auth.js pages in one Chromium against one hub.
type compat struct {
	t     *testing.T
	ctx   context.Context
	b     *testBundle
	site  *httptest.Server
	mu    sync.Mutex
	pages map[string]string
	n     int
}

func newCompat(t *testing.T, opts ...option) *compat {
	c := &compat{t: t, ctx: browser(t), pages: map[string]string{}}
	c.site = httptest.NewUnstartedServer(nil)
	siteOrigin := "http://" + c.site.Listener.Addr().String()
	opts = append(opts, withConfig(func(cfg *Config) { cfg.AppOrigins = append(cfg.AppOrigins, siteOrigin) }))
	c.b = setup(t, opts...)
	c.site.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		pre, ok := c.pages[r.URL.Path]
		c.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, compatPage, pre, c.b.hub.URL)
	})
	c.site.Start()
	t.Cleanup(c.site.Close)
	return c
}

// open loads a fresh page (with empty localStorage unless keep) whose
// pre-script is pre, and returns its path for reloads.
func (c *compat) open(t *testing.T, pre string, keep bool) string {
	t.Helper()
	c.mu.Lock()
	c.n++
	path := "/p" + strconv.Itoa(c.n)
	c.pages[path] = pre
	c.pages["/blank"] = ""
	c.mu.Unlock()
	if !keep {
		require.NoError(t, chromedp.Do(c.ctx, chromedp.Navigate(c.site.URL+"/blank")))
		c.eval(t, `localStorage.clear(), true`)
	}
	c.load(t, path)
	return path
}

func (c *compat) load(t *testing.T, path string) {
	t.Helper()
	require.NoError(t, chromedp.Do(c.ctx, chromedp.Navigate(c.site.URL+path)))
}

// eval runs an async function body and returns what it resolves to.
func (c *compat) eval(t *testing.T, body string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, waitFor)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(async function () { return (`+body+`); })()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err, body)
	return v
}

// check runs an async function body that returns an object of
// observations, and compares it with want.
func (c *compat) check(t *testing.T, body string, want map[string]any) {
	t.Helper()
	got := c.eval(t, `await (async function () { `+body+` })()`)
	require.Equal(t, want, got)
}

// TestAuthJSLivefyreAuth: the auth object's state and delegate, as
// Livefyre/auth's: get() falsy when logged out and replaced by each login,
// isAuthenticated from the first authenticate, login(anything truthy),
// hasDelegate(), forEachAuthentication before the delegate event.
func TestAuthJSLivefyreAuth(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	c.open(t, "", false)
	c.check(t, `
		var o = {};
		var auth; Livefyre.require(['auth'], function (a) { auth = a; });
		o.getBefore = auth.get() === null || auth.get() === undefined;
		o.authBefore = auth.isAuthenticated();
		o.hasDelegateBefore = auth.hasDelegate();
		auth.login({vendor: 'v'});
		o.vendor = auth.get('vendor');
		o.authAfterLogin = auth.isAuthenticated();
		auth.login({other: 'o'});
		o.vendorAfterSecondLogin = String(auth.get('vendor'));
		o.other = auth.get('other');
		auth.login('t');
		o.stringLogin = auth.get();
		var order = [];
		auth.on('delegate', function () { order.push('delegate'); });
		auth.delegate({forEachAuthentication: function (a) { order.push('forEachAuthentication'); }});
		o.order = order.join(',');
		o.hasDelegate = auth.hasDelegate();
		o.hasLogin = auth.hasDelegate('login');
		auth.delegate({logout: function (done) { done(); }});
		o.hasLogout = auth.hasDelegate('logout');
		auth.logout();
		o.getAfterLogout = auth.get() === null || auth.get() === undefined;
		o.authAfterLogout = auth.isAuthenticated();
		auth.authenticate({nobody: 'x'});
		o.authAfterAuthenticate = auth.isAuthenticated();
		try { auth.logout.call(auth.create()); o.noLogoutDelegate = 'no throw'; } catch (e) { o.noLogoutDelegate = e.message; }
		return o;`, map[string]any{
		"getBefore": true, "authBefore": false, "hasDelegateBefore": false,
		"vendor": "v", "authAfterLogin": true, "vendorAfterSecondLogin": "undefined", "other": "o",
		"stringLogin": "t", "order": "forEachAuthentication,delegate",
		"hasDelegate": true, "hasLogin": false, "hasLogout": true,
		"getAfterLogout": true, "authAfterLogout": false, "authAfterAuthenticate": true,
		"noLogoutDelegate": "No logout auth delegate",
	})
}

// TestAuthJSEmitterAndExports: create(), listeners, removeAllListeners,
// and livefyre-auth's exports, optOut among them.
func TestAuthJSEmitterAndExports(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	c.open(t, "", false)
	c.eval(t, `localStorage.setItem('fyre-auth', JSON.stringify({value: {token: {value: 'x', ttl: 60}, profile: {id: 'a@b'}}, expiration: Date.now() + 60000})), true`)
	c.check(t, `
		var o = {};
		var auth = Livefyre.auth;
		var other = auth.create();
		o.createIsNew = other !== auth && !other.get() && typeof other.delegate === 'function';
		function f() {}
		other.on('x', f); other.on('x', function () {}); other.on('y', f);
		o.listeners = other.listeners('x').length;
		o.listenersNone = other.listeners('none').length;
		other.removeAllListeners('x');
		o.afterRemoveX = other.listeners('x').length + ',' + other.listeners('y').length;
		other.removeAllListeners();
		o.afterRemoveAll = other.listeners('y').length;
		o.exports = ['User', 'api', 'userService', 'authPlugin', 'createDelegate', 'optOut'].map(function (n) { return n + ':' + typeof auth[n]; }).join(',');
		o.apiFns = ['authenticate', 'updateUser'].map(function (n) { return typeof auth.api[n]; }).join(',');
		var called = false;
		auth.optOut();
		o.sessionAfterOptOut = localStorage.getItem('fyre-auth');
		auth.delegate({login: function () { called = true; }});
		auth.login(function () {});
		o.optOutLoginCalled = called;
		return o;`, map[string]any{
		"createIsNew": true, "listeners": float64(2), "listenersNone": float64(0),
		"afterRemoveX": "0,1", "afterRemoveAll": float64(0),
		"exports": "User:function,api:object,userService:object,authPlugin:function,createDelegate:function,optOut:function",
		"apiFns":  "function,function", "sessionAfterOptOut": nil, "optOutLoginCalled": false,
	})
}

// TestAuthJSFinishOnceAndErrors: finishLogin/finishLogout count once and
// forward every argument; a throwing listener becomes an 'error' event; a
// refused token is logged, never an 'error'.
func TestAuthJSFinishOnceAndErrors(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	c.open(t, "", false)
	c.check(t, `
		var o = {};
		var auth = Livefyre.auth;
		var errors = [];
		auth.on('error', function (e) { errors.push(e.message); });
		var authenticated = [];
		auth.on('authenticate', function (cr) { authenticated.push(cr); });
		auth.delegate({
			login: function (finish) { finish(null, 1, 'extra'); finish(null, 2); finish(null, 3); },
			logout: function (finish) { finish(null, 'status'); finish(new Error('second')); }
		});
		var loginArgs, logoutArgs, logoutCalls = 0;
		auth.login(function () { loginArgs = [].slice.call(arguments); });
		o.loginArgs = JSON.stringify(loginArgs);
		o.authenticated = JSON.stringify(authenticated);
		auth.logout(function () { logoutCalls++; logoutArgs = [].slice.call(arguments); });
		o.logoutArgs = JSON.stringify(logoutArgs);
		o.logoutCalls = logoutCalls;
		auth.delegate({login: function (finish) { finish(new Error('denied')); }});
		var cbErr;
		auth.login(function (err) { cbErr = err && err.message; });
		o.loginError = cbErr;
		auth.on('login', function () { throw new Error('boom'); });
		try { auth.login({v: 1}); o.threw = false; } catch (e) { o.threw = true; }
		o.loginUser = auth.get('v');
		auth.removeAllListeners('login');
		auth.authenticate({livefyre: 'not-a-token'});
		await until(function () { return warnings.some(function (w) { return /not accepted/.test(w); }); }, 'the refusal in the log');
		o.errors = errors.join(',');
		o.userAfterRefusal = String(auth.get('livefyre'));
		return o;`, map[string]any{
		"loginArgs": `[null,1,"extra"]`, "authenticated": `[1]`,
		"logoutArgs": `[null,"status"]`, "logoutCalls": float64(1),
		"loginError": "denied", "threw": false, "loginUser": float64(1),
		"errors": "denied,boom", "userAfterRefusal": "undefined",
	})
}

// TestAuthJSUser: the user a login brings is a Livefyre user: an emitter
// with get/set/unset, isAuthenticated, isMod and authorizations from
// modScopes and a collection answer.
func TestAuthJSUser(t *testing.T) {
	t.Parallel()
	c := newCompat(t, withJobs(), withPrivate())
	ep := newEndpoint(t, c.b.codec)
	ep.set("mod", `{"id":"mod","display_name":"Mod","moderator":"true"}`)
	c.b.register(ep.template())
	c.b.ping("mod")
	c.b.waitProfile("mod", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })
	c.open(t, "", false)
	c.check(t, fmt.Sprintf(`
		var o = {};
		var auth = Livefyre.auth;
		auth.authenticate({livefyre: %q});
		var u = await until(function () { return auth.get('livefyre'); }, 'login');
		o.isUser = u instanceof auth.User;
		o.id = u.get('id');
		o.attrs = Object.keys(u.get()).filter(function (k) { return ['id', 'displayName', 'token', 'serverUrl', 'tokenExpiresAt'].indexOf(k) >= 0; }).sort().join(',');
		o.isAuthenticated = u.isAuthenticated();
		o.anonAuthenticated = new auth.User().isAuthenticated();
		var changes = [];
		u.on('change:color', function (v) { changes.push('change:color=' + v); });
		u.on('change', function (obj) { changes.push('change ' + JSON.stringify(obj)); });
		u.set('color', 'red');
		u.set({color: 'blue'});
		u.unset('color');
		o.changes = changes.join('; ');
		o.color = String(u.get('color'));
		o.modNetwork = u.isMod({network: 'test.fyre.co'});
		o.modOtherNetwork = u.isMod({network: 'other.fyre.co'});
		o.modSite = u.isMod({siteId: '1'});
		o.authorizations = JSON.stringify(u.authorizations);
		auth.api.updateUser(u, {profile: {id: u.get('id')}, token: {value: 't', ttl: 60}, collection_id: '42',
			permissions: {moderator_key: 'mk', authors: [{id: u.get('id'), key: 'ak'}]}, modScopes: {sites: ['7'], networks: [], collections: []}},
			{network: 'test.fyre.co', siteId: '7', articleId: 'a1'});
		var a = u.getAuthorizationByCollectionId('42');
		o.collection = a && JSON.stringify({c: a.collection, k: a.moderatorKey, authors: a.authors});
		o.modCollection = u.isMod({collectionId: '42'});
		o.modArticle = u.isMod({network: 'test.fyre.co', siteId: '7', articleId: 'a1'});
		o.modSite7 = u.isMod({siteId: '7'});
		o.noAuthorization = u.getAuthorizationByCollectionId('43');
		return o;`, c.b.userToken("mod", "Mod")), map[string]any{
		"isUser": true, "id": "mod@test.fyre.co", "attrs": "displayName,id,serverUrl,token,tokenExpiresAt",
		"isAuthenticated": true, "anonAuthenticated": false,
		"changes": `change:color=red; change {"color":"red"}; change:color=blue; change {"color":"blue"}; change:color=undefined`,
		"color":   "undefined", "modNetwork": true, "modOtherNetwork": false, "modSite": false,
		"authorizations": `[{"network":"test.fyre.co","moderator":true}]`,
		"collection":     `{"c":{"network":"test.fyre.co","id":"42","siteId":"7","articleId":"a1"},"k":"mk","authors":[{"id":"mod@test.fyre.co","key":"ak"}]}`,
		"modCollection":  true, "modArticle": true, "modSite7": true, "noAuthorization": nil,
	})
}

// TestAuthJSSessionStorage: the session in localStorage is Livefyre's
// {"value","expiration"}; one Livefyre wrote is restored; one that cannot
// be read is left alone; an expired one goes.
func TestAuthJSSessionStorage(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	path := c.open(t, "", false)
	c.check(t, fmt.Sprintf(`
		var o = {};
		var auth = Livefyre.auth;
		var t0 = Date.now();
		auth.authenticate({livefyre: %q});
		var u = await until(function () { return auth.get('livefyre'); }, 'login');
		var s = JSON.parse(localStorage.getItem('fyre-auth'));
		var cr = JSON.parse(localStorage.getItem('fyre-authentication-creds'));
		o.keys = Object.keys(s).sort().join(',');
		o.profile = s.value.profile.displayName;
		o.tokenIsUsers = s.value.token.value === u.get('token') && cr.value === u.get('token');
		var ttl = s.value.token.ttl * 1000;
		o.expiration = s.expiration >= t0 + ttl - 2000 && s.expiration <= Date.now() + ttl + 2000 && cr.expiration === s.expiration;
		return o;`, c.b.userToken("bob", "Bobby")), map[string]any{
		"keys": "expiration,value", "profile": "Bobby", "tokenIsUsers": true, "expiration": true,
	})
	// A reload restores it.
	c.load(t, path)
	require.Equal(t, "Bobby", c.eval(t, `Livefyre.auth.get('livefyre').get('displayName')`))

	// A session Livefyre's own client wrote (its serverUrl included) is
	// this script's too.
	c.eval(t, `localStorage.setItem('fyre-auth', JSON.stringify({value: {profile: {id: 'lf@test.fyre.co', displayName: 'From Livefyre'}, token: {value: 'tok', ttl: 3600}, serverUrl: 'https://hub.example', modScopes: {networks: ['test.fyre.co'], sites: [], collections: []}}, expiration: Date.now() + 3600000})), true`)
	c.load(t, path)
	require.Equal(t, map[string]any{"name": "From Livefyre", "server": "https://hub.example", "mod": true, "token": "tok"},
		c.eval(t, `(function (u) { return {name: u.get('displayName'), server: u.get('serverUrl'), mod: u.isMod({network: 'test.fyre.co'}), token: u.get('token')}; })(Livefyre.auth.get('livefyre'))`))

	// What cannot be read stays, and nobody is logged in.
	for _, unreadable := range []string{`garbage{`, `{"data":{"profile":{"id":"x@test.fyre.co"}},"expiresAt":1}`} {
		c.eval(t, fmt.Sprintf(`localStorage.setItem('fyre-auth', %q), true`, unreadable))
		c.load(t, path)
		require.Equal(t, map[string]any{"in": false, "stored": unreadable},
			c.eval(t, `({in: !!Livefyre.auth.get('livefyre'), stored: localStorage.getItem('fyre-auth')})`))
	}
	// An expired one is dropped.
	c.eval(t, `localStorage.setItem('fyre-auth', JSON.stringify({value: {profile: {id: 'x@test.fyre.co'}, token: {value: 't', ttl: 1}}, expiration: Date.now() - 1})), true`)
	c.load(t, path)
	require.Equal(t, map[string]any{"in": false, "stored": nil},
		c.eval(t, `({in: !!Livefyre.auth.get('livefyre'), stored: localStorage.getItem('fyre-auth')})`))
}

// TestAuthJSWindowLivefyre: window.Livefyre as Livefyre.js sets it:
// _lfjs, an emitter with 'initialized', define and require (auth and
// livefyre-auth, defined modules, an older require for the rest).
func TestAuthJSWindowLivefyre(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	c.open(t, `window.Livefyre = {older: true, require: function (deps, cb) { cb.apply(null, deps.map(function (d) { return 'older:' + d; })); }};
		window.initializedSeen = 0;`, false)
	c.check(t, `
		var o = {};
		o.lfjs = Livefyre._lfjs;
		o.older = Livefyre.older;
		o.fns = ['on', 'once', 'emit', 'define', 'require'].map(function (n) { return typeof Livefyre[n]; }).join(',');
		var sync = false, got;
		Livefyre.require(['auth', 'livefyre-auth'], function (a, b) { sync = true; got = a === Livefyre.auth && b === a; });
		o.syncAuth = sync && got;
		Livefyre.define('greeting', ['auth'], function (auth) { return {hasAuth: typeof auth.login === 'function'}; });
		Livefyre.require(['greeting', 'streamhub-sdk', 'auth'], function (g, s, a) { o.mixed = [g.hasAuth, s, a === Livefyre.auth].join(','); });
		await new Promise(function (resolve) { Livefyre.on('initialized', function () { initializedSeen++; resolve(); }); });
		o.initialized = initializedSeen;
		var heard;
		Livefyre.on('custom', function (x) { heard = x; });
		Livefyre.emit('custom', 5);
		o.emit = heard;
		return o;`, map[string]any{
		"lfjs": true, "older": true, "fns": "function,function,function,function,function",
		"syncAuth": true, "mixed": "true,older:streamhub-sdk,true", "initialized": float64(1), "emit": float64(5),
	})
	// Without an older require, an unknown module is an errback.
	c.open(t, "", false)
	require.Equal(t, "Livefyre.require: no module nothing-here (auth.js provides auth and livefyre-auth)",
		c.eval(t, `new Promise(function (resolve) { Livefyre.require(['nothing-here'], function () { resolve('called'); }, function (e) { resolve(e.message); }); })`))
}

// TestAuthJSCredentials: what the credential object sends: bpChannel
// alone is a call, siteId and articleId only together (articleId
// base64), serverUrl and network honoured.
func TestAuthJSCredentials(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	c.open(t, "", false)
	tok := c.b.userToken("bob", "Bobby")
	c.check(t, fmt.Sprintf(`
		var o = {};
		var auth = Livefyre.auth;
		var hub = auth.serverUrl;
		function calls() {
			return performance.getEntriesByType('resource').map(function (e) { return e.name; })
				.filter(function (n) { return n.indexOf('/api/v3.0/auth/') >= 0; })
				.map(function (n) { return n.replace(/&callback=[^&]*/, '').replace(hub, 'HUB'); });
		}
		async function call(cred) {
			var before = calls().length;
			auth.authenticate({livefyre: cred});
			await until(function () { return calls().length > before; }, 'an auth call');
			return calls()[before];
		}
		o.bp = await call({bpChannel: 'chan/1'});
		o.siteOnly = await call({token: 't', siteId: '7'});
		o.articleOnly = await call({token: 't', articleId: 'a'});
		o.both = await call({token: 't', siteId: '7', articleId: 'a/é'});
		o.lftoken = await call({lftoken: 'lt'});
		o.network = await call({token: 't', network: 'test.fyre.co'});
		o.serverUrl = await call({token: 't', serverUrl: hub + '/'});
		auth.authenticate({livefyre: {token: %q, network: 'test.fyre.co', siteId: '7', articleId: 'a1'}});
		var u = await until(function () { return auth.get('livefyre'); }, 'login');
		o.user = u.get('displayName');
		return o;`, tok), map[string]any{
		"bp":          "HUB/api/v3.0/auth/?bp_channel=chan%2F1",
		"siteOnly":    "HUB/api/v3.0/auth/?lftoken=t",
		"articleOnly": "HUB/api/v3.0/auth/?lftoken=t",
		"both":        "HUB/api/v3.0/auth/?lftoken=t&articleId=YS%2FDqQ%3D%3D&siteId=7",
		"lftoken":     "HUB/api/v3.0/auth/?lftoken=lt",
		"network":     "HUB/api/v3.0/auth/?lftoken=t",
		"serverUrl":   "HUB/api/v3.0/auth/?lftoken=t",
		"user":        "Bobby",
	})
}

// TestAuthJSOldDelegates: a fyre.conv delegate (loginByCookie) and a
// beta delegate (restoreSession with Livefyre.user) are adapted as
// livefyre-auth's adapters do.
func TestAuthJSOldDelegates(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	tok := c.b.userToken("conv", "Conv User")
	c.open(t, fmt.Sprintf(`
		var convUser = new Emitter();
		convUser.id = 'conv';
		convUser.get = function (k) { return k === 'token' ? %q : undefined; };
		window.fyre = {conv: {user: convUser}};`, tok), false)
	c.check(t, `
		var o = {};
		var auth = Livefyre.auth;
		var byCookie = null, loginHandlers = null, viewArgs = null;
		auth.delegate({
			loginByCookie: function (h) { byCookie = typeof h.success + ',' + typeof h.failure; },
			login: function (h) { loginHandlers = h; },
			logout: function (h) { h.success(); },
			viewProfile: function (h, author) { viewArgs = [typeof h.success, author.id]; }
		});
		o.byCookie = byCookie;
		var u = await until(function () { return auth.get('livefyre'); }, 'the fyre.conv user');
		o.user = u.get('displayName');
		var cb;
		auth.login(function (err) { cb = 'called:' + err; });
		loginHandlers.success();
		o.loginCallback = cb;
		auth.viewProfile({id: 'a1'});
		o.viewArgs = viewArgs.join(',');
		window.fyre.conv.user.emit('change:token', null);
		o.afterTokenGone = String(auth.get('livefyre'));
		return o;`, map[string]any{
		"byCookie": "function,function", "user": "Conv User", "loginCallback": "called:null",
		"viewArgs": "function,a1", "afterTokenGone": "null",
	})

	c.open(t, `window.Livefyre = {user: new Emitter()};`, false)
	c.check(t, `
		var o = {};
		var auth = Livefyre.auth;
		var logins = 0;
		auth.delegate({
			serverUrl: 'https://beta.example',
			restoreSession: function () {},
			login: function () { logins++; },
			logout: function () { Livefyre.user.emit('logout'); }
		});
		var done = false;
		auth.login(function () { done = true; });
		Livefyre.user.emit('login', {profile: {id: 'beta@test.fyre.co', displayName: 'Beta'}, token: {value: 'bt', ttl: 60}});
		var u = auth.get('livefyre');
		o.user = u.get('displayName') + '@' + u.get('serverUrl');
		o.login = logins + ',' + done;
		var out = false;
		auth.logout(function () { out = true; });
		o.logout = out + ',' + String(auth.get('livefyre'));
		return o;`, map[string]any{
		"user": "Beta@https://beta.example", "login": "1,true", "logout": "true,null",
	})
}
