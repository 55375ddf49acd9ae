package pingpull_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/pingpull"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// TestLogoutEndsHubSessionsEndToEnd: a gateway session ends (the hook
// authdelegate calls in that transaction enqueues the logout job), the
// gateway's job calls the real hub over HTTP, and the hub refuses the app
// session it had issued, while a new authentication gets a new one. A
// gateway whose token the hub refuses dead-letters the job.
func TestLogoutEndsHubSessionsEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const network, key = "test.fyre.co", "testkeytest"
	quiet := slog.New(slog.DiscardHandler)

	hubStore := testdb.SQLite(t)
	hubHandler, err := hub.New(hub.Config{
		Networks: []hub.NetworkConfig{{Name: network, Key: key}},
		Store:    hubStore,
		Logger:   quiet,
		DemoApp:  true, // the comment API is the app session's test
	})
	require.NoError(t, err)
	hubRouter := httpbase.NewMux()
	hubHandler.Mount(hubRouter)
	hubServer := httptest.NewServer(hubRouter)
	t.Cleanup(hubServer.Close)

	gateway := func(key string) (*pingpull.Handler, store.Store, *tokens.Codec) {
		s := testdb.SQLite(t)
		codec, err := tokens.New(tokens.Config{Network: network, Key: key})
		require.NoError(t, err)
		gw, err := pingpull.New(pingpull.Config{
			Store: s, Tokens: codec, PublicURL: "http://127.0.0.1:1", HubURL: hubServer.URL,
			PingRetrySchedule: []time.Duration{0, 10 * time.Millisecond}, Logger: quiet,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = gw.Flush(context.Background()) })
		startJobs(t, s, gw.AddWorkers, gw.Queues())
		return gw, s, codec
	}
	gw, gwStore, codec := gateway(key)

	// The app authenticates bob with a userAuthToken from the gateway.
	session := func() string {
		uat, err := codec.Mint("bob", "Bob", time.Hour)
		require.NoError(t, err)
		resp, err := http.Get(hubServer.URL + "/api/v3.0/auth/?lftoken=" + url.QueryEscape(uat))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var env struct {
			Data struct {
				Token struct{ Value string } `json:"token"`
			} `json:"data"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
		return env.Data.Token.Value
	}
	comment := func(tok string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, hubServer.URL+"/api/comments", strings.NewReader(`{"article_id":"a1","body":"hi"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	appSession := session()
	status, body := comment(appSession)
	require.Equal(t, http.StatusCreated, status, body)

	// The gateway session ends: the logout job commits with it.
	require.NoError(t, gwStore.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return gw.EnqueueLogoutTx(ctx, tx, "bob")
	}))
	asynctest.Eventually(t, 15*time.Second, "the hub to refuse the app session", func() bool {
		status, _ := comment(appSession)
		return status == http.StatusForbidden
	})
	_, body = comment(appSession)
	require.Contains(t, body, `"session_ended"`)
	require.Eventually(t, func() bool {
		res, err := gwStore.Jobs().JobList(ctx, river.NewJobListParams().Kinds("pingpull_logout").States(rivertype.JobStateCompleted))
		return err == nil && len(res.Jobs) == 1
	}, 15*time.Second, 10*time.Millisecond)

	// A new authentication (in a later second than the logout) works.
	asynctest.Eventually(t, 15*time.Second, "a new app session to comment", func() bool {
		status, _ := comment(session())
		return status == http.StatusCreated
	})

	// The reserved id is refused before anything is queued.
	err = gwStore.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return gw.EnqueueLogoutTx(ctx, tx, "SYSTEM") })
	require.ErrorIs(t, err, livefyre.ErrInvalidProfile)

	// A gateway on the wrong key: the hub answers 403, the job is cancelled
	// (a dead letter), not retried.
	bad, badStore, _ := gateway("wrongkey")
	require.NoError(t, badStore.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return bad.EnqueueLogoutTx(ctx, tx, "bob")
	}))
	require.Eventually(t, func() bool {
		res, err := badStore.Jobs().JobList(ctx, river.NewJobListParams().Kinds("pingpull_logout").States(rivertype.JobStateCancelled))
		return err == nil && len(res.Jobs) == 1 && res.Jobs[0].Attempt == 1
	}, 15*time.Second, 10*time.Millisecond)
}
