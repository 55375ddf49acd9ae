/*
 * auth.js: the ssogate hub's Livefyre.js-compatible `auth` module.
 *
 *   <script src="https://HUB/auth.js"></script>
 *   Livefyre.require(['auth'], function (auth) {
 *     auth.delegate({login: fn(finishLogin), logout: fn(finishLogout),
 *                    viewProfile: fn(user), editProfile: fn(user),
 *                    forEachAuthentication: fn(authenticate)});
 *     auth.on('login.livefyre', function (user) { user.get('displayName') });
 *     auth.authenticate({livefyre: userAuthToken});
 *   });
 *
 * The hub's URL is where this script came from. A livefyre credential is
 * checked at {hub}/api/v3.0/auth/ (JSONP; add data-transport="cors" to the
 * script tag to use fetch with CORS, for app origins the hub allows). The
 * session is kept in localStorage under "fyre-auth" for the token's ttl and
 * restored at the next page load; logout clears it.
 */
(function (window, document) {
  'use strict';

  var SESSION_KEY = 'fyre-auth';
  var CREDS_KEY = 'fyre-authentication-creds';
  var TIMEOUT_MS = 15000;

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

  // --- events -------------------------------------------------------------
  var listeners = {};
  function on(name, fn) {
    (listeners[name] = listeners[name] || []).push(fn);
    return auth;
  }
  function off(name, fn) {
    var list = listeners[name] || [];
    for (var i = list.length - 1; i >= 0; i--) {
      if (list[i] === fn || list[i].listener === fn) list.splice(i, 1);
    }
    return auth;
  }
  function once(name, fn) {
    function wrapper() { off(name, wrapper); fn.apply(this, arguments); }
    wrapper.listener = fn;
    return on(name, wrapper);
  }
  function emit(name) {
    var args = Array.prototype.slice.call(arguments, 1);
    var list = (listeners[name] || []).slice();
    for (var i = 0; i < list.length; i++) {
      try { list[i].apply(auth, args); } catch (e) { setTimeout(function () { throw e; }); }
    }
    return list.length > 0;
  }

  // --- the auth object (Livefyre/auth 0.4) ---------------------------------
  var delegate = {};
  var credentials = {};

  var auth = {
    on: on, addListener: on, once: once, off: off, removeListener: off, emit: emit,
    serverUrl: hubURL,

    delegate: function (d) {
      delegate = {};
      var methods = ['login', 'logout', 'viewProfile', 'editProfile'];
      for (var i = 0; i < methods.length; i++) {
        if (d && typeof d[methods[i]] === 'function') delegate[methods[i]] = d[methods[i]].bind(d);
      }
      emit('delegate', d);
      if (d && typeof d.forEachAuthentication === 'function') d.forEachAuthentication(auth.authenticate);
    },

    // login(cb) asks the delegate; login({provider: user}) records users
    // (plugins call it) and emits login and login.{provider}.
    login: function (arg) {
      if (arg && typeof arg === 'object') {
        for (var k in arg) if (Object.prototype.hasOwnProperty.call(arg, k)) credentials[k] = arg[k];
        emit('login', arg);
        for (var p in arg) if (Object.prototype.hasOwnProperty.call(arg, p)) emit('login.' + p, arg[p]);
        return;
      }
      var cb = typeof arg === 'function' ? arg : function () {};
      if (!delegate.login) {
        var missing = new Error('No login auth delegate');
        emit('error', missing);
        cb(missing);
        return;
      }
      var finished = false;
      delegate.login(function finishLogin(err, creds) {
        if (finished) return;
        finished = true;
        if (err) emit('error', err);
        else auth.authenticate(creds);
        cb(err, creds);
      });
    },

    logout: function (cb) {
      if (!delegate.logout) {
        var missing = new Error('No logout auth delegate');
        if (cb) return cb(missing);
        throw missing;
      }
      delegate.logout(function finishLogout(err) {
        if (err) {
          emit('error', err);
        } else {
          credentials = {};
          emit('logout');
        }
        if (cb) cb(err);
      });
    },

    authenticate: function (creds) {
      if (!creds) return;
      for (var k in creds) if (Object.prototype.hasOwnProperty.call(creds, k)) emit('authenticate.' + k, creds[k]);
      emit('authenticate', creds);
    },

    viewProfile: function (user) { if (delegate.viewProfile) delegate.viewProfile(user || credentials.livefyre); },
    editProfile: function (user) { if (delegate.editProfile) delegate.editProfile(user || credentials.livefyre); },
    plugin: function (fn) { fn(auth); return auth; },
    get: function (name) { return name === undefined ? credentials : credentials[name]; },
    isAuthenticated: function () { for (var k in credentials) if (credentials[k]) return true; return false; },
    hasDelegate: function (method) {
      if (method) return typeof delegate[method] === 'function';
      for (var k in delegate) if (delegate[k]) return true;
      return false;
    }
  };

  // --- the Livefyre plugin (livefyre-auth 0.10) ------------------------------
  function LivefyreUser(attributes) {
    this.attributes = attributes;
    this.id = attributes.id;
  }
  LivefyreUser.prototype.get = function (name) { return this.attributes[name]; };
  auth.LivefyreUser = LivefyreUser;

  var storage = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } },
    remove: function (k) { try { window.localStorage.removeItem(k); } catch (e) { /* private mode */ } }
  };

  function userFrom(saved) {
    var d = saved.data, attrs = {};
    for (var k in d.profile) if (Object.prototype.hasOwnProperty.call(d.profile, k)) attrs[k] = d.profile[k];
    attrs.serverUrl = saved.serverUrl;
    attrs.token = d.token && d.token.value;
    attrs.tokenExpiresAt = new Date(saved.expiresAt);
    attrs.modScopes = d.modScopes;
    attrs.isModAnywhere = !!d.isModAnywhere;
    return new LivefyreUser(attrs);
  }

  var session = {
    save: function (data, serverUrl) {
      var ttl = data.token && data.token.ttl > 0 ? data.token.ttl : 0;
      var saved = {data: data, serverUrl: serverUrl, expiresAt: Date.now() + ttl * 1000};
      storage.set(SESSION_KEY, JSON.stringify(saved));
      if (data.token) storage.set(CREDS_KEY, data.token.value);
      return saved;
    },
    get: function () {
      var saved;
      try { saved = JSON.parse(storage.get(SESSION_KEY)); } catch (e) { saved = null; }
      if (!saved || !saved.data || !saved.data.profile || !(saved.expiresAt > Date.now())) {
        if (saved) session.clear();
        return null;
      }
      return saved;
    },
    clear: function () { storage.remove(SESSION_KEY); storage.remove(CREDS_KEY); }
  };

  var jsonpCounter = 0;
  function jsonp(url, cb) {
    var name = '_lfcallback_' + Date.now() + '_' + (jsonpCounter++);
    var el = document.createElement('script');
    var done = false;
    var timer = setTimeout(function () { finish(new Error('auth: no answer from ' + url)); }, TIMEOUT_MS);
    function finish(err, resp) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      window[name] = function () {}; // a late answer must not throw
      if (el.parentNode) el.parentNode.removeChild(el);
      cb(err, resp);
    }
    window[name] = function (resp) { finish(null, resp); };
    el.onerror = function () { finish(new Error('auth: could not load ' + url)); };
    el.async = true;
    el.src = url + '&callback=' + name;
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

  // fetchAuth calls the auth API and hands back its data, or an error.
  function fetchAuth(serverUrl, cred, cb) {
    var url = serverUrl + '/api/v3.0/auth/?lftoken=' + encodeURIComponent(cred.token);
    if (cred.siteId) url += '&siteId=' + encodeURIComponent(cred.siteId);
    if (cred.articleId) url += '&articleId=' + encodeURIComponent(window.btoa(unescape(encodeURIComponent(String(cred.articleId)))));
    var call = transport === 'cors' && window.fetch ? cors : jsonp;
    call(url, function (err, resp) {
      if (err) return cb(err);
      if (!resp || resp.code !== 200 || !resp.data || !resp.data.profile) {
        var e = new Error('auth: ' + ((resp && resp.msg) || 'the auth API refused the token'));
        e.code = resp && resp.code;
        return cb(e);
      }
      cb(null, resp.data);
    });
  }

  on('authenticate.livefyre', function (cred) {
    if (cred instanceof LivefyreUser) {
      auth.login({livefyre: cred});
      return;
    }
    if (typeof cred === 'string') cred = {token: cred};
    if (!cred || typeof cred !== 'object' || !(cred.token || cred.lftoken)) {
      emit('error', new Error('auth: a livefyre credential must be a token or {token}'));
      return;
    }
    var request = {token: cred.token || cred.lftoken, siteId: cred.siteId, articleId: cred.articleId};
    var serverUrl = (cred.serverUrl || hubURL).replace(/\/+$/, '');
    fetchAuth(serverUrl, request, function (err, data) {
      if (err) {
        emit('error', err);
        return;
      }
      auth.login({livefyre: userFrom(session.save(data, serverUrl))});
    });
  });

  on('logout', function () { session.clear(); });

  // Restore the session of an earlier page load before anyone asks.
  var saved = session.get();
  if (saved) auth.login({livefyre: userFrom(saved)});

  // --- Livefyre.require ----------------------------------------------------
  var Livefyre = window.Livefyre = window.Livefyre || {};
  var previousRequire = Livefyre.require;
  var isAuth = function (dep) { return /auth$|auth#/.test(dep); };
  Livefyre.auth = auth;
  Livefyre.require = function (deps, cb, errback) {
    deps = [].concat(deps || []);
    var others = [];
    for (var i = 0; i < deps.length; i++) if (!isAuth(deps[i])) others.push(deps[i]);
    var give = function (mods) {
      var out = [], j = 0;
      for (var i = 0; i < deps.length; i++) out.push(isAuth(deps[i]) ? auth : mods[j++]);
      if (cb) cb.apply(window, out);
    };
    if (others.length === 0) {
      setTimeout(function () { give([]); }, 0);
    } else if (previousRequire) {
      previousRequire.call(Livefyre, others, function () { give(arguments); }, errback);
    } else {
      var err = new Error('auth.js provides only "auth", not ' + others.join(', '));
      if (errback) setTimeout(function () { errback(err); }, 0);
      else throw err;
    }
  };
})(window, document);
