package hub

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
)

const (
	testSiteID  = "303613"
	testSiteKey = "site-key-for-303613"
)

// withSite gives the test network a site, moderated by sitemod.
func withSite() option {
	return withConfig(func(c *Config) {
		c.Networks[0].Sites = []SiteConfig{{ID: testSiteID, Key: testSiteKey, Moderators: []string{"sitemod"}}}
	})
}

type nodeCollection struct {
	CollectionID   string `json:"collectionId"`
	CollectionMeta string `json:"collectionMeta"`
	Checksum       string `json:"checksum"`
	Error          string `json:"error"`
}

// nodeCreateCollection runs Livefyre's Node library's
// collection.createOrUpdate against the hub, or skips (fails under CI)
// without Node or the library.
func nodeCreateCollection(t *testing.T, hubURL, title, articleID, tags string) nodeCollection {
	t.Helper()
	const install = "mkdir -p /tmp/lfnode && (cd /tmp/lfnode && npm install livefyre@2.0.9) && export LIVEFYRE_NODE_MODULES=/tmp/lfnode"
	root := os.Getenv("LIVEFYRE_NODE_MODULES")
	if root == "" {
		testenv.Missing(t, "LIVEFYRE_NODE_MODULES is not set; to run it: %s", install)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node is not on PATH; to run it: %s", install)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "livefyre", "package.json")); err != nil {
		t.Fatalf("LIVEFYRE_NODE_MODULES=%s holds no node_modules/livefyre: %v (install: %s)", root, err, install)
	}
	in, err := json.Marshal(map[string]string{
		"hub": hubURL, "network": testNetwork, "networkKey": testKey, "siteId": testSiteID, "siteKey": testSiteKey,
		"title": title, "articleId": articleID, "url": "https://news.example/articles/" + articleID, "tags": tags,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "livefyre_collection.js"))
	cmd.Env = append(os.Environ(), "LIVEFYRE_NODE_MODULES="+root)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node: %s", stderr.String())
	var out nodeCollection
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), "node output: %s", stdout.String())
	return out
}

// TestCollectionFromLivefyreNode: Livefyre's Node library creates a
// collection on the hub (and, run again, updates it: create answers 409);
// a moderator of it signs in with auth.js and isMod({collectionId}) is
// true, with the moderator key and author key in the user's
// authorization; a reader gets an author key only; a site moderator
// moderates it too.
func TestCollectionFromLivefyreNode(t *testing.T) {
	t.Parallel()
	c := newCompat(t, withSite())
	b := c.b
	admin := adminHeader
	created := nodeCreateCollection(t, b.hub.URL, "Lovely building", "article-1", "")
	require.Empty(t, created.Error)
	require.NotEmpty(t, created.CollectionID)
	again := nodeCreateCollection(t, b.hub.URL, "Lovely building, updated", "article-1", "news,architecture")
	require.Empty(t, again.Error)
	require.Equal(t, created.CollectionID, again.CollectionID)
	stored, err := b.store.CollectionGet(b.ctx, testNetwork, testSiteID, "article-1")
	require.NoError(t, err)
	require.Equal(t, "Lovely building, updated", stored.Title)
	require.Equal(t, "livecomments", stored.Type)
	require.Equal(t, created.CollectionID, fmt.Sprint(stored.ID))

	// An admin makes mod a moderator of the collection.
	modPath := "/api/networks/" + testNetwork + "/collections/" + created.CollectionID + "/moderators/"
	resp := b.do(http.MethodPut, modPath+"mod", "", "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.status, resp.body)
	resp = b.do(http.MethodPut, modPath+"mod", "", "", admin)
	require.Equal(t, http.StatusNoContent, resp.status, resp.body)
	resp = b.do(http.MethodPut, modPath+"bad%20id", "", "", admin)
	require.Equal(t, http.StatusBadRequest, resp.status, resp.body)
	resp = b.do(http.MethodPut, "/api/networks/"+testNetwork+"/collections/999999/moderators/mod", "", "", admin)
	require.Equal(t, http.StatusNotFound, resp.status, resp.body)
	require.Equal(t, "collection_not_found", resp.errorCode(t))

	// The auth API's collection answer, as Livefyre's.
	answer := func(user string) map[string]any {
		q := url.Values{"lftoken": {b.userToken(user, user)}, "siteId": {testSiteID},
			"articleId": {base64.StdEncoding.EncodeToString([]byte("article-1"))}}
		resp := b.authCall(q.Encode(), nil)
		require.Equal(t, http.StatusOK, resp.status, resp.body)
		return resp.json(t)["data"].(map[string]any)
	}
	data := answer("mod")
	require.Equal(t, created.CollectionID, data["collection_id"])
	perms := data["permissions"].(map[string]any)
	require.Len(t, perms["moderator_key"], 18)
	require.Equal(t, "mod@"+testNetwork, perms["authors"].([]any)[0].(map[string]any)["id"])
	require.Equal(t, map[string]any{"collections": []any{created.CollectionID}, "networks": []any{}, "sites": []any{}}, data["modScopes"])
	require.Equal(t, true, data["isModAnywhere"])
	reader := answer("reader")
	require.Nil(t, reader["permissions"].(map[string]any)["moderator_key"])
	require.Equal(t, false, reader["isModAnywhere"])
	require.Equal(t, []any{testSiteID}, answer("sitemod")["modScopes"].(map[string]any)["sites"])

	// In the browser, through auth.js as Livefyre's apps use it.
	c.open(t, "", false)
	isMod := func(user string) any {
		t.Helper()
		c.open(t, "", false)
		return c.eval(t, fmt.Sprintf(`await (async function () {
			var auth = Livefyre.auth;
			auth.authenticate({livefyre: {token: %q, network: %q, siteId: %q, articleId: 'article-1'}});
			var u = await until(function () { return auth.get('livefyre'); }, 'login');
			var a = u.getAuthorizationByCollectionId(%q);
			return {
				collection: u.isMod({collectionId: %q}),
				article: u.isMod({network: %q, siteId: %q, articleId: 'article-1'}),
				site: !!u.isMod({siteId: %q}),
				keys: a ? a.authors.length + (a.moderatorKey ? 1 : 0) : -1
			};
		})()`, b.userToken(user, user), testNetwork, testSiteID, created.CollectionID, created.CollectionID, testNetwork, testSiteID, testSiteID))
	}
	require.Equal(t, map[string]any{"collection": true, "article": true, "site": false, "keys": float64(2)}, isMod("mod"))
	require.Equal(t, map[string]any{"collection": false, "article": false, "site": false, "keys": float64(1)}, isMod("reader"))
	require.Equal(t, map[string]any{"collection": true, "article": true, "site": true, "keys": float64(2)}, isMod("sitemod"))
}

// TestCollectionAPIRefuses: the collection API answers bad requests with
// a clear status and a JSON error.
func TestCollectionAPIRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t, withSite())
	fields := jwt.MapClaims{"type": "livecomments", "title": "T", "articleId": "a1", "url": "https://s.example/a1",
		"iss": "urn:livefyre:" + testNetwork + ":site=" + testSiteID}
	sign := func(claims jwt.MapClaims, key string) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
		require.NoError(t, err)
		return tok
	}
	good := sign(fields, testSiteKey)
	raw, err := json.Marshal(fields)
	require.NoError(t, err)
	var rawFields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &rawFields))
	sum := collectionChecksum(rawFields)
	post := func(site, action string, body any) response {
		j, err := json.Marshal(body)
		require.NoError(t, err)
		return b.do(http.MethodPost, "/api/v3.0/site/"+site+"/collection/"+action+"/?sync=1", "application/json", string(j), nil)
	}
	body := func(meta, checksum, article string) map[string]string {
		return map[string]string{"articleId": article, "collectionMeta": meta, "checksum": checksum}
	}
	otherIss := jwt.MapClaims{}
	for k, v := range fields {
		otherIss[k] = v
	}
	otherIss["iss"] = "urn:livefyre:" + testNetwork + ":site=999"
	for name, tc := range map[string]struct {
		site, action string
		body         any
		status       int
		code         string
	}{
		"wrong key":        {testSiteID, "create", body(sign(fields, "not-the-key"), sum, "a1"), http.StatusForbidden, "collection_meta_invalid"},
		"unknown site":     {"999", "create", body(sign(otherIss, testSiteKey), sum, "a1"), http.StatusForbidden, "collection_meta_invalid"},
		"iss of another":   {testSiteID, "create", body(sign(otherIss, testSiteKey), sum, "a1"), http.StatusForbidden, "collection_meta_invalid"},
		"not a token":      {testSiteID, "create", body("nope", sum, "a1"), http.StatusForbidden, "collection_meta_invalid"},
		"bad checksum":     {testSiteID, "create", body(good, "00000000000000000000000000000000", "a1"), http.StatusBadRequest, "checksum_mismatch"},
		"other article":    {testSiteID, "create", body(good, sum, "a2"), http.StatusBadRequest, "article_mismatch"},
		"missing fields":   {testSiteID, "create", map[string]string{"articleId": "a1"}, http.StatusBadRequest, "invalid_body"},
		"not json":         {testSiteID, "create", "[", http.StatusBadRequest, "invalid_body"},
		"update a missing": {testSiteID, "update", body(good, sum, "a1"), http.StatusNotFound, "collection_not_found"},
		"unknown action":   {testSiteID, "delete", body(good, sum, "a1"), http.StatusNotFound, "not_found"},
	} {
		resp := post(tc.site, tc.action, tc.body)
		require.Equal(t, tc.status, resp.status, "%s: %s", name, resp.body)
		require.Equal(t, tc.code, resp.errorCode(t), name)
	}
	resp := post(testSiteID, "create", body(good, sum, "a1"))
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	resp = post(testSiteID, "create", body(good, sum, "a1"))
	require.Equal(t, http.StatusConflict, resp.status, resp.body)
	require.Equal(t, "collection_exists", resp.errorCode(t))
}
