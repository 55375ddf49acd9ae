package pingpull

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// Spec §6.2: minted by the official livefyre@2.0.9 (Node) with key
// testkeytest, network test.fyre.co, clock frozen at 1400000000123 ms.
const (
	nodeSystemToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY28iLCJ1c2VyX2lkIjoic3lzdGVtIiwiZGlzcGxheV9uYW1lIjoic3lzdGVtIiwiZXhwaXJlcyI6MTQwMDA4NjQwMC4xMjMsImlhdCI6MTQwMDAwMDAwMH0.rbFLt5p88O84WCMNJ7IghyYrh7GmFBSBCFGE4gmQHmc"
	nodeUserToken   = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY28iLCJ1c2VyX2lkIjoidXNlci0xLmFfYiIsImRpc3BsYXlfbmFtZSI6IkJvYiBEb2xlIiwiZXhwaXJlcyI6MTQwMDAwMzYwMC4xMjMsImlhdCI6MTQwMDAwMDAwMH0.Tz8buJGfgu7pokSKWYl-EUHhHKaBGO6mHX4Gz03YlcI"
	// docLibToken is the DOC-LIB sample: a system token of test.fyre.com.
	docLibToken = "eyJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY29tIiwidXNlcl9pZCI6InN5c3RlbSIsImRpc3BsYXlfbmFtZSI6InN5c3RlbSIsImV4cGlyZXMiOjEzOTY2NTUwODN9.33GuJF_ou2O6CCV22Y3PlLUgP2Igy9vAXfmLONkt-Yo"
)

func pullPath(id, token string) string {
	q := url.Values{}
	if id != "" {
		q.Set("id", id)
	}
	if token != "" {
		q.Set("lftoken", token)
	}
	return "/pull?" + q.Encode()
}

func TestPullServesProfile(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, opts)
		ctx := context.Background()
		b.accept(t, webhookReq{body: `{"user_id":"user-1.a_b","profile":{"display_name":"Bob Dole","autofollow_conversations":"true"}}`})
		sub, err := b.store.Listen(ctx, store.ChannelProfileReady)
		require.NoError(t, err)
		defer sub.Close()

		// The Node-minted system token (float expires, iat), clock at 1400000000.
		status, header, body := b.do(t, http.MethodGet, pullPath("user-1.a_b", nodeSystemToken), "")
		require.Equal(t, http.StatusOK, status, string(body))
		require.Equal(t, `{"id":"user-1.a_b","display_name":"Bob Dole","autofollow_conversations":true}`, string(body))
		require.Equal(t, "no-store", header.Get("Cache-Control"))
		require.Equal(t, "application/json; charset=utf-8", header.Get("Content-Type"))

		select {
		case payload := <-sub.C():
			require.JSONEq(t, `{"user_id":"user-1.a_b","version":1}`, string(payload))
		case <-time.After(10 * time.Second):
			t.Fatal("no profile_ready notification")
		}
		waitFor(t, "served version recorded", func() bool {
			p, err := b.store.ProfileGet(ctx, "user-1.a_b")
			require.NoError(t, err)
			return p.ServedVersion == 1
		})
		require.Equal(t, []string{"webhook.accepted", "pull.served"}, b.timelineKinds(t, "user-1.a_b"))
		require.Equal(t, 1.0, metricValue(t, b.h.metrics.pulls.WithLabelValues("served")))
	})
}

func TestPullRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	otherNetwork, err := tokens.New(tokens.Config{Network: "other.fyre.co", Key: testKey, Now: b.now})
	require.NoError(t, err)
	otherToken, err := otherNetwork.MintSystem(0)
	require.NoError(t, err)
	otherKey, err := tokens.New(tokens.Config{Network: testNetwork, Key: "another-key", Now: b.now})
	require.NoError(t, err)
	wrongKeyToken, err := otherKey.MintSystem(0)
	require.NoError(t, err)
	good, err := b.codec.MintSystem(0)
	require.NoError(t, err)

	forbidden := []struct {
		name  string
		path  string
		clock time.Duration
	}{
		{"no lftoken", pullPath("u1", ""), 0},
		{"empty lftoken", "/pull?id=u1&lftoken=", 0},
		{"garbage", pullPath("u1", "not-a-token"), 0},
		{"tampered signature", pullPath("u1", nodeSystemToken[:len(nodeSystemToken)-2]+"xx"), 0},
		{"user token, not system", pullPath("u1", nodeUserToken), 0},
		{"other network", pullPath("u1", otherToken), 0},
		{"wrong key", pullPath("u1", wrongKeyToken), 0},
		{"doc sample (other domain, expired)", pullPath("u1", docLibToken), 0},
		{"no token and no id", "/pull", 0},
	}
	for _, tt := range forbidden {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := b.do(t, http.MethodGet, tt.path, "")
			require.Equal(t, http.StatusForbidden, status)
			require.Empty(t, body, "403 has an empty body")
		})
	}

	t.Run("unknown user", func(t *testing.T) {
		status, _, body := b.do(t, http.MethodGet, pullPath("nobody", good), "")
		require.Equal(t, http.StatusNotFound, status)
		require.Equal(t, "not_found", errorCode(t, body))
	})
	t.Run("missing id", func(t *testing.T) {
		status, _, body := b.do(t, http.MethodGet, pullPath("", good), "")
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_field", errorCode(t, body))
	})
	t.Run("invalid id", func(t *testing.T) {
		status, _, body := b.do(t, http.MethodGet, pullPath("a@b", good), "")
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_field", errorCode(t, body))
	})
	t.Run("POST", func(t *testing.T) {
		status, _, _ := b.do(t, http.MethodPost, pullPath("u1", good), "")
		require.Equal(t, http.StatusMethodNotAllowed, status)
	})

	// The Node token expires at 1400086400.123 (plus the codec's leeway).
	b.clock.Advance(86400*time.Second + time.Minute)
	status, _, body := b.do(t, http.MethodGet, pullPath("u1", nodeSystemToken), "")
	require.Equal(t, http.StatusForbidden, status)
	require.Empty(t, body)

	p, err := b.store.ProfileGet(context.Background(), "u1")
	require.NoError(t, err)
	require.Zero(t, p.ServedVersion, "nothing served")
	require.Equal(t, float64(len(forbidden)+1), metricValue(t, b.h.metrics.pulls.WithLabelValues("forbidden")))
}

func TestPullRepeatedAndNewerVersions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	token, err := b.codec.MintSystem(0)
	require.NoError(t, err)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	for range 2 {
		status, _, _ := b.do(t, http.MethodGet, pullPath("u1", token), "")
		require.Equal(t, http.StatusOK, status)
		require.NoError(t, b.h.Flush(ctx))
	}
	b.accept(t, webhookReq{body: profileBody("u1", "Bea")})
	status, _, body := b.do(t, http.MethodGet, pullPath("u1", token), "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `{"id":"u1","display_name":"Bea"}`, string(body))
	waitFor(t, "version 2 served", func() bool {
		p, err := b.store.ProfileGet(ctx, "u1")
		require.NoError(t, err)
		return p.ServedVersion == 2
	})
	events, err := b.store.TimelineList(ctx, store.TimelineListParams{UserID: "u1"})
	require.NoError(t, err)
	var served []map[string]any
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == "pull.served" {
			var d map[string]any
			require.NoError(t, json.Unmarshal(events[i].Detail, &d))
			served = append(served, d)
		}
	}
	require.Equal(t, []map[string]any{
		{"version": 1.0, "first": true, "count": 1.0},
		{"version": 1.0, "first": false, "count": 1.0},
		{"version": 2.0, "first": true, "count": 1.0},
	}, served)
}

func TestPullBurstIsRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	sub, err := b.store.Listen(ctx, store.ChannelProfileReady)
	require.NoError(t, err)
	defer sub.Close()
	token, err := b.codec.MintSystem(0)
	require.NoError(t, err)

	const pulls = 50
	g := asynctest.New(t)
	for range pulls {
		g.Go(func(t testing.TB) {
			status, _, _ := b.do(t, http.MethodGet, pullPath("u1", token), "")
			require.Equal(t, http.StatusOK, status)
		})
	}
	g.Wait()
	require.NoError(t, b.h.Flush(ctx))

	events, err := b.store.TimelineList(ctx, store.TimelineListParams{UserID: "u1"})
	require.NoError(t, err)
	count, firsts := 0, 0
	for _, e := range events {
		if e.Kind != "pull.served" {
			continue
		}
		var d struct {
			Count int  `json:"count"`
			First bool `json:"first"`
		}
		require.NoError(t, json.Unmarshal(e.Detail, &d))
		count += d.Count
		if d.First {
			firsts++
		}
	}
	require.Equal(t, pulls, count, "every pull is counted")
	require.GreaterOrEqual(t, firsts, 1)
	require.Less(t, len(events), pulls, "pulls of one version fold")
	select {
	case payload := <-sub.C():
		require.JSONEq(t, `{"user_id":"u1","version":1}`, string(payload))
	case <-time.After(10 * time.Second):
		t.Fatal("no profile_ready notification")
	}
}
