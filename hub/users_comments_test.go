package hub

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func (b *testBundle) touch(id, name string) {
	b.t.Helper()
	_, err := b.store.RemoteProfileTouch(b.ctx, store.RemoteProfileTouchParams{Network: testNetwork, UserID: id, DisplayName: name, At: time.Now()})
	require.NoError(b.t, err)
}

func TestUsersPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 120 {
		b.touch(fmt.Sprintf("user%03d", i), fmt.Sprintf("User <%d>", i))
	}
	b.touch("alice", "Alice")

	resp := b.do(http.MethodGet, "/users", "", "", adminHeader)
	require.Equal(t, http.StatusOK, resp.status)
	require.Equal(t, "text/html; charset=utf-8", resp.header.Get("Content-Type"))
	require.Contains(t, resp.body, "121 users")
	require.Contains(t, resp.body, `data-user-id="alice"`)
	require.Contains(t, resp.body, "User &lt;0&gt;", "names are escaped")
	require.Equal(t, 50, strings.Count(resp.body, "data-user-id="))
	require.Contains(t, resp.body, `rel="next"`)
	require.Contains(t, resp.body, "yes (1 &gt; 0)", "pending pings shown")

	resp = b.do(http.MethodGet, "/users?network=test.fyre.co&page=3", "", "", adminHeader)
	require.Equal(t, http.StatusOK, resp.status)
	require.Equal(t, 21, strings.Count(resp.body, "data-user-id="))
	require.Contains(t, resp.body, `rel="prev"`)
	require.NotContains(t, resp.body, `rel="next"`)

	resp = b.do(http.MethodGet, "/users?q=user11", "", "", adminHeader)
	require.Equal(t, 10, strings.Count(resp.body, "data-user-id="))
	require.Contains(t, resp.body, "10 users matching")

	resp = b.do(http.MethodGet, "/users?network=other.fyre.co", "", "", adminHeader)
	require.Equal(t, http.StatusOK, resp.status)
	require.Contains(t, resp.body, "No users yet.")

	for q, want := range map[string]int{"page=0": 400, "page=x": 400, "network=nope": 404, "q=" + strings.Repeat("a", 300): 400} {
		resp = b.do(http.MethodGet, "/users?"+q, "", "", adminHeader)
		require.Equal(t, want, resp.status, q)
		require.NotEmpty(t, resp.errorCode(t))
	}
}

func TestUserJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, withJobs(), withPrivate())
	ep := newEndpoint(t, b.codec)
	ep.set("bob", bobProfile)
	b.register(ep.template())
	b.ping("bob")
	b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })

	resp := b.do(http.MethodGet, "/api/networks/test.fyre.co/users/bob", "", "", adminHeader)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	m := resp.json(t)
	require.Equal(t, "bob@test.fyre.co", m["jid"])
	require.Equal(t, "ok", m["status"])
	require.Equal(t, "Bob Dole", m["display_name"])
	require.Equal(t, false, m["pending"])
	require.Equal(t, "Bob Dole", m["profile"].(map[string]any)["display_name"])
	require.NotNil(t, m["last_pull_at"])
	require.Nil(t, m["ping_received_at"])

	for path, want := range map[string]int{
		"/api/networks/test.fyre.co/users/nobody": 404,
		"/api/networks/nope.fyre.co/users/bob":    404,
		"/api/networks/test.fyre.co/users/a@b":    400,
	} {
		resp = b.do(http.MethodGet, path, "", "", adminHeader)
		require.Equal(t, want, resp.status, path)
		require.NotEmpty(t, resp.errorCode(t))
	}
}

func TestComments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.touch("bob", "Bob From Profile")
	post := func(tok, body string) response {
		h := http.Header{"Origin": {"https://app.example"}}
		if tok != "" {
			h.Set("Authorization", "Bearer "+tok)
		}
		return b.do(http.MethodPost, "/api/comments", "application/json", body, h)
	}
	resp := post(b.sessionToken("bob", "Bob"), `{"article_id":"a1","body":"  Hello <b>world</b>\r\nline two "}`)
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	require.Equal(t, "https://app.example", resp.header.Get("Access-Control-Allow-Origin"))
	c := resp.json(t)
	require.Equal(t, "Hello <b>world</b>\nline two", c["body"])
	require.Equal(t, map[string]any{"id": "bob", "jid": "bob@test.fyre.co", "display_name": "Bob From Profile", "avatar": ""}, c["author"])
	first := int64(c["id"].(float64))

	// An app session of a user whose remote profile is gone.
	carol, err := b.h.networks[testNetwork].session.MintUntil("carol", time.Now().Add(time.Hour))
	require.NoError(t, err)
	resp = post(carol, `{"article_id":"a1","body":"Hi"}`)
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	require.Equal(t, "carol", resp.json(t)["author"].(map[string]any)["display_name"], "an unknown author shows the id")
	require.Equal(t, http.StatusCreated, post(b.sessionToken("bob", "Bob"), `{"article_id":"a2","body":"Other article"}`).status)

	// A pulled name change shows on old comments.
	_, _, err = b.store.RemoteProfileRecordPull(b.ctx, store.RemoteProfilePullParams{
		Network: testNetwork, UserID: "bob", Seq: 1, At: time.Now(), Status: store.RemoteProfileOK,
		Data: []byte(`{"id":"bob","display_name":"Robert"}`), DisplayName: "Robert", AvatarURL: "https://img.example/r.png", Result: "ok",
	})
	require.NoError(t, err)
	resp = b.do(http.MethodGet, "/api/comments?network=test.fyre.co&article_id=a1", "", "", http.Header{"Origin": {"https://app.example"}})
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Equal(t, "https://app.example", resp.header.Get("Access-Control-Allow-Origin"))
	list := resp.json(t)
	comments := list["comments"].([]any)
	require.Len(t, comments, 2)
	author := comments[0].(map[string]any)["author"].(map[string]any)
	require.Equal(t, "Robert", author["display_name"])
	require.Equal(t, "https://img.example/r.png", author["avatar"])

	resp = b.do(http.MethodGet, fmt.Sprintf("/api/comments?network=test.fyre.co&article_id=a1&after=%d", first), "", "", nil)
	require.Len(t, resp.json(t)["comments"].([]any), 1)
	resp = b.do(http.MethodGet, "/api/comments?network=test.fyre.co&article_id=none", "", "", nil)
	require.Equal(t, map[string]any{"comments": []any{}, "last_id": float64(0)}, resp.json(t))

	tok := b.sessionToken("bob", "Bob")
	cases := []struct {
		name, tok, body string
		status          int
		code            string
	}{
		{"no token", "", `{"article_id":"a1","body":"x"}`, 403, "token_missing"},
		{"bad token", "x.y.z", `{"article_id":"a1","body":"x"}`, 403, "token_invalid"},
		{"not JSON", tok, `article_id=a1`, 400, "malformed_body"},
		{"empty body", tok, `{"article_id":"a1","body":"   "}`, 400, "empty_comment"},
		{"too long", tok, `{"article_id":"a1","body":"` + strings.Repeat("é", 1100) + `"}`, 413, "comment_too_long"},
		{"request too large", tok, `{"article_id":"a1","body":"` + strings.Repeat("a", 9000) + `"}`, 413, "body_too_large"},
		{"control characters", tok, `{"article_id":"a1","body":"a\u0000b"}`, 400, "invalid_comment"},
		{"no article", tok, `{"body":"x"}`, 400, "invalid_article_id"},
		{"long article", tok, `{"article_id":"` + strings.Repeat("a", 201) + `","body":"x"}`, 400, "invalid_article_id"},
	}
	for _, tc := range cases {
		resp := post(tc.tok, tc.body)
		require.Equal(t, tc.status, resp.status, "%s: %s", tc.name, resp.body)
		require.Equal(t, tc.code, resp.errorCode(t), tc.name)
	}
	for q, want := range map[string]int{"": 400, "article_id=a1&after=-1": 400, "article_id=a1&after=x": 400,
		"article_id=a1&network=nope": 404} {
		resp := b.do(http.MethodGet, "/api/comments?"+q, "", "", nil)
		require.Equal(t, want, resp.status, q)
	}

	// Preflight.
	resp = b.do(http.MethodOptions, "/api/comments", "", "", http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"POST"}})
	require.Equal(t, http.StatusNoContent, resp.status)
	require.Contains(t, resp.header.Get("Access-Control-Allow-Headers"), "Authorization")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := Config{
		Networks: []NetworkConfig{
			{Name: "", Key: "k"},
			{Name: "Bad Name", Key: "k"},
			{Name: "a.fyre.co"},
			{Name: "a.fyre.co", Key: "k", PreviousKeys: []string{""}},
		},
		AppOrigins:   []string{"https://ok.example", "https://x.example/path", "ftp://x"},
		PullTimeout:  -1,
		MaxPullBytes: -1,
		TokenTTL:     -1,
	}.WithDefaults().validate()
	require.Error(t, err)
	for _, want := range []string{
		"networks[0]: name is required", `networks[1]: name "Bad Name"`, "networks[2] (a.fyre.co): key is required",
		`networks[3]: name "a.fyre.co" is listed twice`, "previous_keys[0] is empty", `app_origins[1]`, `app_origins[2]`,
		"store is required", "pull_timeout", "max_pull_bytes", "token_ttl",
	} {
		require.Contains(t, err.Error(), want)
	}
	require.NotContains(t, err.Error(), "app_origins[0]")
	_, err = New(Config{})
	require.ErrorContains(t, err, "at least one network is required")

	d := Config{}.WithDefaults()
	require.Equal(t, 10*time.Second, d.PullTimeout)
	require.EqualValues(t, 256<<10, d.MaxPullBytes)
	require.Equal(t, 30*24*time.Hour, d.TokenTTL)
	require.NotNil(t, d.Logger)
	require.NotNil(t, d.Now)
	require.NotNil(t, d.Registerer)
}
