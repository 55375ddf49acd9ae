package pingpull

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// workOnce inserts a ping job for u1 and calls the worker's Work on its
// real row as attempt number attempt.
func workOnce(t *testing.T, b *testBundle, attempt int) (*river.Job[PingArgs], error) {
	t.Helper()
	ctx := context.Background()
	res, err := b.store.Jobs().Insert(ctx, PingArgs{UserID: "u1"}, b.h.pingInsertOpts())
	require.NoError(t, err)
	row := res.Job
	row.Attempt = attempt
	now := b.now()
	row.AttemptedAt = &now
	row.State = rivertype.JobStateRunning
	job := &river.Job[PingArgs]{JobRow: row, Args: PingArgs{UserID: "u1"}}
	return job, b.h.worker.Work(ctx, job)
}

func TestPingWorkFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		resp    hubResponse
		attempt int
		cfg     func(*Config)
		// cancel: a dead letter; otherwise a retry at NextRetry within
		// [retryMin, retryMax] after now.
		cancel             bool
		reason             string
		retryMin, retryMax time.Duration
	}{
		{name: "500 first attempt retries at once", resp: hubResponse{status: 500}, attempt: 1, reason: "hub answered 500", retryMin: 0, retryMax: time.Second},
		{name: "502 third attempt waits 5 min", resp: hubResponse{status: 502}, attempt: 3, reason: "hub answered 502", retryMin: 5 * time.Minute, retryMax: 5*time.Minute + 30*time.Second},
		{name: "429 Retry-After beyond schedule", resp: hubResponse{status: 429, retryAfter: "120"}, attempt: 2, reason: "hub answered 429", retryMin: 120 * time.Second, retryMax: 120 * time.Second},
		{name: "503 Retry-After date", resp: hubResponse{status: 503, retryAfter: specEpoch.Add(time.Hour).UTC().Format(http.TimeFormat)}, attempt: 1, reason: "hub answered 503", retryMin: time.Hour, retryMax: time.Hour},
		{name: "429 Retry-After shorter than schedule", resp: hubResponse{status: 429, retryAfter: "1"}, attempt: 4, reason: "hub answered 429", retryMin: 30 * time.Minute, retryMax: 33 * time.Minute},
		{name: "400 retries", resp: hubResponse{status: 400}, attempt: 10, reason: "hub answered 400", retryMin: 24 * time.Hour, retryMax: 24*time.Hour + 144*time.Minute},
		{name: "timeout retries", resp: hubResponse{hang: true}, attempt: 2, cfg: func(c *Config) { c.PingTimeout = 100 * time.Millisecond }, reason: "timeout after 100ms", retryMin: 5 * time.Second, retryMax: 6 * time.Second},
		{name: "403 is permanent", resp: hubResponse{status: 403}, attempt: 1, cancel: true, reason: "hub refused the system token (403)"},
		{name: "404 is permanent", resp: hubResponse{status: 404}, attempt: 1, cancel: true, reason: "hub answered 404"},
		{name: "410 is permanent", resp: hubResponse{status: 410}, attempt: 5, cancel: true, reason: "hub answered 410"},
		{name: "last attempt gives up", resp: hubResponse{status: 500}, attempt: 11, cancel: true, reason: "gave up after 11 attempts: hub answered 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{cfg: func(c *Config) {
				c.PingRetrySchedule = nil // the Standard Webhooks schedule
				if tt.cfg != nil {
					tt.cfg(c)
				}
			}})
			b.hub.setScript(tt.resp)
			job, err := workOnce(t, b, tt.attempt)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.reason)
			require.NotContains(t, err.Error(), "eyJ", "no token in errors")

			pings := b.hub.received()
			require.Len(t, pings, 1)
			require.True(t, pings[0].System, "a system lftoken in a form body")
			require.Equal(t, "/api/v3_0/user/u1/refresh", pings[0].Path)

			var cancelErr *river.JobCancelError
			require.Equal(t, tt.cancel, errors.As(err, &cancelErr))
			kinds := b.timelineKinds(t, "u1")
			if tt.cancel {
				require.Equal(t, []string{"ping.attempt", "ping.dead_letter"}, kinds)
				require.Equal(t, 1.0, metricValue(t, b.h.metrics.deadLetters))
				require.Equal(t, 1.0, metricValue(t, b.h.metrics.pings.WithLabelValues("dead_letter")))
				return
			}
			require.Equal(t, []string{"ping.attempt"}, kinds)
			require.Equal(t, 1.0, metricValue(t, b.h.metrics.pings.WithLabelValues("retry")))
			next := b.h.worker.NextRetry(job).Sub(b.now())
			require.GreaterOrEqual(t, next, tt.retryMin)
			if tt.retryMax == tt.retryMin {
				require.Equal(t, tt.retryMin, next)
			} else {
				require.Less(t, next, tt.retryMax)
			}
		})
	}
}

func TestPingWorkConnectionError(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	b := setup(t, setupOpts{cfg: func(c *Config) { c.HubURL = closed.URL }})
	_, err := workOnce(t, b, 1)
	require.ErrorContains(t, err, "connection error")
	var cancelErr *river.JobCancelError
	require.False(t, errors.As(err, &cancelErr))
}

// TestPingDeliveredAtOnce: a change is pinged by the fast path right
// after its commit, with no River job at all.
func TestPingDeliveredAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{realClock: true})
	b.startJobs(t)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	waitFor(t, "ping delivered", func() bool { return b.quiet(t) && len(b.hub.received()) == 1 })
	pings := b.hub.received()
	require.Len(t, pings, 1)
	require.True(t, pings[0].System)
	require.Equal(t, []string{"webhook.accepted", "ping.attempt"}, b.timelineKinds(t, "u1"))
	require.Equal(t, 1.0, metricValue(t, b.h.metrics.pings.WithLabelValues("ok")))
	require.Empty(t, b.pingJobs(t), "no job row for a ping that went through")
}

// TestPingRetriesThroughRiver: a fast-path ping that fails becomes a River
// job, which retries on the schedule.
func TestPingRetriesThroughRiver(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{realClock: true, cfg: func(c *Config) { c.PingTimeout = 200 * time.Millisecond }})
	b.hub.setScript(hubResponse{status: 500}, hubResponse{status: 429}, hubResponse{hang: true}, hubResponse{status: 503})
	b.startJobs(t)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	waitFor(t, "ping completed", func() bool { return len(b.pingJobs(t, rivertype.JobStateCompleted)) == 1 })
	job := b.pingJobs(t, rivertype.JobStateCompleted)[0]
	// The fast path took the 500; the job the 429, the timeout, the 503 and
	// the 200.
	require.Equal(t, 4, job.Attempt)
	require.Len(t, job.Errors, 3)
	require.Contains(t, job.Errors[1].Error, "timeout")
	var statuses []int
	for _, p := range b.hub.received() {
		statuses = append(statuses, p.Status)
	}
	require.Equal(t, []int{500, 429, 200, 503, 200}, statuses, "the hung request is recorded as 200 but never answered")
	waitFor(t, "quiet", func() bool { return b.quiet(t) })
}

func TestPingDeadLetterAndReplay(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, setupOpts{store: opts.store, realClock: true})
		// The fast path's 403 hands the ping to a job, whose 403 makes the
		// dead letter.
		b.hub.setScript(hubResponse{status: http.StatusForbidden}, hubResponse{status: http.StatusForbidden})
		b.startJobs(t)
		b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
		waitFor(t, "dead letter", func() bool { return len(b.pingJobs(t, rivertype.JobStateCancelled)) == 1 })

		status, _, body := b.do(t, http.MethodGet, "/admin/api/deadletters", testAdmin)
		require.Equal(t, http.StatusOK, status, string(body))
		page := decodeJSON[DeadLetterPage](t, body)
		require.Len(t, page.DeadLetters, 1)
		dead := page.DeadLetters[0]
		require.Equal(t, "u1", dead.UserID)
		require.Equal(t, "cancelled", dead.State)
		require.Contains(t, dead.LastError, "403")

		// A change after the dead letter queues a fresh ping (cancelled jobs do
		// not absorb new ones).
		b.hub.setScript(hubResponse{status: http.StatusForbidden}, hubResponse{status: http.StatusForbidden})
		b.accept(t, webhookReq{body: profileBody("u1", "Bea")})
		waitFor(t, "second dead letter", func() bool { return len(b.pingJobs(t, rivertype.JobStateCancelled)) == 2 })

		// The hub is fixed; replay the first one.
		status, _, body = b.do(t, http.MethodPost, fmt.Sprintf("/admin/api/deadletters/%d/replay", dead.JobID), testAdmin)
		require.Equal(t, http.StatusOK, status, string(body))
		waitFor(t, "replayed ping completed", func() bool { return len(b.pingJobs(t, rivertype.JobStateCompleted)) == 1 })
		require.Len(t, b.pingJobs(t, rivertype.JobStateCancelled), 1)

		// Replaying a finished or unknown job is refused.
		status, _, body = b.do(t, http.MethodPost, fmt.Sprintf("/admin/api/deadletters/%d/replay", dead.JobID), testAdmin)
		require.Equal(t, http.StatusConflict, status)
		require.Equal(t, "not_dead", errorCode(t, body))
		status, _, body = b.do(t, http.MethodPost, "/admin/api/deadletters/999999/replay", testAdmin)
		require.Equal(t, http.StatusNotFound, status)
		require.Equal(t, "not_found", errorCode(t, body))

		kinds := b.timelineKinds(t, "u1")
		require.Equal(t, []string{
			"webhook.accepted", "ping.attempt", "ping.attempt", "ping.dead_letter",
			"webhook.accepted", "ping.attempt", "ping.attempt", "ping.dead_letter",
			"ping.replayed", "ping.attempt",
		}, kinds)
	})
}

func TestPingCoalescesChangesBeforeThePing(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, setupOpts{store: opts.store, realClock: true})
		b.hub.setPull(true)
		for i := range 5 {
			b.accept(t, webhookReq{body: profileBody("u1", fmt.Sprintf("Ann %d", i))})
		}
		b.accept(t, webhookReq{body: profileBody("u2", "Bea")})
		require.Equal(t, 2, b.outbox(t), "one outbox entry per user")
		require.Equal(t, 2, b.h.pings.Len(), "one waiting ping per user")

		b.startJobs(t)
		waitFor(t, "quiet", func() bool { return b.quiet(t) })
		pings := b.hub.received()
		require.Len(t, pings, 2, "five changes, one ping")
		require.Equal(t, `{"id":"u1","display_name":"Ann 4"}`, b.hub.pulledProfile("u1"))
		require.Equal(t, `{"id":"u2","display_name":"Bea"}`, b.hub.pulledProfile("u2"))
		require.Empty(t, b.pingJobs(t))
	})
}

// TestPingChangeWhileInFlight is the case the coalescing rule exists for:
// the hub pulled version 1 and is still answering the ping when version 2
// is committed. Version 2 must be pinged again after the first ping.
func TestPingChangeWhileInFlight(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, setupOpts{store: opts.store, realClock: true})
		ctx := context.Background()
		b.hub.setPull(true)
		b.hub.holdPings()
		b.startJobs(t)

		b.accept(t, webhookReq{body: profileBody("u1", "Ann v1")})
		require.Equal(t, "u1", <-b.hub.entered)
		require.Equal(t, `{"id":"u1","display_name":"Ann v1"}`, b.hub.pulledProfile("u1"))

		// The ping is in flight: version 2 waits behind it.
		a := b.accept(t, webhookReq{body: profileBody("u1", "Ann v2")})
		require.Equal(t, WebhookAnswer{UserID: "u1", Version: 2, Status: StatusQueued}, a)
		require.Equal(t, 2, b.h.pings.Len(), "one running, one waiting")

		b.hub.releaseOne()
		// Version 2 is pinged after the first ping, and its outbox entry
		// outlives the first ping's outcome.
		require.Equal(t, "u1", <-b.hub.entered)
		require.Equal(t, `{"id":"u1","display_name":"Ann v2"}`, b.hub.pulledProfile("u1"))
		require.Equal(t, 1, b.outbox(t), "version 2's entry waits for its own ping")
		b.hub.releaseOne()
		waitFor(t, "quiet", func() bool { return b.quiet(t) })
		require.Len(t, b.hub.received(), 2)

		// A change after that is a new ping.
		b.hub.releaseAll()
		b.accept(t, webhookReq{body: profileBody("u1", "Ann v3")})
		waitFor(t, "quiet after v3", func() bool {
			return b.quiet(t) && b.hub.pulledProfile("u1") == `{"id":"u1","display_name":"Ann v3"}`
		})
		require.Len(t, b.hub.received(), 3)
		require.Empty(t, b.pingJobs(t))

		events, err := b.store.TimelineList(ctx, store.TimelineListParams{UserID: "u1"})
		require.NoError(t, err)
		var versions []int64
		for i := len(events) - 1; i >= 0; i-- {
			if events[i].Kind == "ping.attempt" {
				var d struct {
					Result  string `json:"result"`
					Version int64  `json:"version"`
				}
				require.NoError(t, json.Unmarshal(events[i].Detail, &d))
				require.Equal(t, "ok", d.Result)
				versions = append(versions, d.Version)
			}
		}
		require.Equal(t, []int64{1, 2, 3}, versions)
		// The drain counts a ping after its outcome committed: the outbox
		// may be empty a moment before the counter moves.
		waitFor(t, "three pings counted", func() bool {
			return metricValue(t, b.h.metrics.pings.WithLabelValues("ok")) == 3
		})
	})
}

// TestPingInvariantRandomInterleavings: concurrent changes for several
// users while pings run and the hub fails a third of them; once quiet, the
// hub holds every user's latest profile.
func TestPingInvariantRandomInterleavings(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, setupOpts{store: opts.store, realClock: true})
		ctx := context.Background()
		b.hub.setPull(true)
		b.hub.mu.Lock()
		b.hub.failRate = 0.3
		b.hub.mu.Unlock()
		b.startJobs(t)
		users := []string{"u1", "u2", "u3"}
		g := asynctest.New(t)
		for _, u := range users {
			g.Go(func(t testing.TB) {
				for i := range 15 {
					b.accept(t, webhookReq{body: profileBody(u, fmt.Sprintf("%s %d", u, i))})
				}
			})
		}
		g.Wait()
		waitFor(t, "quiet", func() bool { return b.quiet(t) })
		for _, u := range users {
			p, err := b.store.ProfileGet(ctx, u)
			require.NoError(t, err)
			require.Equal(t, int64(15), p.Version)
			require.Equal(t, string(p.Data), b.hub.pulledProfile(u), "hub holds the latest profile of %s", u)
		}
		require.Empty(t, b.pingJobs(t, rivertype.JobStateCancelled, rivertype.JobStateDiscarded))
		t.Logf("%d pings for 45 changes", len(b.hub.received()))
	})
}

func TestEnqueuePings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.h.EnqueuePings(ctx, []string{"u1", "bad id", "u3", "x@y"})
	require.ErrorContains(t, err, `user_ids[1] "bad id"`)
	require.ErrorContains(t, err, `user_ids[3] "x@y"`)
	require.Zero(t, b.outbox(t), "nothing queued when an id is invalid")

	b.h.enqueueBatch = 4 // several transactions
	ids := []string{"user0", "user1", "user2", "user3", "user4", "user5", "user6", "user7", "user8", "user9", "user1", "user2", "user3"}
	queued, err := b.h.EnqueuePings(ctx, ids)
	require.NoError(t, err)
	require.Equal(t, len(ids), queued)
	require.Equal(t, 10, b.outbox(t), "duplicates absorbed")
	require.Empty(t, b.pingJobs(t))
	require.Equal(t, []string{"ping.requested", "ping.requested"}, b.timelineKinds(t, "user1"))

	// Claimable at once by a running gateway's sweeper.
	b.hub.setPull(true)
	b.startJobs(t)
	waitFor(t, "every user pinged", func() bool { return b.quiet(t) })
	require.Len(t, b.hub.received(), 10)
}

func TestEnqueuePingTxRejectsBadID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	err := b.store.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
		return b.h.EnqueuePingTx(ctx, tx, "not valid")
	})
	require.ErrorIs(t, err, livefyre.ErrInvalidProfile)
	require.True(t, strings.HasPrefix(err.Error(), "pingpull: "))
}

func TestPingReplayWhileAnotherIsQueued(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{realClock: true})
	b.hub.setScript(hubResponse{status: http.StatusForbidden}, hubResponse{status: http.StatusForbidden},
		hubResponse{status: http.StatusServiceUnavailable})
	b.startJobs(t)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	waitFor(t, "dead letter", func() bool { return len(b.pingJobs(t, rivertype.JobStateCancelled)) == 1 })
	dead := b.pingJobs(t, rivertype.JobStateCancelled)[0]

	// A newer ping for u1 is running (the fast path failed with 503 and a
	// job retries it): it carries the latest profile, so the replay is
	// refused rather than queued twice.
	b.hub.holdPings()
	b.accept(t, webhookReq{body: profileBody("u1", "Bea")})
	require.Equal(t, "u1", <-b.hub.entered)
	b.hub.releaseOne() // the fast path's 503
	require.Equal(t, "u1", <-b.hub.entered)
	status, _, body := b.do(t, http.MethodPost, fmt.Sprintf("/admin/api/deadletters/%d/replay", dead.ID), testAdmin)
	require.Equal(t, http.StatusConflict, status, string(body))
	require.Equal(t, "already_queued", errorCode(t, body))
	b.hub.releaseAll()
	waitFor(t, "quiet", func() bool { return b.quiet(t) })
	require.Len(t, b.pingJobs(t, rivertype.JobStateCancelled), 1)
}
