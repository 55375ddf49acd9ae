/*
 * The news site's own script: what a site integrating ssogate writes. It
 * hands the Livefyre auth a delegate from the gateway's authdelegate.js,
 * mounts the app (the hub's comment stream), and drives the profile page.
 */
(function (global) {
  'use strict';

  var DEMO = global.DEMO;

  // notice shows the delegate's sign-in events as a sentence under the
  // masthead: a site renders these instead of raw errors.
  var notices = {
    popup_blocked: function (d) {
      return d.fallback === 'redirect' ? 'The sign-in window was blocked; signing you in on this page instead…'
        : 'The sign-in window was blocked. Allow pop-ups for this site and try again.';
    },
    login_cancelled: function () { return 'Sign-in cancelled.'; },
    login_failed: function () { return 'Sign-in did not work. Please try again.'; },
    login: function () { return ''; }
  };
  function notice(name, detail) {
    if (!notices[name]) { return; }
    var el = document.getElementById('signin-notice');
    if (!el) {
      el = document.createElement('p');
      el.id = 'signin-notice';
      el.className = 'notice';
      el.setAttribute('role', 'status');
      var header = document.querySelector('.masthead');
      if (header && header.parentNode) { header.parentNode.insertBefore(el, header.nextSibling); } else { document.body.prepend(el); }
    }
    el.textContent = notices[name](detail || {});
    el.hidden = el.textContent === '';
  }

  function withAuth(cb) {
    global.Livefyre.require(['auth'], function (auth) {
      // onToken: what waits for the gateway's token (the site's own
      // backend takes it). A page load whose app session is current gets
      // it without a second app login, so 'login.livefyre' is no signal.
      var onToken = [];
      var delegate = global.ssogate.authDelegate({
        auth: auth,
        gateway: DEMO.gateway,
        onEvent: notice,
        viewProfile: function () { location.href = '/profile'; },
        editProfile: function () { location.href = '/profile'; },
        onEvent: function (name) {
          if (name === 'token' || name === 'relogin' || name === 'login') {
            onToken.forEach(function (f) { f(); });
          }
        }
      });
      delegate.onToken = onToken;
      auth.delegate(delegate);
      var who = document.getElementById('whoami');
      var show = function () {
        var u = auth.get('livefyre');
        who.textContent = u ? u.get('displayName') : '';
        who.setAttribute('data-testid', 'whoami');
      };
      auth.on('login.livefyre', show);
      auth.on('logout', show);
      show();
      cb(auth, delegate);
    });
  }

  global.demoArticle = function (articleId) {
    withAuth(function (auth) {
      global.fyreComments.mount(document.getElementById('comments-app'), {
        auth: auth, hub: DEMO.hub, network: DEMO.network, articleId: articleId
      });
    });
  };

  global.demoProfile = function () {
    var form = document.getElementById('profile-form');
    var signin = document.getElementById('profile-signin');
    var status = document.getElementById('profile-status');
    var name = document.getElementById('display-name');
    var bio = document.getElementById('bio');

    withAuth(function (auth, delegate) {
      // The site backend verifies the gateway's userAuthToken, signed with
      // the site's own network key. The app's token is the hub's own
      // app-session token, which no one but the hub accepts.
      function token() {
        return auth.get('livefyre') ? delegate.ssogate.token() : null;
      }
      function call(method, body) {
        return fetch('/api/profile', {
          method: method,
          headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + token()},
          body: body ? JSON.stringify(body) : undefined
        }).then(function (res) {
          return res.json().then(function (j) {
            if (!res.ok) { throw new Error(j.error ? j.error.message : 'HTTP ' + res.status); }
            return j;
          });
        });
      }
      var loaded = false;
      function load() {
        if (!token()) {
          form.hidden = true;
          signin.hidden = false;
          loaded = false;
          return;
        }
        signin.hidden = true;
        form.hidden = false;
        if (loaded) { return; }
        loaded = true;
        call('GET').then(function (p) {
          name.value = p.display_name || '';
          bio.value = p.bio || '';
          var radio = form.querySelector('input[name=avatar][value="' + p.avatar + '"]');
          if (radio) { radio.checked = true; }
        }).catch(function (err) { status.textContent = err.message; });
      }
      auth.on('login.livefyre', load);
      auth.on('logout', load);
      delegate.onToken.push(load);
      load();

      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var avatar = form.querySelector('input[name=avatar]:checked');
        status.textContent = 'Saving…';
        call('POST', {display_name: name.value, avatar: avatar ? avatar.value : 'fox', bio: bio.value})
          .then(function () { status.textContent = 'Saved. Watch your other tabs.'; })
          .catch(function (err) { status.textContent = err.message; });
      });
    });
  };
})(window);
