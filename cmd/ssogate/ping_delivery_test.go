package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/sqlite"
)

func TestDeliveryStage(t *testing.T) {
	t.Parallel()
	type ev struct {
		kind   string
		result string
	}
	tests := []struct {
		name     string
		events   []ev // oldest first
		want     deliveryStage
		notFound bool
	}{
		{name: "nothing requested yet", events: []ev{{kind: "webhook.accepted"}}, want: stageQueued},
		{name: "queued", events: []ev{{kind: "ping.requested"}}, want: stageQueued},
		{name: "retrying", events: []ev{{kind: "ping.requested"}, {kind: "ping.attempt", result: "retry"}}, want: stageQueued},
		{name: "pinged", events: []ev{{kind: "ping.requested"}, {kind: "ping.attempt", result: "ok"}}, want: stagePinged},
		{name: "coalesced is pinged", events: []ev{{kind: "ping.requested"}, {kind: "ping.attempt", result: "coalesced"}}, want: stagePinged},
		{name: "pulled", events: []ev{{kind: "ping.requested"}, {kind: "ping.attempt", result: "ok"}, {kind: "pull.served"}}, want: stagePulled},
		{name: "pull recorded before the attempt", events: []ev{{kind: "ping.requested"}, {kind: "pull.served"}, {kind: "ping.attempt", result: "ok"}}, want: stagePulled},
		{name: "pulled without a profile", events: []ev{{kind: "ping.requested"}, {kind: "ping.attempt", result: "ok"}, {kind: "pull.not_found"}}, want: stagePulled, notFound: true},
		{name: "failed", events: []ev{{kind: "ping.requested"}, {kind: "ping.attempt", result: "dead_letter"}, {kind: "ping.dead_letter"}}, want: stageFailed},
		{name: "an earlier sync's pull does not count", events: []ev{{kind: "ping.attempt", result: "ok"}, {kind: "pull.served"}, {kind: "ping.requested"}}, want: stageQueued},
		{name: "a pull without this ping is not delivery", events: []ev{{kind: "ping.requested"}, {kind: "pull.served"}}, want: stageQueued},
		{name: "a newer request needs its own ping", events: []ev{{kind: "ping.requested"}, {kind: "ping.attempt", result: "ok"}, {kind: "ping.requested"}, {kind: "pull.served"}}, want: stageQueued},
		{name: "failed, then pulled on replay", events: []ev{{kind: "ping.requested"}, {kind: "ping.dead_letter"}, {kind: "ping.attempt", result: "ok"}, {kind: "pull.served"}}, want: stagePulled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var events []*store.TimelineEvent
			for i, e := range tt.events {
				detail, err := json.Marshal(map[string]string{"result": e.result})
				require.NoError(t, err)
				events = append([]*store.TimelineEvent{{ID: int64(i + 1), UserID: "u", Kind: e.kind, Detail: detail}}, events...)
			}
			var s userDelivery
			s.update(events)
			require.Equal(t, tt.want, s.stage)
			require.Equal(t, tt.notFound, s.notFound)
		})
	}
}

// TestRunPingFollowsDelivery runs a real hub and gateway (the serve and hub
// commands) and pings three users, two with a profile: ping --wait returns
// once the hub pulled all three, and says so per stage.
func TestRunPingFollowsDelivery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir()
	network := map[string]string{
		"SSOGATE_NETWORK_NAME": "labs.fyre.co",
		"SSOGATE_NETWORK_KEY":  "labs-network-key-0123456789",
		"SSOGATE_LOG_LEVEL":    "debug",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range network {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	start := func(environ map[string]string, args ...string) string {
		stderr := newLogWatcher()
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, args, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr, getenv: mapEnv(environ)})
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
		return stderr.waitListening(t, done)
	}

	hubAddr := start(with(map[string]string{
		"SSOGATE_DATABASE_URL":          "sqlite:" + filepath.Join(dir, "hub.db"),
		"SSOGATE_ALLOW_PRIVATE_TARGETS": "true",
	}), "hub", "--listen", "127.0.0.1:0")

	// The gateway's public URL is its own address, so the port is chosen
	// first.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gatewayAddr := l.Addr().String()
	require.NoError(t, l.Close())
	gatewayDB := filepath.Join(dir, "gateway.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: gatewayDB})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	for _, id := range []string{"alice", "bob"} {
		data, err := livefyre.CanonicalProfile([]byte(`{"id":"` + id + `","display_name":"` + id + `"}`))
		require.NoError(t, err)
		_, _, err = st.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: id, Data: data, Now: time.Now()})
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())
	gwEnv := with(map[string]string{
		"SSOGATE_DATABASE_URL": "sqlite:" + gatewayDB,
		"SSOGATE_PUBLIC_URL":   "http://" + gatewayAddr,
		"SSOGATE_HUB_URL":      "http://" + hubAddr,
	})
	r := runCmd(t, gwEnv, "", "register")
	require.Equal(t, 0, r.code, r.stderr)
	start(gwEnv, "serve", "--listen", gatewayAddr)

	r = runCmd(t, gwEnv, "alice\nbob\ncarol\nalice\n", "ping", "--stdin", "--wait", "--wait-timeout", "2m")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "queued 4 pings (3 users); queued 3, pinged 3, pulled 3 (1 without a profile), failed 0\n", r.stdout)

	// --no-wait returns once queued.
	r = runCmd(t, gwEnv, "", "ping", "--no-wait", "alice")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "queued 1 pings (1 users); the gateway's workers send them\n", r.stdout)
}

// TestRunPingWaitsForDeliveryNotQueueing: with no gateway running, nothing
// is pinged, so ping --wait gives up at its timeout (exit 1) instead of
// reporting success once the jobs are queued.
func TestRunPingWaitsForDeliveryNotQueueing(t *testing.T) {
	t.Parallel()
	environ, _ := gatewayEnv(t, "http://127.0.0.1:1")
	r := runCmd(t, environ, "", "ping", "--wait", "--wait-timeout", "1s", "alice", "bob")
	require.Equal(t, 1, r.code, r.stderr)
	require.Equal(t, "queued 2 pings (2 users); queued 2, pinged 0, pulled 0, failed 0\n", r.stdout)
	require.Contains(t, r.stderr, "ssogate: ping: gave up after --wait-timeout 1s with 2 of 2 users not pulled yet")

	r = runCmd(t, environ, "", "ping", "--wait", "--no-wait", "alice")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "--wait and --no-wait exclude each other")
}

// TestRunPingReportsDeadLetters: a hub that refuses the pings (403 is
// permanent) dead-letters them at the gateway; ping --wait says so and
// exits 1.
func TestRunPingReportsDeadLetters(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(hub.Close)
	environ, _ := gatewayEnv(t, hub.URL)
	stderr := newLogWatcher()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr, getenv: mapEnv(environ)})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	stderr.waitListening(t, done)

	r := runCmd(t, environ, "", "ping", "--wait", "--wait-timeout", "2m", "alice", "bob")
	require.Equal(t, 1, r.code, r.stderr)
	require.Equal(t, "queued 2 pings (2 users); queued 2, pinged 0, pulled 0, failed 2\n", r.stdout)
	require.Contains(t, r.stderr, "ssogate: ping: 2 of 2 pings were dead-lettered")
}
