package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/openapitest"
	"github.com/ssogate/ssogate/tokens"
)

// apiWalk sends requests through the OpenAPI validator and keeps what the
// walk needs.
type apiWalk struct {
	t        *testing.T
	client   *http.Client
	noFollow *http.Client
	site     string
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (w *apiWalk) send(client *http.Client, method, target string, header map[string]string, body string) answer {
	w.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(w.t.Context(), method, target, rd)
	require.NoError(w.t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(w.t, err, "%s %s", method, target)
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// The first bytes show the stream is open; the rest never ends.
		return answer{status: resp.StatusCode, header: resp.Header}
	}
	data, err := io.ReadAll(resp.Body)
	require.NoError(w.t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (w *apiWalk) do(method, target string, header map[string]string, body string) answer {
	w.t.Helper()
	return w.send(w.client, method, target, header, body)
}

// expect sends and checks the status.
func (w *apiWalk) expect(status int, method, target string, header map[string]string, body string) answer {
	w.t.Helper()
	a := w.do(method, target, header, body)
	if a.status != status {
		w.t.Errorf("%s %s: got %d, want %d: %s", method, target, a.status, status, a.body)
	}
	return a
}

// TestOpenAPIMatchesServers runs the demo in process (gateway, hub and
// provider wired as serve and hub wire them) and walks every documented
// operation of docs/openapi.yaml, good and bad requests alike, through a
// validator that checks each real answer against the document: an
// undocumented route, status, header or body shape fails the test, and so
// does a documented operation the walk never reached.
func TestOpenAPIMatchesServers(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	site, gateway, hubURL, dir := d.site, d.gateway, d.hub, d.dir
	secrets, err := loadDemoSecrets(filepath.Join(dir, "secrets.json"))
	require.NoError(t, err)
	codec, err := tokens.New(tokens.Config{Network: demoNetwork, Key: secrets.NetworkKey})
	require.NoError(t, err)
	system, err := codec.MintSystem(time.Hour)
	require.NoError(t, err)

	v, err := openapitest.New(nil, gateway, hubURL)
	require.NoError(t, err)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	w := &apiWalk{
		t:      t,
		client: &http.Client{Transport: v, Jar: jar, Timeout: 30 * time.Second},
		noFollow: &http.Client{Transport: v, Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		site: site,
	}
	origin := map[string]string{"Origin": site}
	admin := map[string]string{"Authorization": "Bearer " + secrets.AdminToken}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	with := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}

	// Probes and documents, on both servers.
	for _, base := range []string{gateway, hubURL} {
		w.expect(http.StatusOK, http.MethodGet, base+"/", nil, "")
		w.expect(http.StatusOK, http.MethodGet, base+"/healthz", nil, "")
		w.expect(http.StatusOK, http.MethodGet, base+"/readyz", nil, "")
		w.expect(http.StatusOK, http.MethodGet, base+"/metrics", nil, "")
		w.expect(http.StatusOK, http.MethodGet, base+"/openapi.yaml", nil, "")
	}
	js := w.expect(http.StatusOK, http.MethodGet, gateway+"/authdelegate.js", nil, "")
	if etag := js.header.Get("ETag"); etag != "" {
		w.expect(http.StatusNotModified, http.MethodGet, gateway+"/authdelegate.js", map[string]string{"If-None-Match": etag}, "")
	}
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/auth.js", nil, "")
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/avatar/default.svg", nil, "")
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/comments.js", nil, "")

	// Login: refused, then through the provider's form.
	w.expect(http.StatusBadRequest, http.MethodGet, gateway+"/login?origin=https://evil.example&mode=popup", nil, "")
	start := w.send(w.noFollow, http.MethodGet, gateway+"/login?"+url.Values{"origin": {site}, "mode": {"popup"}}.Encode(), nil, "")
	require.Equal(t, http.StatusFound, start.status, start.body)
	w.expect(http.StatusBadRequest, http.MethodGet, gateway+"/callback?state=forged&code=x", nil, "")
	resp, err := w.client.Get(start.header.Get("Location"))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	page := resp.Request.URL
	done2 := w.expect(http.StatusOK, http.MethodPost, page.ResolveReference(&url.URL{Path: "login"}).String(), form,
		url.Values{"id": {page.Query().Get("id")}, "username": {"alice"}, "password": {"alice-password"}, "action": {"login"}}.Encode())
	m := popupResult.FindStringSubmatch(done2.body)
	require.NotNil(t, m, "no login result in %s", done2.body)
	credential := jsonField(t, m[1], "credential")
	userToken := jsonField(t, m[1], "token")
	bearer := map[string]string{"Authorization": "Bearer " + credential}

	// The delegate's API.
	w.expect(http.StatusNoContent, http.MethodOptions, gateway+"/token", with(origin, map[string]string{"Access-Control-Request-Method": "POST"}), "")
	w.expect(http.StatusOK, http.MethodPost, gateway+"/token", with(origin, bearer), "")
	w.expect(http.StatusUnauthorized, http.MethodPost, gateway+"/token", with(origin, map[string]string{"Authorization": "Bearer nope"}), "")
	w.expect(http.StatusForbidden, http.MethodPost, gateway+"/token", with(bearer, map[string]string{"Origin": "https://evil.example"}), "")
	w.expect(http.StatusNoContent, http.MethodOptions, gateway+"/session/exchange", with(origin, map[string]string{"Access-Control-Request-Method": "POST"}), "")
	w.expect(http.StatusBadRequest, http.MethodPost, gateway+"/session/exchange", with(origin, jsonCT), `{"code":"forged"}`)
	w.expect(http.StatusNoContent, http.MethodOptions, gateway+"/events", with(origin, map[string]string{"Access-Control-Request-Method": "GET"}), "")
	w.expect(http.StatusOK, http.MethodGet, gateway+"/events", with(origin, bearer, map[string]string{"Accept": "text/event-stream"}), "")
	w.expect(http.StatusUnauthorized, http.MethodGet, gateway+"/events", with(origin, map[string]string{"Authorization": "Bearer nope"}), "")
	w.expect(http.StatusBadRequest, http.MethodPost, gateway+"/backchannel-logout", form, "logout_token=forged")
	w.expect(http.StatusOK, http.MethodGet, gateway+"/logged-out?state=https://evil.example/", nil, "")
	if a := w.send(w.noFollow, http.MethodGet, gateway+"/logged-out?"+url.Values{"state": {site + "/"}}.Encode(), nil, ""); a.status != http.StatusSeeOther {
		t.Errorf("GET /logged-out to the site: got %d, want 303", a.status)
	}

	// The webhook.
	hook := func(body string, sign bool, header map[string]string) answer {
		t.Helper()
		h := with(jsonCT, header)
		if sign {
			wh, err := standardwebhooks.NewWebhook(secrets.WebhookSecret)
			require.NoError(t, err)
			id := fmt.Sprintf("msg_openapi_%d", time.Now().UnixNano())
			now := time.Now()
			sig, err := wh.Sign(id, now, []byte(body))
			require.NoError(t, err)
			h = with(h, map[string]string{"webhook-id": id, "webhook-timestamp": fmt.Sprint(now.Unix()), "webhook-signature": sig})
		}
		return w.do(http.MethodPost, gateway+"/hooks/profile-changed", h, body)
	}
	require.Equal(t, http.StatusAccepted, hook(`{"user_id":"alice","patch":{"bio":"walked by the OpenAPI test"}}`, true, nil).status)
	require.Equal(t, http.StatusAccepted, hook(`{"user_id":"alice","patch":{"bio":"walked by the OpenAPI test"}}`, true, nil).status)
	require.Equal(t, http.StatusBadRequest, hook(`{"user_id":"system","patch":{}}`, true, nil).status)
	require.Equal(t, http.StatusBadRequest, hook(`[1]`, true, nil).status)
	require.Equal(t, http.StatusUnauthorized, hook(`{"user_id":"alice"}`, false, nil).status)
	require.Equal(t, http.StatusUnsupportedMediaType, hook(`{"user_id":"alice"}`, true, map[string]string{"Content-Type": "text/plain"}).status)
	require.Equal(t, http.StatusRequestEntityTooLarge, hook(`{"user_id":"alice","x":"`+strings.Repeat("a", 70<<10)+`"}`, true, nil).status)

	// The pull.
	w.expect(http.StatusOK, http.MethodGet, gateway+"/pull?"+url.Values{"id": {"alice"}, "lftoken": {system}}.Encode(), nil, "")
	w.expect(http.StatusForbidden, http.MethodGet, gateway+"/pull?id=alice", nil, "")
	w.expect(http.StatusForbidden, http.MethodGet, gateway+"/pull?"+url.Values{"id": {"alice"}, "lftoken": {userToken}}.Encode(), nil, "")
	w.expect(http.StatusBadRequest, http.MethodGet, gateway+"/pull?"+url.Values{"id": {"a b"}, "lftoken": {system}}.Encode(), nil, "")
	w.expect(http.StatusNotFound, http.MethodGet, gateway+"/pull?"+url.Values{"id": {"nobody"}, "lftoken": {system}}.Encode(), nil, "")

	// The gateway's admin API.
	w.expect(http.StatusOK, http.MethodGet, gateway+"/admin/api/users/alice/timeline", admin, "")
	w.expect(http.StatusUnauthorized, http.MethodGet, gateway+"/admin/api/users/alice/timeline", nil, "")
	w.expect(http.StatusBadRequest, http.MethodGet, gateway+"/admin/api/users/alice/timeline?limit=x", admin, "")
	w.expect(http.StatusOK, http.MethodGet, gateway+"/admin/api/deadletters", admin, "")
	w.expect(http.StatusUnauthorized, http.MethodGet, gateway+"/admin/api/deadletters", nil, "")
	w.expect(http.StatusNotFound, http.MethodPost, gateway+"/admin/api/deadletters/999999/replay", with(admin, jsonCT), "")

	// The hub: registration, ping, logout.
	w.expect(http.StatusNoContent, http.MethodPost, hubURL+"/", form,
		url.Values{"actor_token": {system}, "pull_profile_url": {gateway + "/pull?id={id}"}}.Encode())
	w.expect(http.StatusForbidden, http.MethodPost, hubURL+"/", form,
		url.Values{"actor_token": {userToken}, "pull_profile_url": {gateway + "/pull?id={id}"}}.Encode())
	w.expect(http.StatusBadRequest, http.MethodPost, hubURL+"/", form,
		url.Values{"actor_token": {system}, "pull_profile_url": {gateway + "/pull"}}.Encode())
	for _, version := range []string{"v3_0", "v3.0"} {
		w.expect(http.StatusOK, http.MethodPost, hubURL+"/api/"+version+"/user/alice/refresh", form, "lftoken="+url.QueryEscape(system))
	}
	w.expect(http.StatusForbidden, http.MethodPost, hubURL+"/api/v3_0/user/alice/refresh", form, "lftoken="+url.QueryEscape(userToken))

	// The app's auth API: JSON, JSONP, refusals.
	auth := w.expect(http.StatusOK, http.MethodGet, hubURL+"/api/v3.0/auth/?lftoken="+url.QueryEscape(userToken), nil, "")
	appSession := jsonField(t, jsonField(t, jsonField(t, auth.body, "data"), "token"), "value")
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/api/v3_0/auth?callback=cb&lftoken="+url.QueryEscape(userToken), nil, "")
	w.expect(http.StatusForbidden, http.MethodGet, hubURL+"/api/v3.0/auth/?lftoken="+url.QueryEscape(system), nil, "")
	w.expect(http.StatusForbidden, http.MethodGet, hubURL+"/api/v3.0/auth/?lftoken="+url.QueryEscape(appSession), nil, "")
	w.expect(http.StatusNoContent, http.MethodOptions, hubURL+"/api/v3.0/auth/", map[string]string{"Origin": site, "Access-Control-Request-Method": "GET"}, "")
	w.expect(http.StatusNoContent, http.MethodOptions, hubURL+"/api/v3_0/auth", map[string]string{"Origin": site, "Access-Control-Request-Method": "GET"}, "")

	// The demo app and the users page.
	app := map[string]string{"Authorization": "Bearer " + appSession}
	w.expect(http.StatusCreated, http.MethodPost, hubURL+"/api/comments", with(app, jsonCT, origin), `{"article_id":"openapi","body":"hello"}`)
	w.expect(http.StatusForbidden, http.MethodPost, hubURL+"/api/comments", with(jsonCT, origin), `{"article_id":"openapi","body":"hello"}`)
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/api/comments?"+url.Values{"network": {demoNetwork}, "article_id": {"openapi"}}.Encode(), origin, "")
	w.expect(http.StatusNoContent, http.MethodOptions, hubURL+"/api/comments", map[string]string{"Origin": site, "Access-Control-Request-Method": "POST"}, "")
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/api/networks/"+demoNetwork+"/updates", with(origin, map[string]string{"Accept": "text/event-stream"}), "")
	w.expect(http.StatusNotFound, http.MethodGet, hubURL+"/api/networks/nope.fyre.co/updates", origin, "")
	w.expect(http.StatusNoContent, http.MethodOptions, hubURL+"/api/networks/"+demoNetwork+"/updates", map[string]string{"Origin": site, "Access-Control-Request-Method": "GET"}, "")
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/users", admin, "")
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/api/networks/"+demoNetwork+"/users/alice", admin, "")
	w.expect(http.StatusNotFound, http.MethodGet, hubURL+"/api/networks/"+demoNetwork+"/users/nobody", admin, "")
	w.expect(http.StatusOK, http.MethodGet, hubURL+"/users/"+demoNetwork+"/alice", admin, "")
	w.expect(http.StatusNotFound, http.MethodGet, hubURL+"/users/"+demoNetwork+"/nobody", admin, "")
	w.expect(http.StatusUnauthorized, http.MethodGet, hubURL+"/users/"+demoNetwork+"/alice", nil, "")
	// Collections: the demo configures no site, so a collectionMeta is
	// refused, and it has no collection to moderate.
	collection := `{"articleId":"a1","collectionMeta":"x.y.z","checksum":"00"}`
	w.expect(http.StatusForbidden, http.MethodPost, hubURL+"/api/v3.0/site/1/collection/create/?sync=1", jsonCT, collection)
	w.expect(http.StatusBadRequest, http.MethodPost, hubURL+"/api/v3_0/site/1/collection/update", jsonCT, `{}`)
	w.expect(http.StatusNotFound, http.MethodPut, hubURL+"/api/networks/"+demoNetwork+"/collections/1/moderators/alice", admin, "")
	w.expect(http.StatusUnauthorized, http.MethodPut, hubURL+"/api/networks/"+demoNetwork+"/collections/1/moderators/alice", nil, "")
	w.expect(http.StatusBadRequest, http.MethodPut, hubURL+"/api/networks/"+demoNetwork+"/collections/x/moderators/alice", admin, "")
	w.expect(http.StatusNotFound, http.MethodDelete, hubURL+"/api/networks/"+demoNetwork+"/collections/1/moderators/alice", admin, "")

	// Logouts last: the gateway's, then the hub's extension.
	w.expect(http.StatusNoContent, http.MethodOptions, gateway+"/logout", with(origin, map[string]string{"Access-Control-Request-Method": "POST"}), "")
	w.expect(http.StatusOK, http.MethodPost, gateway+"/logout", with(origin, bearer, jsonCT), "")
	w.expect(http.StatusOK, http.MethodPost, gateway+"/logout", with(origin, bearer, jsonCT), "") // once more: idempotent
	w.expect(http.StatusUnauthorized, http.MethodPost, gateway+"/logout", with(origin, jsonCT), "")
	w.expect(http.StatusOK, http.MethodPost, hubURL+"/api/v3_0/user/alice/logout", form, "lftoken="+url.QueryEscape(system))
	w.expect(http.StatusForbidden, http.MethodPost, hubURL+"/api/v3.0/user/alice/logout", form, "lftoken="+url.QueryEscape(userToken))

	for _, e := range v.Errors() {
		t.Error(e)
	}
	require.Empty(t, v.Unexercised(), "documented operations the walk never reached")
	ops, answers := v.Seen()
	t.Logf("checked %d operations, %d distinct (operation, status) answers against docs/openapi.yaml", ops, answers)
}

// jsonField returns one top-level field of a JSON object, as JSON text for
// objects and as the bare string for strings.
func jsonField(t *testing.T, doc, field string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &m), doc)
	switch v := m[field].(type) {
	case string:
		return v
	default:
		out, err := json.Marshal(v)
		require.NoError(t, err)
		return string(out)
	}
}
