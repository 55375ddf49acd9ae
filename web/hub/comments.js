/*
 * The hub's demo app: a minimal comment stream, embedded the way Livefyre
 * apps were. It signs in and out through the page's Livefyre `auth` (so the
 * site's authDelegate decides how), posts as the signed-in user, and shows
 * each author's name and avatar as the hub's remote profile has them now:
 * old comments follow a profile change as soon as the hub has pulled it
 * (live, from the hub's update stream; a short poll picks up new comments).
 *
 *   <script src="https://hub.example/comments.js"></script>
 *   fyreComments.mount(document.getElementById('app'), {auth: auth, articleId: 'story-1'});
 *
 * Plain JavaScript, no build step.
 */
(function (global) {
  'use strict';

  var script = document.currentScript;
  var defaultHub = script && script.src ? script.src.replace(/\/comments\.js(?:[?#].*)?$/, '') : '';

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    }
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function mount(root, options) {
    var hub = String(options.hub || defaultHub).replace(/\/+$/, '');
    var auth = options.auth;
    var articleId = options.articleId;
    var network = options.network || '';
    var pollMs = options.pollMs || 5000;
    var comments = [];
    var lastId = 0;

    var userLabel = el('span', {'class': 'app-user', 'data-testid': 'app-user', text: 'Not signed in'});
    var loginBtn = el('button', {type: 'button', 'data-testid': 'login', text: 'Sign in'});
    var logoutBtn = el('button', {type: 'button', 'data-testid': 'logout', text: 'Sign out'});
    var textarea = el('textarea', {rows: '3', maxlength: '2000', placeholder: 'Say something nice', 'data-testid': 'comment-body'});
    var postBtn = el('button', {type: 'submit', 'data-testid': 'post', text: 'Post'});
    var form = el('form', {'class': 'app-form'}, [textarea, postBtn]);
    var status = el('p', {'class': 'app-status', role: 'status'});
    var list = el('ol', {'class': 'comments', 'data-testid': 'comments'});
    root.appendChild(el('div', {'class': 'app-bar'}, [el('strong', {text: 'Comments'}), userLabel, loginBtn, logoutBtn]));
    root.appendChild(form);
    root.appendChild(status);
    root.appendChild(list);

    function user() { return auth.get ? auth.get('livefyre') : null; }

    function showUser() {
      var u = user();
      userLabel.textContent = u ? 'Signed in as ' + u.get('displayName') : 'Not signed in';
      loginBtn.hidden = !!u;
      logoutBtn.hidden = !u;
      form.hidden = !u;
    }

    function render() {
      list.textContent = '';
      comments.forEach(function (c) {
        var avatar = el('img', {alt: '', width: '40', height: '40'});
        if (c.author.avatar) { avatar.src = c.author.avatar; }
        list.appendChild(el('li', {'data-comment-id': String(c.id)}, [
          avatar,
          el('div', {}, [
            el('div', {'class': 'comment-author', 'data-testid': 'comment-author', text: c.author.display_name}),
            el('div', {'class': 'comment-body', text: c.body})
          ])
        ]));
      });
    }

    function query(after) {
      var q = '?article_id=' + encodeURIComponent(articleId) + '&after=' + after;
      if (network) { q += '&network=' + encodeURIComponent(network); }
      return fetch(hub + '/api/comments' + q).then(function (res) {
        if (!res.ok) { throw new Error('comments: ' + res.status); }
        return res.json();
      });
    }

    // reload fetches the whole list again: authors are resolved at read
    // time, so this is how old comments get new names.
    function reload() {
      return query(0).then(function (r) {
        comments = r.comments || [];
        lastId = r.last_id || lastId;
        render();
      });
    }

    function poll() {
      return query(lastId).then(function (r) {
        if (r.comments && r.comments.length) {
          comments = comments.concat(r.comments);
          lastId = r.last_id || lastId;
          render();
        }
      });
    }

    function listen() {
      if (!network || !global.EventSource) { return; }
      var es = new EventSource(hub + '/api/networks/' + encodeURIComponent(network) + '/updates');
      es.addEventListener('profile', function (ev) {
        var p;
        try { p = JSON.parse(ev.data); } catch (e) { return; }
        var touched = comments.some(function (c) { return c.author.id === p.user_id; });
        if (touched) { reload().catch(report); }
      });
      es.addEventListener('lagged', function () { reload().catch(report); });
    }

    function report(err) {
      status.textContent = String(err && err.message || err);
    }

    loginBtn.addEventListener('click', function () {
      auth.login(function (err) { if (err) { report(err); } });
    });
    logoutBtn.addEventListener('click', function () {
      auth.logout(function (err) { if (err) { report(err); } });
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var u = user();
      var body = textarea.value.trim();
      if (!u || !body) { return; }
      postBtn.disabled = true;
      fetch(hub + '/api/comments', {
        method: 'POST',
        headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + u.get('token')},
        body: JSON.stringify({article_id: articleId, body: body})
      }).then(function (res) {
        if (!res.ok) { throw new Error('could not post (' + res.status + ')'); }
        textarea.value = '';
        status.textContent = '';
        return poll();
      }).catch(report).then(function () { postBtn.disabled = false; });
    });

    auth.on('login.livefyre', function () { showUser(); });
    auth.on('logout', function () { showUser(); });
    showUser();
    reload().catch(report);
    listen();
    setInterval(function () { poll().catch(report); }, pollMs);
    return {reload: reload};
  }

  global.fyreComments = {mount: mount};
})(window);
