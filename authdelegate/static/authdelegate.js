/*
 * ssogate authdelegate.js: a Livefyre authDelegate backed by an ssogate
 * gateway. Plain JavaScript, no build step, no third-party cookies.
 *
 *   <script src="https://gateway.example/authdelegate.js"></script>
 *   Livefyre.require(['auth'], function (auth) {
 *     auth.delegate(ssogate.authDelegate({auth: auth}));
 *   });
 *
 * Options (all optional except auth):
 *   auth            the Livefyre auth object; needed for the silent re-login
 *                   (auth.logout() then authenticate) and remote logouts.
 *   gateway         gateway base URL; default: where this script came from.
 *   mode            'popup' (default) or 'redirect'.
 *   popupFallback   'redirect' (default): a blocked popup becomes a redirect
 *                   login; 'none': finishLogin gets a popup_blocked error.
 *   returnTo        redirect mode: where to come back (default location.href).
 *   providerLogout  true: after logout, go to the provider's end-session page.
 *   postLogoutRedirectUri  passed to the provider (must be on an allowed origin).
 *   viewProfile(author), editProfile(user)  override the defaults: open
 *                   the profileUrl / settingsUrl of what is passed (a
 *                   Livefyre User or a plain {id, displayName, profileUrl}
 *                   author), else of the signed-in user.
 *   onError(err)    called with errors that have no other place to go.
 *   onEvent(name, detail)  observes 'login', 'token', 'relogin', 'logout',
 *                   'popup_blocked', 'login_cancelled', 'login_failed'.
 *
 * Tabs of one site share one session: the credential lives in the site's
 * localStorage (storage events carry logins and logouts to every tab). One
 * tab per browser holds the event stream (elected with the Web Locks API)
 * and relays events and fresh tokens to the others over a BroadcastChannel,
 * so a browser with many tabs keeps one connection to the gateway. Where
 * either API is missing every tab runs its own stream.
 */
(function (global) {
  'use strict';

  var currentScript = document.currentScript;

  function defaultGateway() {
    if (currentScript && currentScript.src) {
      return currentScript.src.replace(/\/authdelegate\.js(?:[?#].*)?$/, '');
    }
    throw new Error('ssogate: options.gateway is required');
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function authDelegate(options) {
    options = options || {};
    var gateway = String(options.gateway || defaultGateway()).replace(/\/+$/, '');
    var gatewayOrigin = new URL(gateway, location.href).origin;
    var auth = options.auth || null;
    var prefix = 'ssogate:' + gateway + ':';
    var keySession = prefix + 'session';
    var keyVersion = prefix + 'version';
    // keyApp records which profile version the app's own session (the hub's
    // token, kept by auth.js) was made from, and a fingerprint of that
    // token, so a page load whose restored app session is current does not
    // authenticate the app again.
    var keyApp = prefix + 'app';

    var state = {
      credential: null,
      token: null,
      expiresAt: 0,
      version: 0,      // version of the token this tab holds
      appVersion: 0,   // version of the token last given to the app
      authenticate: null,
      pendingAuth: false,
      quiet: [],       // pending app logouts that must not end the session
      destroyed: false,
      leader: false,
      streaming: false,
      streamAbort: null,
      refreshTimer: null,
      restoring: null,
      authenticatingVersion: 0
    };

    function report(err) {
      if (typeof options.onError === 'function') {
        try { options.onError(err); } catch (e) { /* ignore */ }
      } else if (global.console && console.warn) {
        console.warn(err);
      }
    }

    function emit(name, detail) {
      if (typeof options.onEvent === 'function') {
        try { options.onEvent(name, detail || {}); } catch (e) { report(e); }
      }
    }

    // ---- storage -------------------------------------------------------

    function readStored() {
      try {
        var v = JSON.parse(localStorage.getItem(keySession) || 'null');
        return v && typeof v.credential === 'string' ? v.credential : null;
      } catch (e) { return null; }
    }

    function writeStored(credential) {
      try {
        if (credential) {
          localStorage.setItem(keySession, JSON.stringify({credential: credential}));
        } else {
          localStorage.removeItem(keySession);
          localStorage.removeItem(keyVersion);
          localStorage.removeItem(keyApp);
        }
      } catch (e) { report(e); }
    }

    function sharedVersion() {
      try {
        var v = parseInt(localStorage.getItem(keyVersion) || '0', 10);
        return isNaN(v) ? 0 : v;
      } catch (e) { return 0; }
    }

    function noteVersion(v) {
      try {
        if (v > sharedVersion()) { localStorage.setItem(keyVersion, String(v)); }
      } catch (e) { /* ignore */ }
    }

    function fingerprint(token) {
      return typeof token === 'string' && token.length > 16 ? token.slice(-16) : null;
    }

    function appUser() {
      try {
        var u = auth && typeof auth.get === 'function' ? auth.get('livefyre') : null;
        return u && typeof u.get === 'function' ? u : null;
      } catch (e) { return null; }
    }

    // appSessionCurrent: the app already holds a session (restored by
    // auth.js) made from this version of this user's profile.
    function appSessionCurrent(version) {
      var u = appUser();
      if (!u) { return false; }
      var saved;
      try { saved = JSON.parse(localStorage.getItem(keyApp) || 'null'); } catch (e) { saved = null; }
      return !!(saved && saved.version === version && saved.credential === fingerprint(state.credential) &&
        saved.token === fingerprint(u.get('token')));
    }

    // The app's next login after we authenticated it is the session made
    // from that version.
    if (auth && typeof auth.on === 'function') {
      auth.on('login.livefyre', function (u) {
        var v = state.authenticatingVersion;
        if (!v || !u || typeof u.get !== 'function') { return; }
        state.authenticatingVersion = 0;
        try {
          localStorage.setItem(keyApp, JSON.stringify({
            version: v, credential: fingerprint(state.credential), token: fingerprint(u.get('token'))
          }));
        } catch (e) { /* ignore */ }
      });
    }

    // ---- cross-tab messages -------------------------------------------

    var channel = null;
    if (typeof BroadcastChannel === 'function') {
      channel = new BroadcastChannel(prefix + 'events');
      channel.onmessage = function (ev) {
        var m = ev.data || {};
        if (m.type === 'token' && m.credential === state.credential) {
          applyToken(m, 'broadcast');
        } else if (m.type === 'logout') {
          remoteLogout(m.reason || 'logout');
        }
      };
    }

    function broadcast(msg) {
      if (channel) {
        try { channel.postMessage(msg); } catch (e) { report(e); }
      }
    }

    function onStorage(ev) {
      if (ev.key !== keySession && ev.key !== null) { return; }
      var cred = readStored();
      if (!cred) {
        if (state.credential) { remoteLogout('logout'); }
      } else if (cred !== state.credential) {
        // Another tab signed in (or in again): share its session.
        adopt(cred);
        restore();
      }
    }
    global.addEventListener('storage', onStorage);

    // ---- gateway calls --------------------------------------------------

    function call(path, init) {
      init = init || {};
      init.headers = init.headers || {};
      init.cache = 'no-store';
      init.credentials = 'omit';
      init.mode = 'cors';
      return fetch(gateway + path, init);
    }

    function sessionGone(res) {
      return res.status === 401;
    }

    // fetchToken asks for a fresh token; it resolves to the token message or
    // null when the session has ended (then the tab is logged out).
    function fetchToken() {
      var cred = state.credential;
      if (!cred) { return Promise.resolve(null); }
      return call('/token', {method: 'POST', headers: {Authorization: 'Bearer ' + cred}})
        .then(function (res) {
          if (cred !== state.credential) { return null; }
          if (sessionGone(res)) {
            endSession('expired');
            return null;
          }
          if (!res.ok) { throw new Error('ssogate: /token answered ' + res.status); }
          return res.json().then(function (t) {
            return {type: 'token', credential: cred, token: t.token, expires_at: t.expires_at, version: t.version};
          });
        });
    }

    // ---- the app side ---------------------------------------------------

    function authenticateApp(creds, version) {
      state.authenticatingVersion = version || 0;
      if (state.authenticate) { return state.authenticate(creds); }
      if (auth && typeof auth.authenticate === 'function') { return auth.authenticate(creds); }
    }

    // quietAppLogout logs the app out through auth.logout() while telling
    // this delegate's logout that the gateway session must stay (a silent
    // re-login) or is gone already (a remote logout). then runs once the
    // app is logged out.
    function quietAppLogout(then) {
      var ticket = {};
      state.quiet.push(ticket);
      var done = false;
      var finish = function () {
        if (done) { return; }
        done = true;
        var i = state.quiet.indexOf(ticket);
        if (i >= 0) { state.quiet.splice(i, 1); }
        if (then) { then(); }
      };
      try {
        auth.logout(function () { finish(); });
      } catch (e) {
        report(e);
        finish();
        return;
      }
      // Never leave the app logged out (or a quiet ticket behind) when an
      // auth implementation does not call back.
      setTimeout(finish, 3000);
    }

    function giveApp(token, version) {
      if (!state.authenticate && !(auth && typeof auth.authenticate === 'function')) {
        state.pendingAuth = true;
        return;
      }
      state.pendingAuth = false;
      var relogin = state.appVersion > 0 && version > state.appVersion && auth && typeof auth.logout === 'function';
      if (!relogin && state.appVersion === 0 && appSessionCurrent(version)) {
        // The page load restored the app's session for this very version:
        // no auth call, no second login.
        state.appVersion = version;
        emit('token', {version: version, restored: true});
        return;
      }
      state.appVersion = Math.max(state.appVersion, version);
      if (!relogin) {
        authenticateApp({livefyre: token}, version);
        emit('token', {version: version});
        return;
      }
      // The documented way to make the app take a new display name: log the
      // app out (quietly: the gateway session stays) and authenticate again
      // with the new token.
      quietAppLogout(function () {
        if (state.token === token) {
          authenticateApp({livefyre: token}, version);
          emit('relogin', {version: version});
        }
      });
    }

    // applyToken takes a token from a fetch, a login or another tab. A popup
    // login's token goes to the app through finishLogin instead.
    function applyToken(t, source) {
      if (!t || !t.token || t.credential !== state.credential) { return; }
      if (t.version < state.version) { return; }
      if (t.version === state.version && t.expires_at <= state.expiresAt) { return; }
      state.token = t.token;
      state.expiresAt = t.expires_at;
      state.version = t.version;
      noteVersion(t.version);
      scheduleRefresh();
      if (source !== 'broadcast') { broadcast(t); }
      // The app gets a token when it has none or when the profile moved on;
      // a refreshed token of the same version stays here (ready for the next
      // page load or re-login), which spares the app an auth round trip.
      if (source !== 'login' && (state.appVersion === 0 || t.version > state.appVersion || state.pendingAuth)) {
        giveApp(t.token, t.version);
      }
    }

    function scheduleRefresh() {
      clearTimeout(state.refreshTimer);
      if (!state.expiresAt) { return; }
      var ttl = state.expiresAt * 1000 - Date.now();
      // Refresh a minute (or a tenth of the lifetime) early, spread over
      // tabs so that one of them goes first and the others get its token.
      var lead = Math.min(60000, Math.max(ttl / 10, 5000));
      var wait = Math.max(ttl - lead - Math.random() * Math.min(lead, 20000), 1000);
      state.refreshTimer = setTimeout(function () { refreshNow(0); }, wait);
    }

    function refreshNow(attempt) {
      if (!state.credential || state.destroyed) { return Promise.resolve(); }
      return fetchToken().then(function (t) {
        if (t) { applyToken(t, 'fetch'); }
      }, function (err) {
        report(err);
        var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
        clearTimeout(state.refreshTimer);
        state.refreshTimer = setTimeout(function () { refreshNow(attempt + 1); }, delay);
      });
    }

    function adopt(cred) {
      if (state.credential === cred) { return; }
      state.credential = cred;
      state.token = null;
      state.expiresAt = 0;
      state.version = 0;
      // A stream of the previous session must not go on.
      if (state.streamAbort) { state.streamAbort.abort(); }
      wakeStream();
    }

    function restore() {
      if (!state.credential) { return Promise.resolve(); }
      state.restoring = refreshNow(0);
      return state.restoring;
    }

    // clearLocal forgets the session in this tab (and in storage).
    function clearLocal() {
      state.credential = null;
      state.token = null;
      state.expiresAt = 0;
      state.version = 0;
      clearTimeout(state.refreshTimer);
      if (state.streamAbort) { state.streamAbort.abort(); }
      writeStored(null);
    }

    // remoteLogout: the session ended elsewhere (another tab, the provider,
    // the gateway); log the app out without calling the gateway.
    function remoteLogout(reason) {
      if (!state.credential) { return; }
      clearLocal();
      emit('logout', {reason: reason});
      var appIn = state.appVersion > 0;
      state.appVersion = 0;
      if (appIn && auth && typeof auth.logout === 'function') {
        quietAppLogout(null);
      }
    }

    // endSession: this tab learned that the session ended; tell the others.
    function endSession(reason) {
      if (!state.credential) { return; }
      broadcast({type: 'logout', reason: reason});
      remoteLogout(reason);
    }

    // ---- the event stream ----------------------------------------------

    var streamWaiters = [];
    function wakeStream() {
      var w = streamWaiters;
      streamWaiters = [];
      w.forEach(function (fn) { fn(); });
    }
    function waitForCredential() {
      if (state.credential) { return Promise.resolve(); }
      return new Promise(function (resolve) { streamWaiters.push(resolve); });
    }

    function readEvents(body, onEvent, onActivity) {
      var reader = body.getReader();
      var decoder = new TextDecoder();
      var buf = '';
      var ev = {type: 'message', data: [], id: null};
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) { return; }
          onActivity();
          buf += decoder.decode(r.value, {stream: true});
          var m;
          while ((m = /\r\n|\r|\n/.exec(buf)) !== null) {
            var line = buf.slice(0, m.index);
            buf = buf.slice(m.index + m[0].length);
            if (line === '') {
              if (ev.data.length) { onEvent(ev.type, ev.data.join('\n'), ev.id); }
              ev = {type: 'message', data: [], id: null};
              continue;
            }
            if (line.charAt(0) === ':') { continue; }
            var c = line.indexOf(':');
            var field = c < 0 ? line : line.slice(0, c);
            var value = c < 0 ? '' : line.slice(c + 1);
            if (value.charAt(0) === ' ') { value = value.slice(1); }
            if (field === 'event') { ev.type = value; }
            else if (field === 'data') { ev.data.push(value); }
            else if (field === 'id') { ev.id = value; }
          }
          return pump();
        });
      }
      return pump();
    }

    function onStreamEvent(type, data) {
      var d = {};
      try { d = JSON.parse(data); } catch (e) { return; }
      if (type === 'profile') {
        // The version is recorded (and becomes the stream's position) only
        // once the token for it arrived, so a failed fetch is retried and a
        // reconnect asks for the event again.
        if (typeof d.version === 'number' && d.version > state.version) {
          refreshNow(0);
        }
      } else if (type === 'logout') {
        endSession(d.reason || 'logout');
      }
    }

    function runStream() {
      var backoff = 1000;
      function once() {
        if (state.destroyed) { return Promise.resolve(); }
        return waitForCredential().then(function () {
          var cred = state.credential;
          var ctrl = new AbortController();
          state.streamAbort = ctrl;
          state.streaming = true;
          var watchdog = null;
          var activity = function () {
            clearTimeout(watchdog);
            watchdog = setTimeout(function () { ctrl.abort(); }, 75000);
          };
          activity();
          var headers = {Authorization: 'Bearer ' + cred, Accept: 'text/event-stream'};
          // The version this browser holds; without one (no token yet) the
          // gateway takes the current version as the starting point.
          var last = Math.max(state.version, sharedVersion());
          if (last > 0) { headers['Last-Event-ID'] = String(last); }
          return call('/events', {headers: headers, signal: ctrl.signal}).then(function (res) {
            if (sessionGone(res)) {
              if (cred === state.credential) { endSession('expired'); }
              return;
            }
            if (!res.ok || !res.body) { throw new Error('ssogate: /events answered ' + res.status); }
            backoff = 1000;
            return readEvents(res.body, onStreamEvent, activity);
          }).catch(function (err) {
            if (!ctrl.signal.aborted) { report(err); }
          }).then(function () {
            clearTimeout(watchdog);
            state.streaming = false;
            if (state.destroyed) { return; }
            var wait = state.credential === cred ? backoff + Math.random() * 1000 : 0;
            backoff = Math.min(backoff * 2, 30000);
            return sleep(wait).then(once);
          });
        });
      }
      return once();
    }

    function startStream() {
      var canShare = channel && global.navigator && navigator.locks && typeof navigator.locks.request === 'function';
      if (!canShare) {
        runStream();
        return;
      }
      // Held until the tab goes away; then another tab takes over.
      navigator.locks.request(prefix + 'stream', function () {
        state.leader = true;
        emit('leader', {});
        return runStream();
      }).catch(report);
    }

    // ---- redirect-mode return -------------------------------------------

    function takeRedirectResult() {
      var hash = location.hash || '';
      var m = /[#&]ssogate_(code|error)=([^&]*)/.exec(hash);
      if (!m) { return null; }
      var rest = hash.replace(/[#&]ssogate_(code|error)=[^&]*/, '').replace(/^&/, '#');
      try {
        history.replaceState(history.state, '', location.pathname + location.search + (rest === '#' ? '' : rest));
      } catch (e) { /* ignore */ }
      var value = decodeURIComponent(m[2]);
      if (m[1] === 'error') {
        report(new Error('ssogate: login failed: ' + value));
        return null;
      }
      return call('/session/exchange', {
        method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({code: value})
      }).then(function (res) {
        if (!res.ok) { throw new Error('ssogate: /session/exchange answered ' + res.status); }
        return res.json();
      }).then(function (t) {
        writeStored(t.credential);
        adopt(t.credential);
        applyToken({type: 'token', credential: t.credential, token: t.token, expires_at: t.expires_at, version: t.version}, 'exchange');
        emit('login', {version: t.version});
      }).catch(report);
    }

    // ---- the delegate ---------------------------------------------------

    function loginURL(mode) {
      var u = gateway + '/login?origin=' + encodeURIComponent(location.origin) + '&mode=' + mode;
      // A popup names the page too: cut off from this tab by the
      // provider's Cross-Origin-Opener-Policy, it finishes there.
      u += '&return_to=' + encodeURIComponent(options.returnTo || location.href.replace(/#.*$/, ''));
      return u;
    }

    // loginError is what finishLogin gets when no sign-in happened: a code
    // the site can act on and a sentence it can show, never a raw error.
    var loginMessages = {
      popup_blocked: 'The sign-in window was blocked by the browser. Allow pop-ups for this site and try again.',
      login_cancelled: 'Sign-in was cancelled.',
      login_failed: 'Sign-in did not work. Please try again.'
    };
    function loginError(code, detail) {
      var err = new Error(loginMessages[code] || loginMessages.login_failed);
      err.code = code;
      if (detail) { err.detail = detail; }
      return err;
    }

    var delegate = {
      login: function (finishLogin) {
        var finished = false;
        var finish = function (err, creds) {
          if (finished) { return; }
          finished = true;
          finishLogin(err, creds);
        };
        if (options.mode === 'redirect') {
          location.assign(loginURL('redirect'));
          return;
        }
        var w = 480, h = 640;
        var left = Math.max(0, (global.screenX || 0) + ((global.outerWidth || w) - w) / 2);
        var top = Math.max(0, (global.screenY || 0) + ((global.outerHeight || h) - h) / 2);
        var popup = null;
        try {
          popup = global.open(loginURL('popup'), 'ssogate_login',
            'popup=yes,width=' + w + ',height=' + h + ',left=' + left + ',top=' + top);
        } catch (e) { popup = null; }
        if (!popup) {
          // Blocked: the same sign-in in this window, unless the site
          // asked to hear about it instead (popupFallback: 'none').
          var fallback = options.popupFallback === 'none' ? 'none' : 'redirect';
          emit('popup_blocked', {fallback: fallback});
          if (fallback === 'redirect') {
            location.assign(loginURL('redirect'));
            return;
          }
          finish(loginError('popup_blocked'));
          return;
        }
        var poll = null;
        var onMessage = function (ev) {
          if (ev.origin !== gatewayOrigin || ev.source !== popup) { return; }
          var d = ev.data || {};
          if (d.type !== 'ssogate.login') { return; }
          cleanup();
          if (d.error) {
            var code = d.error === 'access_denied' ? 'login_cancelled' : 'login_failed';
            emit(code, {reason: d.error});
            finish(loginError(code, d.error));
            return;
          }
          writeStored(d.credential);
          adopt(d.credential);
          state.appVersion = d.version; // finishLogin hands this token to the app
          state.authenticatingVersion = d.version;
          state.pendingAuth = false;
          applyToken({type: 'token', credential: d.credential, token: d.token, expires_at: d.expires_at, version: d.version}, 'login');
          emit('login', {version: d.version});
          finish(null, {livefyre: d.token});
        };
        var cleanup = function () {
          global.removeEventListener('message', onMessage);
          clearInterval(poll);
        };
        global.addEventListener('message', onMessage);
        poll = setInterval(function () {
          if (popup.closed) {
            // Give a message posted just before closing a moment to arrive.
            // A popup the provider's COOP cut off also reads as closed; it
            // finishes on the site page and this tab follows through
            // storage.
            setTimeout(function () {
              if (!finished) {
                cleanup();
                emit('login_cancelled', {reason: 'closed'});
                finish(loginError('login_cancelled'));
              }
            }, 300);
            clearInterval(poll);
          }
        }, 400);
      },

      logout: function (finishLogout) {
        if (state.quiet.length) {
          // A silent re-login or a logout that already happened elsewhere:
          // only the app logs out; the gateway session is left alone.
          state.quiet.shift();
          finishLogout(null);
          return;
        }
        var cred = state.credential;
        state.appVersion = 0;
        clearLocal();
        broadcast({type: 'logout', reason: 'logout'});
        emit('logout', {reason: 'logout'});
        if (!cred) {
          finishLogout(null);
          return;
        }
        var body = options.postLogoutRedirectUri ? JSON.stringify({post_logout_redirect_uri: options.postLogoutRedirectUri}) : '';
        call('/logout', {
          method: 'POST',
          headers: {Authorization: 'Bearer ' + cred, 'Content-Type': 'application/json'},
          body: body,
          keepalive: true
        }).then(function (res) {
          return res.ok ? res.json() : {};
        }).then(function (r) {
          finishLogout(null);
          if (options.providerLogout && r && r.end_session_url) {
            location.assign(r.end_session_url);
          }
        }, function (err) {
          report(err);
          finishLogout(null);
        });
      },

      // Livefyre's apps pass viewProfile a plain author object and
      // editProfile nothing.
      viewProfile: function (author) {
        if (typeof options.viewProfile === 'function') { return options.viewProfile(author); }
        var url = profileURL(author, 'profileUrl');
        if (url) { global.open(url, '_blank', 'noopener'); }
      },

      editProfile: function (user) {
        if (typeof options.editProfile === 'function') { return options.editProfile(user); }
        var url = profileURL(user, 'settingsUrl');
        if (url) { global.open(url, '_blank', 'noopener'); }
      },

      forEachAuthentication: function (authenticate) {
        state.authenticate = authenticate;
        if (state.token && (state.pendingAuth || state.appVersion === 0)) {
          giveApp(state.token, state.version);
        }
      },

      // Not part of the Livefyre contract: for pages and tests.
      ssogate: {
        state: function () {
          return {
            signedIn: !!state.credential, version: state.version, appVersion: state.appVersion,
            expiresAt: state.expiresAt, leader: state.leader, streaming: state.streaming
          };
        },
        // token is this tab's current userAuthToken (null when signed
        // out), for the site's own backend: the app's token is the hub's.
        token: function () { return state.token; },
        refresh: function () { return refreshNow(0); },
        destroy: destroy
      },

      // destroy stops this delegate (the auth-delegates contract): no more
      // refreshes, stream, cross-tab messages or storage events.
      destroy: destroy
    };

    function destroy() {
      state.destroyed = true;
      clearTimeout(state.refreshTimer);
      if (state.streamAbort) { state.streamAbort.abort(); }
      if (channel) { channel.close(); }
      global.removeEventListener('storage', onStorage);
    }

    // profileURL: the URL named by field of what was passed (a User or a
    // plain author object), else of the signed-in user when nothing (or
    // that user) was passed.
    function profileURL(who, field) {
      var url = null;
      if (who && typeof who.get === 'function') { url = who.get(field); }
      else if (who && typeof who === 'object') { url = who[field]; }
      if (url) { return String(url); }
      var me = appUser();
      if (!me) { return null; }
      var whoID = who && (typeof who.get === 'function' ? who.get('id') : who.id);
      if (who && whoID && whoID !== me.get('id')) { return null; }
      return me.get(field) || null;
    }

    // ---- start ------------------------------------------------------------

    var cred = readStored();
    if (cred) { adopt(cred); }
    var redirect = takeRedirectResult();
    if (!redirect && cred) { restore(); }
    startStream();
    return delegate;
  }

  global.ssogate = global.ssogate || {};
  global.ssogate.authDelegate = authDelegate;
})(window);
