/*
 * auth.js: the ssogate hub's drop-in for Livefyre's JS client stack: the
 * `auth` singleton (Livefyre/auth 0.4), the Livefyre plugin and its exports
 * (Livefyre/auth-livefyre 0.10) and the `window.Livefyre` loader object
 * (Livefyre/Livefyre.js 1.1), written for the hub from their documented
 * behaviour.
 *
 *   <script src="https://HUB/auth.js"></script>
 *   Livefyre.require(['auth'], function (auth) {
 *     auth.delegate({login: fn(finishLogin), logout: fn(finishLogout),
 *                    viewProfile: fn(author), editProfile: fn(),
 *                    forEachAuthentication: fn(authenticate)});
 *     auth.on('login.livefyre', function (user) { user.get('displayName') });
 *     auth.authenticate({livefyre: userAuthToken});
 *   });
 *
 * The hub's URL is where this script came from; a credential's serverUrl
 * overrides it. A livefyre credential is checked at
 * {serverUrl}/api/v3.0/auth/ (JSONP; add data-transport="cors" to the script
 * tag to use fetch with CORS, for app origins the hub allows). The session
 * is kept in localStorage under "fyre-auth" (the auth API's data) and
 * "fyre-authentication-creds" (the token), as Livefyre kept it:
 * {"value": …, "expiration": ms}. It is restored at the next page load and
 * cleared by logout; an entry this script cannot read is left alone.
 */
(function (window, document) {
  'use strict';

  var SESSION_KEY = 'fyre-auth';
  var CREDS_KEY = 'fyre-authentication-creds';
  var TIMEOUT_MS = 15000;
  var hasOwn = Object.prototype.hasOwnProperty;
  var slice = Array.prototype.slice;

  function log() {
    if (window.console && console.warn) console.warn.apply(console, ['auth:'].concat(slice.call(arguments)));
  }

  function findScript() {
    if (document.currentScript) return document.currentScript;
    var scripts = document.getElementsByTagName('script');
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/auth\.js(?:[?#]|$)/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }
  var script = findScript();
  var hubURL = script ? script.src.replace(/\/auth\.js(?:[?#].*)?$/, '') : '';
  var transport = (script && script.getAttribute('data-transport')) || 'jsonp';

  // --- EventEmitter (Livefyre/event-emitter) ---------------------------------
  // A listener that throws does not stop the others: its error is emitted
  // as 'error' (as 'errorOnError' when an error listener throws). An
  // 'error' nobody listens to is thrown.
  function EventEmitter() {
    this._listeners = {};
  }
  EventEmitter.prototype.on = function (name, fn) {
    (this._listeners[name] = this._listeners[name] || []).push(fn);
    return this;
  };
  EventEmitter.prototype.addListener = EventEmitter.prototype.on;
  EventEmitter.prototype.once = function (name, fn) {
    function onceWrapper() {
      this.removeListener(name, onceWrapper);
      fn.apply(this, arguments);
    }
    onceWrapper.listener = fn;
    return this.on(name, onceWrapper);
  };
  EventEmitter.prototype.removeListener = function (name, fn) {
    var list = this._listeners[name];
    if (!fn || !list) return this;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === fn || list[i].listener === fn) {
        list.splice(i, 1);
        break;
      }
    }
    return this;
  };
  EventEmitter.prototype.off = EventEmitter.prototype.removeListener;
  EventEmitter.prototype.removeAllListeners = function (name) {
    if (name) delete this._listeners[name];
    else this._listeners = {};
    return this;
  };
  EventEmitter.prototype.listeners = function (name) {
    return (this._listeners[name] || []).slice();
  };
  EventEmitter.prototype.emit = function (name) {
    var args = slice.call(arguments, 1);
    var list = (this._listeners[name] || []).slice();
    if (name === 'error' && list.length === 0) {
      throw args[0] instanceof Error ? args[0] : new TypeError('Uncaught, unspecified "error" event');
    }
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].apply(this, args);
      } catch (err) {
        if (name === 'error') {
          if ((this._listeners.errorOnError || []).length) this.emit('errorOnError', err);
          else log('an error listener threw', err);
        } else {
          this.emit('error', err);
        }
      }
    }
    return list.length > 0;
  };
  EventEmitter.listenerCount = function (emitter, name) {
    return (emitter._listeners[name] || []).length;
  };

  function inherit(Child, Parent) {
    Child.prototype = Object.create(Parent.prototype, {constructor: {value: Child, writable: true, configurable: true}});
  }

  function bind(fn, self) { return function () { return fn.apply(self, arguments); }; }

  // callableOnce: the first call does the work; later ones are logged.
  function callableOnce(work, self) {
    var calls = 0;
    return function () {
      calls++;
      if (calls > 1) {
        log('a function meant to be called once was called ' + calls + ' times');
        return;
      }
      work.apply(self, arguments);
    };
  }

  // --- Auth (Livefyre/auth) -----------------------------------------------------
  function Auth() {
    EventEmitter.call(this);
    var creds = null;
    var authenticated = false;
    this._delegate = false;
    // As in Livefyre's auth, the state follows the events.
    this.on('login', function (users) { creds = users; authenticated = true; });
    this.on('authenticate', function () { authenticated = true; });
    this.on('logout', function () { creds = null; authenticated = false; });
    this.on('error', function (err) { log(err); });
    this.get = function (name) {
      if (!name) return creds;
      return creds && creds[name];
    };
    this.isAuthenticated = function () { return authenticated; };
  }
  inherit(Auth, EventEmitter);

  // delegate stores bound copies of the delegate's methods, hands its
  // forEachAuthentication the authenticate callback, then emits 'delegate'.
  Auth.prototype.delegate = function (d) {
    var kept = {};
    var methods = ['login', 'logout', 'viewProfile', 'editProfile'];
    for (var i = 0; i < methods.length; i++) {
      if (d && d[methods[i]]) kept[methods[i]] = bind(d[methods[i]], d);
    }
    this._delegate = kept;
    if (d && d.forEachAuthentication) {
      var self = this;
      d.forEachAuthentication(function (credentials) { self._authenticate(credentials); });
    }
    this.emit('delegate', d);
    return this;
  };

  Auth.prototype.hasDelegate = function (method) {
    if (typeof method === 'string') return !!this._delegate && hasOwn.call(this._delegate, method);
    return !!this._delegate;
  };

  // login(users) logs users in (plugins call it); login(callback) asks the
  // delegate, whose finishLogin(err, credentials) counts once.
  Auth.prototype.login = function (callbackOrUsers) {
    if (callbackOrUsers && typeof callbackOrUsers !== 'function') {
      return this._loginUser(callbackOrUsers);
    }
    var callback = callbackOrUsers;
    var login = this._delegate && this._delegate.login;
    if (!login) throw new Error('No login auth delegate');
    var self = this;
    login(callableOnce(function () {
      self._finishLogin.apply(self, arguments);
      if (typeof callback === 'function') callback.apply(self, arguments);
    }));
  };

  Auth.prototype._loginUser = function (users) {
    this.emit('login', users);
    for (var p in users) if (hasOwn.call(users, p)) this.emit('login.' + p, users[p]);
  };

  Auth.prototype._finishLogin = function (err, credentials) {
    if (err) {
      this.emit('error', err);
      return;
    }
    if (!credentials) log('finishLogin was called without credentials; nobody is authenticated');
    this._authenticate(credentials);
  };

  Auth.prototype.logout = function (callback) {
    var logout = this._delegate && this._delegate.logout;
    if (!logout) {
      var missing = new Error('No logout auth delegate');
      if (typeof callback === 'function') return callback(missing);
      throw missing;
    }
    var self = this;
    logout(callableOnce(function () {
      self._finishLogout.apply(self, arguments);
      if (typeof callback === 'function') callback.apply(self, arguments);
    }));
  };

  Auth.prototype._finishLogout = function (err) {
    if (err) {
      this.emit('error', err);
      return;
    }
    this.emit('logout');
  };

  Auth.prototype.authenticate = function (credentials) { this._authenticate(credentials); };

  Auth.prototype._authenticate = function (credentials) {
    if (!credentials) return;
    for (var p in credentials) if (hasOwn.call(credentials, p)) this.emit('authenticate.' + p, credentials[p]);
    this.emit('authenticate', credentials);
  };

  function forward(method) {
    return function () {
      var fn = this._delegate && this._delegate[method];
      if (!fn) throw new Error('No ' + method + ' auth delegate');
      return fn.apply(null, arguments);
    };
  }
  Auth.prototype.viewProfile = forward('viewProfile');
  Auth.prototype.editProfile = forward('editProfile');

  Auth.prototype.plugin = function (fn) {
    fn(this);
    return this;
  };

  // --- storage (Livefyre's {"value", "expiration"} entries) ------------------
  var storage = {
    // get returns the entry's value, or undefined when there is none, it
    // has expired (then it is removed) or it cannot be read (then it is
    // left for whoever wrote it).
    get: function (key) {
      var raw, entry;
      try { raw = window.localStorage.getItem(key); } catch (e) { return undefined; }
      if (!raw) return undefined;
      try { entry = JSON.parse(raw); } catch (e) { return undefined; }
      if (!entry || typeof entry !== 'object' || !hasOwn.call(entry, 'value')) return undefined;
      if (entry.expiration && entry.expiration < Date.now()) {
        storage.remove(key);
        return undefined;
      }
      return entry.value;
    },
    set: function (key, value, expiration) {
      try {
        window.localStorage.setItem(key, JSON.stringify({value: value, expiration: expiration || null}));
      } catch (e) { /* private mode, full */ }
    },
    remove: function (key) {
      try { window.localStorage.removeItem(key); } catch (e) { /* private mode */ }
    }
  };

  // --- User (livefyre-auth's LivefyreUser) --------------------------------------
  function User() {
    EventEmitter.call(this);
    this._attributes = {};
    this.authorizations = [];
  }
  inherit(User, EventEmitter);
  User.EVENTS = {CHANGE: 'change'};

  User.prototype.set = function (keyOrObj, value) {
    if (typeof keyOrObj === 'string') {
      var k = keyOrObj;
      keyOrObj = {};
      keyOrObj[k] = value;
    }
    for (var key in keyOrObj) {
      if (hasOwn.call(keyOrObj, key)) {
        this._attributes[key] = keyOrObj[key];
        this.emit('change:' + key, keyOrObj[key]);
      }
    }
    this.emit('change', keyOrObj);
  };
  User.prototype.get = function (key) {
    if (!key) return this._attributes;
    return this._attributes[key];
  };
  User.prototype.unset = function (key) {
    if (key in this._attributes) {
      delete this._attributes[key];
      this.emit('change:' + key, undefined);
    }
  };
  User.prototype.isAuthenticated = function () { return !!this.get('id'); };
  User.prototype.getAuthorizationByCollectionId = function (collectionId) {
    for (var i = 0; i < this.authorizations.length; i++) {
      var c = this.authorizations[i].collection;
      if (c && c.id === collectionId) return this.authorizations[i];
    }
    return null;
  };
  function some(list, test) {
    for (var i = 0; i < list.length; i++) if (test(list[i])) return true;
    return false;
  }
  // isMod({collectionId} | {network, siteId, articleId} | {network} |
  // {siteId}): whether the user is known to moderate that scope.
  User.prototype.isMod = function (scope) {
    scope = scope || {};
    if (scope.collectionId) {
      var a = this.getAuthorizationByCollectionId(scope.collectionId);
      return !!(a && a.moderatorKey);
    }
    if (scope.articleId) {
      return some(this.authorizations, function (a) {
        var c = a.collection;
        return !!(c && a.moderatorKey && c.network === scope.network &&
          c.siteId === scope.siteId && c.articleId === scope.articleId);
      });
    }
    if (scope.network) {
      return some(this.authorizations, function (a) { return !!(a.network && a.network === scope.network && a.moderator); });
    }
    if (scope.siteId) {
      return some(this.authorizations, function (a) { return !!(a.siteId && a.siteId === scope.siteId && a.moderator); });
    }
    return undefined;
  };

  function CollectionAuthorization(collection) {
    this.collection = collection;
    this.authors = [];
    this.moderatorKey = null;
  }

  // --- the auth API client (livefyre-auth's api) -------------------------------
  function base64UTF8(s) {
    return window.btoa(unescape(encodeURIComponent(String(s))));
  }

  function jsonp(url, cb) {
    var name = '_lfcallback_' + Date.now() + '_' + Math.floor(Math.random() * 1e9);
    var el = document.createElement('script');
    var done = false;
    var timer = setTimeout(function () { finish(new Error('auth: no answer from the auth API')); }, TIMEOUT_MS);
    function finish(err, resp) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      window[name] = function () {}; // a late answer must not throw
      if (el.parentNode) el.parentNode.removeChild(el);
      cb(err, resp);
    }
    window[name] = function (resp) { finish(null, resp); };
    el.onerror = function () { finish(new Error('auth: could not load the auth API')); };
    el.async = true;
    el.src = url + (url.indexOf('?') >= 0 ? '&' : '?') + 'callback=' + name;
    (document.head || document.documentElement).appendChild(el);
  }

  function cors(url, cb) {
    var ctl = window.AbortController ? new window.AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, TIMEOUT_MS);
    window.fetch(url, {mode: 'cors', credentials: 'omit', signal: ctl && ctl.signal})
      .then(function (r) { return r.json(); })
      .then(function (resp) { clearTimeout(timer); cb(null, resp); },
        function (err) { clearTimeout(timer); cb(err); });
  }

  function extend(dst) {
    for (var i = 1; i < arguments.length; i++) {
      var src = arguments[i];
      for (var k in src) if (hasOwn.call(src, k)) dst[k] = src[k];
    }
    return dst;
  }

  function map(list, fn) {
    var out = [];
    for (var i = 0; i < (list || []).length; i++) out.push(fn(list[i]));
    return out;
  }

  var api = {
    // authenticate(opts, errback(err, data)) calls the auth API.
    // opts: {token, serverUrl?, network?, bpChannel?, siteId?, articleId?}.
    // One hub answers every network at its own URL, so network does not
    // move the call (Livefyre's {network}.admin.fyre.co hosts are gone); it
    // scopes the collection authorization instead. siteId and articleId
    // are sent only together, articleId base64-encoded.
    authenticate: function (opts, errback) {
      opts = opts || {};
      var qs = [];
      if (opts.token) qs.push('lftoken=' + encodeURIComponent(opts.token));
      if (opts.bpChannel) qs.push('bp_channel=' + encodeURIComponent(opts.bpChannel));
      if (opts.articleId && opts.siteId) {
        qs.push('articleId=' + encodeURIComponent(base64UTF8(opts.articleId)), 'siteId=' + encodeURIComponent(opts.siteId));
      }
      var serverUrl = String(opts.serverUrl || hubURL).replace(/\/+$/, '');
      api._request(serverUrl + '/api/v3.0/auth/?' + qs.join('&'), function (err, resp) {
        if (!err && !(resp && resp.code === 200)) {
          err = new Error('auth: the auth API answered ' + ((resp && resp.code) || 'nothing') +
            (resp && resp.msg ? ': ' + resp.msg : ''));
          err.response = resp;
          err.code = resp && resp.code;
        }
        errback(err || null, resp && resp.data);
      });
    },
    _request: function (url, cb) {
      (transport === 'cors' && window.fetch ? cors : jsonp)(url, cb);
    },
    // updateUser sets the user's attributes from the auth API's data and
    // adds the authorizations it grants (collection, networks, sites).
    updateUser: function (user, userInfo, collection) {
      var token = userInfo.token;
      var expiresAt = userInfo.expiresAt ? new Date(userInfo.expiresAt)
        : token && new Date(Date.now() + token.ttl * 1000);
      user.set(extend({}, userInfo.profile, {
        serverUrl: userInfo.serverUrl,
        token: token && token.value,
        tokenExpiresAt: expiresAt
      }));
      if (userInfo.modScopes) user.set('modScopes', userInfo.modScopes);
      user.set('isModAnywhere', !!userInfo.isModAnywhere);
      var fresh = [];
      if (userInfo.collection_id) fresh.push(api.createCollectionAuthorization(collection || {}, userInfo));
      fresh.push.apply(fresh, api.createNetworkAuthorizations(userInfo));
      fresh.push.apply(fresh, api.createSiteAuthorizations(userInfo));
      fresh.push.apply(fresh, api.createCollectionScopeAuthorizations(userInfo));
      for (var i = 0; i < fresh.length; i++) {
        var a = fresh[i];
        var known = a.network ? user.isMod({network: a.network})
          : a.siteId ? user.isMod({siteId: a.siteId})
            : a.collection && a.collection.id ? !!user.getAuthorizationByCollectionId(a.collection.id) : true;
        if (!known) user.authorizations.push(a);
      }
      return user;
    },
    createCollectionAuthorization: function (opts, userInfo) {
      var a = new CollectionAuthorization({
        network: opts.network, id: String(userInfo.collection_id), siteId: opts.siteId, articleId: opts.articleId
      });
      var p = userInfo.permissions || {};
      if (p.authors && p.authors.length) a.authors.push.apply(a.authors, p.authors);
      if (p.moderator_key) a.moderatorKey = p.moderator_key;
      return a;
    },
    createNetworkAuthorizations: function (userInfo) {
      return map(userInfo.modScopes && userInfo.modScopes.networks, function (n) { return {network: n, moderator: true}; });
    },
    createSiteAuthorizations: function (userInfo) {
      return map(userInfo.modScopes && userInfo.modScopes.sites, function (s) { return {siteId: String(s), moderator: true}; });
    },
    // modScopes.collections lists the collections the user moderates; they
    // are known by id only until a collection answer brings the key.
    createCollectionScopeAuthorizations: function (userInfo) {
      return map(userInfo.modScopes && userInfo.modScopes.collections, function (id) {
        var a = new CollectionAuthorization({id: String(id)});
        a.moderator = true;
        return a;
      });
    }
  };

  // --- userService and session ---------------------------------------------
  var userService = {
    fetch: function (opts, errback) {
      api.authenticate(opts, function (err, userInfo) {
        if (err) return errback(err);
        if (!userInfo || !userInfo.profile) return errback(new Error('auth: the auth API answered no profile'));
        userInfo.serverUrl = String(opts.serverUrl || hubURL).replace(/\/+$/, '');
        var user = api.updateUser(new User(), userInfo, opts);
        errback(null, user, userInfo);
      });
    }
  };

  var session = {
    get: function () {
      var data = storage.get(SESSION_KEY);
      if (!data || typeof data !== 'object' || !data.token || !data.profile) return null;
      return api.updateUser(new User(), data);
    },
    save: function (userInfo) {
      var copy = JSON.parse(JSON.stringify(userInfo));
      var token = userInfo.token || {};
      var expiresAt = Date.now() + (token.ttl || 0) * 1000;
      copy.expiresAt = expiresAt;
      storage.set(SESSION_KEY, copy, expiresAt);
      if (token.value) storage.set(CREDS_KEY, token.value, expiresAt);
    },
    clear: function () {
      storage.remove(SESSION_KEY);
      storage.remove(CREDS_KEY);
    }
  };

  // --- old delegates (livefyre-auth's adapters) -------------------------------
  function isFyreOld(d) {
    return typeof d.loginByCookie === 'function' && !!(window.fyre && typeof window.fyre.conv === 'object');
  }
  function isBeta(d) {
    return typeof d.restoreSession === 'function' && !!(window.Livefyre && typeof window.Livefyre.user === 'object');
  }

  // adaptBeta: a Sidenotes-era delegate whose login and logout show up as
  // events of Livefyre.user.
  function adaptBeta(auth, d) {
    var lfUser = window.Livefyre.user;
    function onLogin(userInfo) {
      userInfo = extend({}, userInfo, {serverUrl: d.serverUrl || hubURL});
      auth.login({livefyre: api.updateUser(new User(), userInfo)});
    }
    function onLogout() { auth.emit('logout'); }
    lfUser.on('login', onLogin);
    lfUser.on('logout', onLogout);
    return {
      // The once-listener goes first: a delegate may emit at once.
      login: function (cb) {
        lfUser.once('login', function () { if (typeof cb === 'function') cb(); });
        d.login();
      },
      logout: function (cb) {
        lfUser.once('logout', function () { if (typeof cb === 'function') cb(); });
        d.logout();
      },
      viewProfile: d.viewProfile && bind(d.viewProfile, d),
      editProfile: d.editProfile && bind(d.editProfile, d),
      destroy: function () {
        lfUser.removeListener('login', onLogin);
        lfUser.removeListener('logout', onLogout);
        if (typeof d.destroy === 'function') d.destroy();
      }
    };
  }

  // adaptFyreOld: a fyre.conv delegate (success/failure handlers,
  // loginByCookie) whose user's token changes are logins and logouts.
  function adaptFyreOld(auth, d) {
    var convUser = window.fyre.conv.user;
    function onToken(a, b) {
      var token = typeof a === 'string' || !a ? a : b;
      if (!token) {
        auth.emit('logout');
        return;
      }
      var saved = session.get();
      if (saved && saved.get('token') === token) auth.login({livefyre: saved});
      else auth.authenticate({livefyre: token});
    }
    if (convUser && typeof convUser.on === 'function') convUser.on('change:token', onToken);
    if (convUser && convUser.id && !auth.get('livefyre') && typeof convUser.get === 'function') {
      var t = convUser.get('token');
      if (t) onToken(t);
    }
    var quiet = {success: function () {}, failure: function () {}};
    function handlers(cb) {
      return {
        success: function () { if (typeof cb === 'function') cb(null); },
        failure: function (err) { if (typeof cb === 'function') cb(err || new Error('login failed')); }
      };
    }
    function withHandler(fn) {
      return fn && function () { fn.apply(d, [quiet].concat(slice.call(arguments))); };
    }
    d.loginByCookie(quiet);
    return {
      login: function (cb) { d.login(handlers(cb)); },
      logout: function (cb) {
        d.logout(quiet);
        if (typeof cb === 'function') cb();
      },
      viewProfile: withHandler(d.viewProfile),
      editProfile: withHandler(d.editProfile),
      destroy: function () {
        if (convUser && typeof convUser.off === 'function') convUser.off('change:token', onToken);
      }
    };
  }

  function adaptDelegate(auth, d) {
    if (!d) return d;
    if (isBeta(d)) return adaptBeta(auth, d);
    if (isFyreOld(d)) return adaptFyreOld(auth, d);
    return d;
  }

  // --- the Livefyre plugin ---------------------------------------------------
  function authPlugin(auth, serverUrl, opts) {
    opts = opts || {};
    var users = opts.userService || userService;
    function login(user) { auth.login({livefyre: user}); }

    var saved = session.get();
    if (saved) login(saved);

    auth.on('authenticate.livefyre', function (credentials) {
      if (!credentials) return;
      if (credentials instanceof User) return login(credentials);
      if (typeof credentials === 'string') credentials = {token: credentials, serverUrl: serverUrl};
      if (typeof credentials !== 'object') {
        log('a livefyre credential must be a token, {token} or a User');
        return;
      }
      credentials = extend({}, credentials);
      if (serverUrl && !credentials.serverUrl) credentials.serverUrl = serverUrl;
      if (credentials.lftoken && !credentials.token) credentials.token = credentials.lftoken;
      users.fetch(credentials, function (err, user, userInfo) {
        if (err) {
          // As Livefyre's plugin: a refused credential is logged, and
          // nobody is logged in; it is no 'error' event.
          log('the credential was not accepted', err.message);
          return;
        }
        session.save(userInfo, user);
        login(user);
      });
    });

    auth.on('logout', function () { session.clear(); });

    var original = auth.delegate;
    auth.delegate = function (d) { return original.call(auth, adaptDelegate(auth, d)); };

    // A fyre.conv page hands its delegate over once fyre.conv is ready.
    var attempts = 0;
    (function poll() {
      attempts++;
      if (attempts > 15 || auth.hasDelegate()) return;
      var conv = window.fyre && window.fyre.conv;
      if (conv && typeof conv.ready === 'function') {
        conv.ready(function () {
          var d = typeof conv.getDelegate === 'function' && conv.getDelegate();
          if (d && !d.appkitMetaDelegate) auth.delegate(d);
        });
        return;
      }
      setTimeout(poll, 100 * attempts);
    })();
    return auth;
  }

  // --- createDelegate (a delegate for the hub's own Livefyre.com-style
  // login pages, where a hub has them) -----------------------------------------
  function createDelegate(serverUrl, opts) {
    if (!(this instanceof createDelegate)) return new createDelegate(serverUrl, opts);
    this.serverUrl = String(serverUrl || hubURL).replace(/\/+$/, '');
    this.siteId = (opts || {}).siteId;
  }
  createDelegate.prototype.login = function (finishLogin) {
    var self = this;
    var url = this.serverUrl + '/auth/popup/login/?start=true' + (this.siteId ? '&site_id=' + encodeURIComponent(this.siteId) : '');
    var popup = window.open(url, 'authWindow', 'width=530,height=365');
    var timer = setInterval(function () {
      if (popup && popup.closed === false) return;
      clearInterval(timer);
      self.restoreSession(function (err, user) { finishLogin(err, {livefyre: user}); });
    }, 100);
  };
  createDelegate.prototype.logout = function (finishLogout) {
    jsonp(this.serverUrl + '/auth/logout/ajax/?nocache=' + Date.now(), function (err, data) { finishLogout(err, data); });
  };
  createDelegate.prototype.viewProfile = function (author) {
    if (author && author.profileUrl) window.open(author.profileUrl, '_blank');
  };
  createDelegate.prototype.editProfile = function () {
    window.open(this.serverUrl + '/profile/edit/info/', '_blank');
  };
  createDelegate.prototype.restoreSession = function (callback) {
    var data = storage.get(SESSION_KEY);
    if (data && data.token) return callback(null, data.token.value);
    userService.fetch({serverUrl: this.serverUrl}, function (err, user, userInfo) {
      if (err) return callback(err);
      session.save(userInfo, user);
      callback(null, user);
    });
  };

  // optOut: from now on every delegate is one whose methods only warn, and
  // the session is gone.
  function OptOutDelegate() {
    var methods = ['editProfile', 'login', 'logout', 'viewProfile', 'restoreSession'];
    for (var i = 0; i < methods.length; i++) {
      this[methods[i]] = (function (m) {
        return function () { log('opt out has been enabled, ' + m + ' will not work'); };
      })(methods[i]);
    }
  }

  // --- the singleton (livefyre-auth) ------------------------------------------
  function createAuth() { return new Auth(); }
  var auth = createAuth();
  auth.create = createAuth;
  auth.serverUrl = hubURL;
  authPlugin(auth);
  auth.User = User;
  auth.LivefyreUser = User;
  auth.api = api;
  auth.userService = userService;
  auth.authPlugin = authPlugin;
  auth.createDelegate = createDelegate;
  auth.session = session;
  auth.optOut = function () {
    var delegate = auth.delegate;
    auth.delegate = function () { return delegate.call(auth, new OptOutDelegate()); };
    session.clear();
  };

  // --- window.Livefyre (Livefyre.js) ---------------------------------------------
  // require(deps, cb, errback): "auth" (any name ending in auth, e.g.
  // "livefyre-auth") is this auth; modules given to define() resolve
  // here; anything else goes to a Livefyre.require that was on the page
  // before this script, or fails through errback.
  var previous = window.Livefyre;
  var previousRequire = previous && typeof previous.require === 'function' ? previous.require : null;
  var Livefyre = new EventEmitter();
  if (previous && typeof previous === 'object') {
    for (var k in previous) if (hasOwn.call(previous, k) && !hasOwn.call(Livefyre, k)) Livefyre[k] = previous[k];
  }
  Livefyre._lfjs = true;
  Livefyre.auth = auth;
  Livefyre['livefyre-auth'] = auth;

  var modules = {};
  var isAuthDep = function (dep) { return /auth$|auth#/.test(dep); };

  Livefyre.define = function (name, deps, factory) {
    if (typeof name !== 'string') throw new Error('Livefyre.define: a module needs a name');
    if (typeof deps === 'function' || !(deps instanceof Array)) {
      factory = deps;
      deps = [];
    }
    modules[name] = {deps: deps, factory: factory, done: false, value: undefined};
  };
  Livefyre.define.amd = {};

  function resolve(name, seen) {
    if (isAuthDep(name)) return {ok: true, value: auth};
    var m = modules[name];
    if (!m) return {ok: false};
    if (!m.done) {
      if (seen[name]) throw new Error('Livefyre.require: a cycle through ' + name);
      seen[name] = true;
      var args = [];
      for (var i = 0; i < m.deps.length; i++) {
        var r = resolve(m.deps[i], seen);
        if (!r.ok) throw new Error('Livefyre.require: ' + name + ' needs ' + m.deps[i] + ', which is not defined');
        args.push(r.value);
      }
      m.value = typeof m.factory === 'function' ? m.factory.apply(window, args) : m.factory;
      m.done = true;
    }
    return {ok: true, value: m.value};
  }

  Livefyre.require = function (deps, callback, errback) {
    deps = [].concat(deps || []);
    var values = [], missing = [];
    try {
      for (var i = 0; i < deps.length; i++) {
        var r = resolve(deps[i], {});
        values.push(r.ok ? r.value : undefined);
        if (!r.ok) missing.push(i);
      }
    } catch (err) {
      if (typeof errback === 'function') return errback(err);
      throw err;
    }
    if (missing.length === 0) {
      if (typeof callback === 'function') callback.apply(window, values);
      return;
    }
    var others = map(missing, function (i) { return deps[i]; });
    if (previousRequire) {
      return previousRequire.call(Livefyre, others, function () {
        for (var j = 0; j < missing.length; j++) values[missing[j]] = arguments[j];
        if (typeof callback === 'function') callback.apply(window, values);
      }, errback);
    }
    var err = new Error('Livefyre.require: no module ' + others.join(', ') + ' (auth.js provides auth and livefyre-auth)');
    if (typeof errback === 'function') return errback(err);
    throw err;
  };
  Livefyre.requirejs = Livefyre.require;

  // 'initialized' fires once, after this script ran; a listener added
  // later (auth-later adds it when the script's load event fires) is
  // called at once.
  var initialized = false;
  var lfOn = Livefyre.on;
  Livefyre.on = Livefyre.addListener = function (name, fn) {
    if (name === 'initialized' && initialized) {
      setTimeout(function () { fn.call(Livefyre); }, 0);
      return Livefyre;
    }
    return lfOn.call(Livefyre, name, fn);
  };
  Livefyre.once = function (name, fn) {
    if (name === 'initialized' && initialized) return Livefyre.on(name, fn);
    return EventEmitter.prototype.once.call(Livefyre, name, fn);
  };
  window.Livefyre = Livefyre;
  setTimeout(function () {
    initialized = true;
    Livefyre.emit('initialized');
  }, 0);
})(window, document);
