package pingpull

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
)

func TestWebhookAccepted(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, opts)
		ctx := context.Background()
		sub, err := b.store.Listen(ctx, store.ChannelProfileChanged)
		require.NoError(t, err)
		defer sub.Close()

		status, header, body := b.webhook(t, webhookReq{id: "msg_1", body: `{"user_id":"u1","profile":{"display_name":"Ann","moderator":"true","bio":""},"updated_at":"2014-05-13T16:00:00Z"}`})
		require.Equal(t, http.StatusAccepted, status, string(body))
		require.Equal(t, "application/json; charset=utf-8", header.Get("Content-Type"))
		require.JSONEq(t, `{"user_id":"u1","version":1,"status":"queued"}`, string(body))

		p, err := b.store.ProfileGet(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, int64(1), p.Version)
		require.Equal(t, `{"id":"u1","display_name":"Ann","moderator":true}`, string(p.Data))
		require.True(t, p.UpdatedAt.Equal(time.Date(2014, 5, 13, 16, 0, 0, 0, time.UTC)))

		// The ping waits in the outbox and in the drain, with no job row.
		require.Equal(t, 1, b.outbox(t))
		require.Equal(t, 1, b.h.pings.Len())
		require.Empty(t, b.pingJobs(t))
		require.Equal(t, []string{"webhook.accepted"}, b.timelineKinds(t, "u1"))
		require.Equal(t, 1.0, metricValue(t, b.h.metrics.webhooks.WithLabelValues("queued")))

		// A second change bumps the version; the waiting ping carries it.
		a := b.accept(t, webhookReq{body: profileBody("u1", "Ann B")})
		require.Equal(t, WebhookAnswer{UserID: "u1", Version: 2, Status: StatusQueued}, a)
		require.Equal(t, 1, b.outbox(t), "coalesced into the waiting ping")
		require.Equal(t, 1, b.h.pings.Len())

		// Once pinged, "profile changed" goes out for the version pinged.
		b.runDrain(t)
		select {
		case payload := <-sub.C():
			require.JSONEq(t, `{"user_id":"u1","version":2}`, string(payload))
		case <-time.After(10 * time.Second):
			t.Fatal("no profile_changed notification")
		}
		waitFor(t, "outbox empty", func() bool { return b.outbox(t) == 0 })
	})
}

func TestWebhookUnchangedAndStale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	body := func(name, at string) string {
		return `{"user_id":"u1","profile":{"display_name":"` + name + `"},"updated_at":"` + at + `"}`
	}
	require.Equal(t, StatusQueued, b.accept(t, webhookReq{body: body("Ann", "2014-05-13T16:00:00Z")}).Status)

	// Same profile, written differently: unchanged, no new ping.
	a := b.accept(t, webhookReq{body: `{"profile":{"display_name":"Ann","tags":[],"id":"u1"},"user_id":"u1","updated_at":"2014-05-13T16:01:00Z"}`})
	require.Equal(t, WebhookAnswer{UserID: "u1", Version: 1, Status: StatusUnchanged}, a)

	// An older change is acknowledged and not applied.
	a = b.accept(t, webhookReq{body: body("Old Ann", "2014-05-13T15:00:00Z")})
	require.Equal(t, WebhookAnswer{UserID: "u1", Version: 1, Status: StatusStale}, a)
	p, err := b.store.ProfileGet(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, `{"id":"u1","display_name":"Ann"}`, string(p.Data))
	require.Equal(t, 1, b.outbox(t))
	require.Equal(t, []string{"webhook.accepted", "webhook.accepted", "webhook.accepted"}, b.timelineKinds(t, "u1"))
}

func TestWebhookReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	first := profileBody("u1", "Ann")
	status, _, answer1 := b.webhook(t, webhookReq{id: "msg_a", body: first})
	require.Equal(t, http.StatusAccepted, status)
	b.accept(t, webhookReq{id: "msg_b", body: profileBody("u1", "Bea")})

	// The sender retries msg_a later (re-signed, same id and body).
	b.clock.Advance(time.Hour)
	status, _, again := b.webhook(t, webhookReq{id: "msg_a", body: first})
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, string(answer1), string(again), "the first answer")
	p, err := b.store.ProfileGet(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, int64(2), p.Version, "nothing re-applied")
	require.Contains(t, string(p.Data), "Bea")
	require.Equal(t, 1.0, metricValue(t, b.h.metrics.webhooks.WithLabelValues("replayed")))

	// After the receipt TTL the id is forgotten.
	b.clock.Advance(24 * time.Hour)
	a := b.accept(t, webhookReq{id: "msg_a", body: first})
	require.Equal(t, WebhookAnswer{UserID: "u1", Version: 3, Status: StatusQueued}, a)
}

func TestWebhookConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, opts)
		const n = 8
		answers := make([]string, n)
		g := asynctest.New(t)
		for i := range n {
			g.Go(func(t testing.TB) {
				status, _, body := b.webhook(t, webhookReq{id: "msg_same", body: profileBody("u1", "Ann")})
				if status == http.StatusAccepted {
					answers[i] = string(body)
				}
			})
		}
		g.Wait()
		for _, a := range answers {
			require.JSONEq(t, `{"user_id":"u1","version":1,"status":"queued"}`, a)
		}
		require.Equal(t, []string{"webhook.accepted"}, b.timelineKinds(t, "u1"))
	})
}

func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := testSecret(1), testSecret(2)
	b := setup(t, setupOpts{cfg: func(c *Config) { c.WebhookSecrets = []string{newSecret, oldSecret} }})
	require.Equal(t, 1, int(b.accept(t, webhookReq{secret: oldSecret, body: profileBody("u1", "Ann")}).Version))
	require.Equal(t, 2, int(b.accept(t, webhookReq{secret: newSecret, body: profileBody("u1", "Bea")}).Version))
	status, _, body := b.webhook(t, webhookReq{secret: testSecret(3), body: profileBody("u1", "Cy")})
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "invalid_signature", errorCode(t, body))
}

func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// Something accepted before every refusal, which must survive them.
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})

	big := `{"user_id":"u1","profile":{"display_name":"Ann","bio":"` + strings.Repeat("x", 64<<10) + `"}}`
	tests := []struct {
		name   string
		req    webhookReq
		status int
		code   string
		field  string
	}{
		{"no signature", webhookReq{body: profileBody("u1", "X"), header: func(h http.Header) { h.Del("webhook-signature") }}, 401, "missing_signature", ""},
		{"bad signature", webhookReq{body: profileBody("u1", "X"), header: func(h http.Header) { h.Set("webhook-signature", "v1,AAAA") }}, 401, "invalid_signature", ""},
		{"old timestamp", webhookReq{body: profileBody("u1", "X"), at: specEpoch.Add(-6 * time.Minute)}, 401, "timestamp_too_old", ""},
		{"future timestamp", webhookReq{body: profileBody("u1", "X"), at: specEpoch.Add(6 * time.Minute)}, 401, "timestamp_too_new", ""},
		{"wrong content type", webhookReq{body: profileBody("u1", "X"), contentType: "text/plain"}, 415, "unsupported_media_type", ""},
		{"form content type", webhookReq{body: profileBody("u1", "X"), contentType: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"oversized", webhookReq{body: big}, 413, "body_too_large", ""},
		{"broken JSON", webhookReq{body: `{"user_id":"u1",`}, 400, "invalid_field", "body"},
		{"missing user", webhookReq{body: `{"profile":{"display_name":"X"}}`}, 400, "invalid_field", "user_id"},
		{"invalid user", webhookReq{body: `{"user_id":"u 1"}`}, 400, "invalid_field", "user_id"},
		{"reserved user SYSTEM", webhookReq{body: `{"user_id":"SYSTEM","profile":{"display_name":"X"}}`}, 400, "invalid_field", "user_id"},
		{"reserved user system", webhookReq{body: `{"user_id":"system","profile":{"id":"system","display_name":"X"}}`}, 400, "invalid_field", "user_id"},
		{"invalid profile field", webhookReq{body: `{"user_id":"u1","profile":{"display_name":"<b>X</b>"}}`}, 400, "invalid_field", "profile.display_name"},
		{"invalid nested field", webhookReq{body: `{"user_id":"u1","profile":{"display_name":"X","websites":["a","b","c"]}}`}, 400, "invalid_field", "profile.websites"},
		{"profile for someone else", webhookReq{body: `{"user_id":"u1","profile":{"id":"u2","display_name":"X"}}`}, 400, "invalid_field", "profile.id"},
		{"bad updated_at", webhookReq{body: `{"user_id":"u1","profile":{"display_name":"X"},"updated_at":"now"}`}, 400, "invalid_field", "updated_at"},
		{"no profile and no source", webhookReq{body: `{"user_id":"u1"}`}, 400, "invalid_field", "profile"},
		{"long webhook id", webhookReq{id: strings.Repeat("i", 300), body: profileBody("u1", "X")}, 400, "invalid_field", "webhook-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := b.webhook(t, tt.req)
			require.Equal(t, tt.status, status, string(body))
			require.Equal(t, "application/json; charset=utf-8", header.Get("Content-Type"))
			require.Equal(t, tt.code, errorCode(t, body))
			if tt.field != "" {
				var e struct{ Error struct{ Message string } }
				require.NoError(t, json.Unmarshal(body, &e))
				require.True(t, strings.HasPrefix(e.Error.Message, tt.field+":"), e.Error.Message)
			}
		})
	}
	p, err := b.store.ProfileGet(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, int64(1), p.Version)
	require.Equal(t, `{"id":"u1","display_name":"Ann"}`, string(p.Data))
	require.Equal(t, 1, b.outbox(t))
	require.Equal(t, 4.0, metricValue(t, b.h.metrics.webhooks.WithLabelValues("unauthorized")))
	// Authenticated refusals for a known user are on the timeline.
	require.Contains(t, b.timelineKinds(t, "u1"), "webhook.refused")
}

func TestWebhookRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *Config) { c.WebhookRate, c.WebhookBurst = 0.5, 2 }})
	b.accept(t, webhookReq{body: profileBody("u1", "A")})
	b.accept(t, webhookReq{body: profileBody("u1", "B")})
	status, header, body := b.webhook(t, webhookReq{body: profileBody("u1", "C")})
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "rate_limited", errorCode(t, body))
	require.Equal(t, "2", header.Get("Retry-After"))

	b.clock.Advance(2 * time.Second)
	require.Equal(t, int64(3), b.accept(t, webhookReq{body: profileBody("u1", "C")}).Version)
}

func TestWebhookProfileSource(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	sourceStatus := http.StatusOK
	var gotAuth, gotPath string
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		w.WriteHeader(sourceStatus)
		if sourceStatus == http.StatusOK {
			_, _ = w.Write([]byte(`{"display_name":"From Source","moderator":"false","extra":1}`))
		}
	}))
	t.Cleanup(source.Close)
	b := setup(t, setupOpts{cfg: func(c *Config) {
		c.ProfileSourceURL = source.URL + "/users/{id}/profile"
		c.ProfileSourceToken = "source-token"
	}})
	ctx := context.Background()

	a := b.accept(t, webhookReq{body: `{"user_id":"user-1.a_b"}`})
	require.Equal(t, WebhookAnswer{UserID: "user-1.a_b", Version: 1, Status: StatusQueued}, a)
	require.Equal(t, "Bearer source-token", gotAuth)
	require.Equal(t, "/users/user-1.a_b/profile", gotPath)
	p, err := b.store.ProfileGet(ctx, "user-1.a_b")
	require.NoError(t, err)
	require.Equal(t, `{"id":"user-1.a_b","display_name":"From Source","moderator":false}`, string(p.Data))

	// A failing source is a 502: the sender retries, nothing is stored.
	mu.Lock()
	sourceStatus = http.StatusInternalServerError
	mu.Unlock()
	status, _, body := b.webhook(t, webhookReq{body: `{"user_id":"u2"}`})
	require.Equal(t, http.StatusBadGateway, status)
	require.Equal(t, "profile_source_error", errorCode(t, body))
	_, err = b.store.ProfileGet(ctx, "u2")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Equal(t, []string{"webhook.failed"}, b.timelineKinds(t, "u2"))

	// The same webhook-id succeeds once the source is back: a refusal
	// leaves no receipt.
	mu.Lock()
	sourceStatus = http.StatusOK
	mu.Unlock()
	b.accept(t, webhookReq{id: "msg_retry", body: `{"user_id":"u2"}`})
}

func TestWebhookNotMountedWithoutSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *Config) { c.WebhookSecrets = nil }})
	status, _, _ := b.webhook(t, webhookReq{body: profileBody("u1", "Ann")})
	require.Equal(t, http.StatusNotFound, status)
}
