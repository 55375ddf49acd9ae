package pingpull_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/pingpull"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// TestEndToEndWithRealHub runs the gateway against the real hub, each on
// its own database: registration, webhooks for several users (some while
// pings and pulls are in flight), pings, pulls. Once quiet, the hub's
// remote profile of every user equals the gateway's latest profile, and
// the gateway recorded that version as served.
func TestEndToEndWithRealHub(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const network, key = "test.fyre.co", "testkeytest"
	quiet := slog.New(slog.DiscardHandler)

	// The hub.
	hubStore := testdb.SQLite(t)
	hubHandler, err := hub.New(hub.Config{
		Networks: []hub.NetworkConfig{{Name: network, Key: key, AllowPrivateTargets: true}},
		Store:    hubStore,
		Logger:   quiet,
	})
	require.NoError(t, err)
	hubRouter := httpbase.NewMux()
	hubHandler.Mount(hubRouter)
	hubServer := httptest.NewServer(hubRouter)
	t.Cleanup(hubServer.Close)
	startJobs(t, hubStore, hubHandler.AddWorkers, map[string]river.QueueConfig{hub.PullQueue: {MaxWorkers: 10}})
	runService(t, hubHandler.Run)

	// The gateway.
	gwStore := testdb.SQLite(t)
	codec, err := tokens.New(tokens.Config{Network: network, Key: key})
	require.NoError(t, err)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("an end-to-end webhook secret!!"))
	gwRouter := httpbase.NewMux()
	gwServer := httptest.NewServer(gwRouter)
	t.Cleanup(gwServer.Close)
	gw, err := pingpull.New(pingpull.Config{
		Store:             gwStore,
		Tokens:            codec,
		PublicURL:         gwServer.URL,
		HubURL:            hubServer.URL,
		WebhookSecrets:    []string{secret},
		PingRetrySchedule: []time.Duration{0, 10 * time.Millisecond},
		Logger:            quiet,
	})
	require.NoError(t, err)
	gw.Mount(gwRouter)
	t.Cleanup(func() { _ = gw.Flush(context.Background()) })
	startJobs(t, gwStore, gw.AddWorkers, gw.Queues())
	runService(t, gw.Run)

	require.NoError(t, gw.RegisterOnce(ctx))

	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	send := func(t testing.TB, userID, name string) {
		body := fmt.Sprintf(`{"user_id":%q,"profile":{"display_name":%q,"moderator":"true","tags":["e2e"]}}`, userID, name)
		id := "msg_" + userID + "_" + strings.ReplaceAll(name, " ", "_")
		now := time.Now()
		sig, err := wh.Sign(id, now, []byte(body))
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, gwServer.URL+"/hooks/profile-changed", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(answer))
	}

	users := []string{"ann", "bob", "cy"}
	g := asynctest.New(t)
	for _, u := range users {
		g.Go(func(t testing.TB) {
			for i := range 8 {
				send(t, u, fmt.Sprintf("%s %d", u, i))
			}
		})
	}
	g.Wait()

	var last string
	defer func() {
		if t.Failed() {
			t.Log("last seen:", last)
		}
	}()
	for _, u := range users {
		asynctest.Eventually(t, 30*time.Second, "the hub to hold "+u+"'s last profile", func() bool {
			want, err := gwStore.ProfileGet(ctx, u)
			require.NoError(t, err)
			rp, err := hubStore.RemoteProfileGet(ctx, network, u)
			if err != nil || rp.Data == nil {
				return false
			}
			last = fmt.Sprintf("hub has %+v, gateway %s (version %d, served %d)", rp, want.Data, want.Version, want.ServedVersion)
			if !sameJSON(t, want.Data, rp.Data) || want.ServedVersion != want.Version {
				return false
			}
			require.Equal(t, u+" 7", rp.DisplayName)
			return true
		})
	}
}

// runService runs a Handler's Run (the fast path of pings or pulls) until
// cleanup.
func runService(t *testing.T, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func startJobs(t *testing.T, s store.Store, add func(*river.Workers), queues map[string]river.QueueConfig) {
	t.Helper()
	workers := river.NewWorkers()
	add(workers)
	require.NoError(t, s.StartJobs(context.Background(), store.JobsConfig{
		Workers: workers, Queues: queues, FetchCooldown: time.Millisecond, FetchPollInterval: 20 * time.Millisecond,
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Jobs().Stop(ctx)
	})
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	require.NoError(t, json.Unmarshal(a, &va))
	require.NoError(t, json.Unmarshal(b, &vb))
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}
