package hub

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// TestRegisterLibraryShapes sends the register request as each Livefyre
// library does (spec §3.1).
func TestRegisterLibraryShapes(t *testing.T) {
	t.Parallel()
	const template = "https://example.com/p?id={id}"
	cases := []struct {
		name        string
		path        func(tok string) string
		contentType string
		body        func(tok string) string
		host        string
	}{
		{name: "node", path: func(string) string { return "/" }, contentType: "application/x-www-form-urlencoded",
			body: func(tok string) string {
				return "actor_token=" + tok + "&pull_profile_url=" + url.QueryEscape(template)
			}, host: "test.quill.fyre.co"},
		{name: "python (form body labelled JSON)", path: func(string) string { return "/" }, contentType: "application/json",
			body: func(tok string) string {
				return url.Values{"actor_token": {tok}, "pull_profile_url": {template}}.Encode()
			}, host: "test.quill.fyre.co"},
		{name: "java (query, empty body)", path: func(tok string) string {
			return "/?actor_token=" + url.QueryEscape(tok) + "&pull_profile_url=" + url.QueryEscape(template)
		}, body: func(string) string { return "" }, host: "test.quill.fyre.co"},
		{name: "ruby", path: func(string) string { return "/" }, contentType: "application/x-www-form-urlencoded",
			body: func(tok string) string {
				return "pull_profile_url=" + url.QueryEscape(template) + "&actor_token=" + tok
			}, host: "quill.test.fyre.co"},
		{name: "php (no trailing slash)", path: func(string) string { return "" }, contentType: "application/x-www-form-urlencoded; charset=utf-8",
			body: func(tok string) string {
				return url.Values{"actor_token": {tok}, "pull_profile_url": {template}}.Encode()
			}, host: "test.quill.fyre.co"},
		{name: "legacy (network host, query)", path: func(tok string) string {
			return "/?actor_token=" + tok + "&pull_profile_url=" + url.QueryEscape(template)
		}, body: func(string) string { return "" }, host: "test.fyre.co"},
		{name: "self-hosted hub host", path: func(string) string { return "/" }, contentType: "application/x-www-form-urlencoded",
			body: func(tok string) string {
				return "actor_token=" + tok + "&pull_profile_url=" + url.QueryEscape(template)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tok := b.systemToken()
			header := http.Header{}
			if tc.host != "" {
				header.Set("Host", tc.host)
			}
			resp := b.do(http.MethodPost, tc.path(tok), tc.contentType, tc.body(tok), header)
			require.Equal(t, http.StatusNoContent, resp.status, resp.body)
			require.Empty(t, resp.body)
			reg, err := b.store.PullURLGet(b.ctx, testNetwork)
			require.NoError(t, err)
			require.Equal(t, template, reg.Template)
		})
	}
}

// TestNodeCapturedRequests replays the requests captured from the official
// livefyre@2.0.9 package (spec §6.2, §6.3) with the clock it ran at.
func TestNodeCapturedRequests(t *testing.T) {
	t.Parallel()
	const systok = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY28iLCJ1c2VyX2lkIjoic3lzdGVtIiwiZGlzcGxheV9uYW1lIjoic3lzdGVtIiwiZXhwaXJlcyI6MTQwMDA4NjQwMC4xMjMsImlhdCI6MTQwMDAwMDAwMH0.rbFLt5p88O84WCMNJ7IghyYrh7GmFBSBCFGE4gmQHmc"
	const uat = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY28iLCJ1c2VyX2lkIjoidXNlci0xLmFfYiIsImRpc3BsYXlfbmFtZSI6IkJvYiBEb2xlIiwiZXhwaXJlcyI6MTQwMDAwMzYwMC4xMjMsImlhdCI6MTQwMDAwMDAwMH0.Tz8buJGfgu7pokSKWYl-EUHhHKaBGO6mHX4Gz03YlcI"
	b := setup(t, withConfig(func(c *Config) {
		c.Now = func() time.Time { return time.UnixMilli(1400000000123) }
	}))
	header := http.Header{"Host": {"test.quill.fyre.co"}, "User-Agent": {"Restler for node.js"}}
	resp := b.do(http.MethodPost, "/", "application/x-www-form-urlencoded",
		"actor_token="+systok+"&pull_profile_url=https%3A%2F%2Fexample.com%2Fp%3Fid%3D%7Bid%7D", header)
	require.Equal(t, http.StatusNoContent, resp.status, resp.body)

	resp = b.do(http.MethodPost, "/api/v3_0/user/user-1.a_b/refresh", "application/x-www-form-urlencoded", "lftoken="+systok, header)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Equal(t, "user-1.a_b@test.fyre.co", resp.json(t)["data"].(map[string]any)["id"])

	// A user token is not a system token.
	resp = b.do(http.MethodPost, "/api/v3_0/user/user-1.a_b/refresh", "application/x-www-form-urlencoded", "lftoken="+uat, header)
	require.Equal(t, http.StatusForbidden, resp.status)
	require.Equal(t, "token_not_system", resp.errorCode(t))
}

func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sys := b.systemToken()
	other, err := New(Config{Networks: []NetworkConfig{{Name: "other.fyre.co", Key: "otherkey"}}, Store: b.store})
	require.NoError(t, err)
	otherTok, err := other.networks["other.fyre.co"].codec.MintSystem(0)
	require.NoError(t, err)
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const good = "https://x.example/p?id={id}"
	cases := []struct {
		name   string
		body   string
		host   string
		status int
		code   string
	}{
		{"no token", form("pull_profile_url", good), "", http.StatusForbidden, "token_missing"},
		{"garbage token", form("actor_token", "nope", "pull_profile_url", good), "", http.StatusForbidden, "token_invalid"},
		{"user token", form("actor_token", b.userToken("bob", "Bob"), "pull_profile_url", good), "", http.StatusForbidden, "token_not_system"},
		{"tampered signature", form("actor_token", sys[:len(sys)-2]+"AA", "pull_profile_url", good), "", http.StatusForbidden, "token_invalid"},
		{"unknown network", form("actor_token", "eyJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY29tIiwidXNlcl9pZCI6InN5c3RlbSIsImRpc3BsYXlfbmFtZSI6InN5c3RlbSIsImV4cGlyZXMiOjEzOTY2NTUwODN9.33GuJF_ou2O6CCV22Y3PlLUgP2Igy9vAXfmLONkt-Yo", "pull_profile_url", good), "", http.StatusForbidden, "unknown_network"},
		{"host names another network", form("actor_token", otherTok, "pull_profile_url", good), "test.quill.fyre.co", http.StatusForbidden, "wrong_network"},
		{"other network's key", form("actor_token", otherTok, "pull_profile_url", good), "", http.StatusForbidden, "token_invalid"},
		{"no url", form("actor_token", sys), "", http.StatusBadRequest, "missing_url"},
		{"no {id}", form("actor_token", sys, "pull_profile_url", "http://thisisa.test.url/"), "", http.StatusBadRequest, "invalid_url"},
		{"relative", form("actor_token", sys, "pull_profile_url", "blah.com/{id}"), "", http.StatusBadRequest, "invalid_url"},
		{"ftp", form("actor_token", sys, "pull_profile_url", "ftp://x.example/{id}"), "", http.StatusBadRequest, "invalid_url"},
		{"bad affiliation url", form("actor_token", sys, "push_affiliation_url", "nope"), "", http.StatusBadRequest, "invalid_url"},
		{"malformed body", "actor_token=%zz", "", http.StatusBadRequest, "malformed_body"},
		{"body too large", "x=" + strings.Repeat("a", maxParamBody), "", http.StatusRequestEntityTooLarge, "body_too_large"},
	}
	for _, tc := range cases {
		header := http.Header{}
		if tc.host != "" {
			header.Set("Host", tc.host)
		}
		resp := b.do(http.MethodPost, "/", "application/x-www-form-urlencoded", tc.body, header)
		require.Equal(t, tc.status, resp.status, "%s: %s", tc.name, resp.body)
		require.Equal(t, tc.code, resp.errorCode(t), tc.name)
	}
	_, err = b.store.PullURLGet(b.ctx, testNetwork)
	require.ErrorIs(t, err, store.ErrNotFound, "nothing was registered")

	// The other network's token works on its own network (the hub serves
	// both): its key verifies it.
	b2 := setup(t, withConfig(func(c *Config) { c.Networks[1].Key = "otherkey" }))
	resp := b2.do(http.MethodPost, "/", "application/x-www-form-urlencoded", form("actor_token", otherTok, "pull_profile_url", good), nil)
	require.Equal(t, http.StatusNoContent, resp.status, resp.body)

	// Affiliation only keeps the template.
	b.register(good)
	resp = b.do(http.MethodPost, "/?actor_token="+url.QueryEscape(sys)+"&push_affiliation_url="+url.QueryEscape("https://x.example/aff"), "", "", nil)
	require.Equal(t, http.StatusNoContent, resp.status, resp.body)
	reg, err := b.store.PullURLGet(b.ctx, testNetwork)
	require.NoError(t, err)
	require.Equal(t, good, reg.Template)
	require.Equal(t, "https://x.example/aff", reg.AffiliationURL)
}

// TestPingLibraryShapes sends the ping as each library does (spec §3.3).
func TestPingLibraryShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		path        func(tok string) string
		contentType string
		body        func(tok string) string
	}{
		{"node/ruby/php: form body", func(string) string { return "/api/v3_0/user/u1/refresh" }, "application/x-www-form-urlencoded",
			func(tok string) string { return "lftoken=" + tok }},
		{"python: form body labelled JSON", func(string) string { return "/api/v3_0/user/u1/refresh" }, "application/json",
			func(tok string) string { return "lftoken=" + url.QueryEscape(tok) }},
		{"java: query", func(tok string) string { return "/api/v3_0/user/u1/refresh?lftoken=" + url.QueryEscape(tok) }, "",
			func(string) string { return "" }},
		{"docs: v3.0 and query", func(tok string) string { return "/api/v3.0/user/u1/refresh?lftoken=" + tok }, "",
			func(string) string { return "" }},
		{"janrain example: form body, v3_0", func(string) string { return "/api/v3_0/user/u1/refresh" }, "application/x-www-form-urlencoded",
			func(tok string) string { return "lftoken=" + url.QueryEscape(tok) }},
		{"JSON object body", func(string) string { return "/api/v3.0/user/u1/refresh" }, "application/json",
			func(tok string) string { return `{"lftoken":"` + tok + `"}` }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.register("https://x.example/p?id={id}")
			tok := b.systemToken()
			resp := b.do(http.MethodPost, tc.path(tok), tc.contentType, tc.body(tok), http.Header{"Host": {"test.quill.fyre.co"}})
			require.Equal(t, http.StatusOK, resp.status, resp.body)
			require.Equal(t, "application/json; charset=utf-8", resp.header.Get("Content-Type"))
			require.Equal(t, map[string]any{"status": "ok", "code": float64(200), "data": map[string]any{"id": "u1@test.fyre.co", "queued": true}}, resp.json(t))
			rp := b.profile("u1")
			require.Equal(t, store.RemoteProfilePending, rp.Status)
			require.EqualValues(t, 1, rp.PingSeq)
			require.Zero(t, rp.PulledSeq)
			b.requirePending(1)
		})
	}
}

func TestPingErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sys := b.systemToken()
	ping := func(id, tok string) response {
		return b.do(http.MethodPost, "/api/v3_0/user/"+id+"/refresh", "application/x-www-form-urlencoded", "lftoken="+url.QueryEscape(tok), nil)
	}
	// No pull URL: 409 with a JSON error, and nothing written.
	resp := ping("u1", sys)
	require.Equal(t, http.StatusConflict, resp.status)
	require.Equal(t, "no_pull_url", resp.errorCode(t))
	_, err := b.store.RemoteProfileGet(b.ctx, testNetwork, "u1")
	require.ErrorIs(t, err, store.ErrNotFound)

	b.register("https://x.example/p?id={id}")
	resp = ping("u1", "")
	require.Equal(t, http.StatusForbidden, resp.status)
	require.Equal(t, "token_missing", resp.errorCode(t))
	resp = ping("u1", b.userToken("u1", "U"))
	require.Equal(t, http.StatusForbidden, resp.status)
	require.Equal(t, "token_not_system", resp.errorCode(t))
	resp = ping("u1", "a.b.c")
	require.Equal(t, http.StatusForbidden, resp.status)
	// The libraries' rejected ids (spec §6.1).
	for _, id := range []string{"fjaowie@123", "fjoi@wje.1fj", "system@blah", "fawe-f@-fawef.", "a%20b", "%C3%A9"} {
		resp = ping(id, sys)
		require.Equal(t, http.StatusBadRequest, resp.status, id)
		require.Equal(t, "invalid_user_id", resp.errorCode(t), id)
	}
	for _, id := range []string{"test.-_F12", "abc.ABC-123_huh", "user-name_123.BLAH", "aB-f_a.123D"} {
		resp = ping(id, sys)
		require.Equal(t, http.StatusOK, resp.status, id)
	}
	// GET is not a ping.
	resp = b.do(http.MethodGet, "/api/v3_0/user/u1/refresh?lftoken="+sys, "", "", nil)
	require.Equal(t, http.StatusMethodNotAllowed, resp.status)
}

// TestPingCoalesces: many pings before the pull runs make one pending pull
// per user, and every ping counts.
func TestPingCoalesces(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register("https://x.example/p?id={id}")
	for range 5 {
		require.Equal(t, http.StatusOK, b.ping("u1").status)
	}
	require.Equal(t, http.StatusOK, b.ping("u2").status)
	b.requirePending(2)
	require.EqualValues(t, 5, b.profile("u1").PingSeq)
	require.EqualValues(t, 1, b.profile("u2").PingSeq)
	require.InDelta(t, 2, b.metric("ssogate_hub_pull_pending", ""), 0)
	require.InDelta(t, 6, b.metric("ssogate_hub_pings_total", "ok"), 0)
}
