package hub

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

const bobProfile = `{"id":"bob","display_name":"Bob Dole","image_url":"https://img.example/bob.png","profile_url":"https://site.example/bob","moderator":"true"}`

func TestPullStoresProfile(t *testing.T) {
	t.Parallel()
	testdb.Each(t, testPullStoresProfile)
}

func testPullStoresProfile(t *testing.T, s store.Store) {
	b := setup(t, withJobs(), withPrivate(), withStore(s))
	ep := newEndpoint(t, b.codec)
	ep.set("bob", bobProfile)
	b.register(ep.template())

	require.Equal(t, http.StatusOK, b.ping("bob").status)
	rp := b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })
	require.Equal(t, "Bob Dole", rp.DisplayName)
	require.Equal(t, "https://img.example/bob.png", rp.AvatarURL)
	require.Equal(t, "ok", rp.LastPullResult)
	require.Equal(t, []string{"display_name", "id", "image_url", "moderator", "profile_url"}, rp.LastChanged)
	require.JSONEq(t, `{"id":"bob","display_name":"Bob Dole","image_url":"https://img.example/bob.png","profile_url":"https://site.example/bob","moderator":true}`, string(rp.Data))
	require.Equal(t, rp.PingSeq, rp.PulledSeq)
	require.True(t, rp.PingReceivedAt.IsZero())
	// The pull carried a fresh system token of the network.
	ep.mu.Lock()
	tok := ep.tokens[0]
	ep.mu.Unlock()
	claims, err := b.codec.VerifySystem(tok)
	require.NoError(t, err)
	require.Equal(t, testNetwork, claims.Domain)
	require.Empty(t, b.pullJobs(), "no River job: the fast path made the pull")

	// Same data again: unchanged, no data write.
	updatedAt := rp.UpdatedAt
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	rp = b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.PulledSeq == 2 })
	require.Equal(t, "unchanged", rp.LastPullResult)
	require.Equal(t, updatedAt, rp.UpdatedAt)

	// A change records what changed.
	ep.set("bob", strings.Replace(bobProfile, "Bob Dole", "Robert Dole", 1))
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	rp = b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.PulledSeq == 3 })
	require.Equal(t, "ok", rp.LastPullResult)
	require.Equal(t, []string{"display_name"}, rp.LastChanged)
	require.Equal(t, "Robert Dole", rp.DisplayName)

	// The worker observes its metrics after the transaction the profile
	// was read from committed.
	b.eventually(func() bool { return b.metric("ssogate_hub_pull_duration_seconds", "") == 3 }, "pull metrics observed")
	require.InDelta(t, 3, b.metric("ssogate_hub_ping_to_update_seconds", ""), 0)
	require.InDelta(t, 3, b.metric("ssogate_hub_pings_total", "ok"), 0)
	require.InDelta(t, 2, b.metric("ssogate_hub_pulls_total", "ok"), 0)
	require.InDelta(t, 1, b.metric("ssogate_hub_pulls_total", "unchanged"), 0)
	require.InDelta(t, 3, b.metric("ssogate_hub_pull_duration_seconds", ""), 0)
}

func TestPullMissingKeepsData(t *testing.T) {
	t.Parallel()
	b := setup(t, withJobs(), withPrivate())
	ep := newEndpoint(t, b.codec)
	ep.set("bob", bobProfile)
	b.register(ep.template())
	b.ping("bob")
	before := b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })

	ep.then(status(http.StatusNotFound))
	b.ping("bob")
	rp := b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileMissing })
	require.Equal(t, "missing", rp.LastPullResult)
	require.Equal(t, before.Data, rp.Data)
	require.Equal(t, "Bob Dole", rp.DisplayName)
	require.Equal(t, rp.PingSeq, rp.PulledSeq)
}

func TestPullRefusedIsDeadLetter(t *testing.T) {
	t.Parallel()
	b := setup(t, withJobs(), withPrivate())
	ep := newEndpoint(t, b.codec)
	// The fast path's pull is refused, then the River job's it handed the
	// pull to: that one dead-letters at once, with the reason.
	ep.then(status(http.StatusForbidden), status(http.StatusForbidden))
	b.register(ep.template())
	b.ping("bob")
	job := b.waitJob(rivertype.JobStateCancelled)
	require.Contains(t, jobErrors(job), refusedMessage)
	require.Len(t, job.Errors, 1, "a refusal is not retried")
	require.EqualValues(t, 2, ep.calls.Load(), "the fast path's pull and the job's")
	rp := b.profile("bob")
	require.Equal(t, "refused", rp.LastPullResult)
	require.Equal(t, store.RemoteProfilePending, rp.Status)
	require.Equal(t, 1, len(b.pullJobs(rivertype.JobStateCancelled)))
	require.Zero(t, b.h.pulls.Len(), "the dead letter is not pulled again without a ping")

	// A later ping makes a new job (dead letters do not block), which
	// succeeds once the endpoint takes the token again.
	ep.set("bob", bobProfile)
	b.ping("bob")
	b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })

	require.InDelta(t, 1, b.metric("ssogate_hub_pull_dead_letters", "cancelled"), 0)
	require.InDelta(t, 2, b.metric("ssogate_hub_pulls_total", "refused"), 0)
	require.EqualValues(t, 3, ep.calls.Load(), "the later ping's pull made by the fast path")
	require.Len(t, b.pullJobs(), 1, "no new job for a pull that succeeded")
}

// TestPullRetries: 5xx, 429 and connection failures are retried by a River
// job the fast path hands the pull to; the fast path's attempt counts as the
// first, so the job is scheduled at the Retry-After, else at the schedule's
// first delay (never at once); a ping during the wait makes the pull now,
// on the fast path, and the job then completes without pulling again.
func TestPullRetries(t *testing.T) {
	t.Parallel()
	// The hub's clock stands still a minute ahead of River's (whole
	// seconds, as HTTP dates are): every retry is due in the future for
	// River, and each delay is exactly what the hub computed from this
	// clock, jitter fixed at none.
	now := time.Now().Truncate(time.Second).Add(time.Minute)
	cases := []struct {
		name       string
		answer     func(w http.ResponseWriter, r *http.Request)
		result     string
		retryAfter time.Duration
	}{
		{"503 with Retry-After seconds", status(http.StatusServiceUnavailable, "Retry-After", "120"), "error: status 503", 2 * time.Minute},
		{"429 with Retry-After date", status(http.StatusTooManyRequests, "Retry-After", now.Add(time.Hour).UTC().Format(http.TimeFormat)), "error: status 429", time.Hour},
		{"500 without Retry-After", status(http.StatusInternalServerError), "error: status 500", 5 * time.Second},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, "error: connection failed", 5 * time.Second},
		{"malformed JSON", body(`{"id":"bob",`), "error: malformed JSON", 5 * time.Second},
		{"id mismatch", body(`{"id":"alice","display_name":"Alice"}`), "error: id mismatch", 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, withJobs(), withPrivate(),
				withConfig(func(c *Config) { c.Now = func() time.Time { return now } }),
				withHandler(func(h *Handler) { h.jitter = func() float64 { return 0.5 } }))
			ep := newEndpoint(t, b.codec)
			ep.set("bob", bobProfile)
			ep.then(tc.answer)
			b.register(ep.template())
			b.ping("bob")
			job := b.waitRetry()
			require.EqualValues(t, 1, ep.calls.Load(), "the fast path's attempt only")
			require.Empty(t, job.Errors, "the job has not run")
			require.Equal(t, 1, fastPathAttempts(job.Metadata), "metadata %s", job.Metadata)
			rp := b.profile("bob")
			require.Equal(t, tc.result, rp.LastPullResult)
			require.Equal(t, store.RemoteProfilePending, rp.Status)
			require.NotContains(t, jobErrors(job), "lftoken", "no token in job errors")
			require.Equal(t, now.Add(tc.retryAfter).UTC(), job.ScheduledAt.UTC(), "scheduled %s after the hub's now", job.ScheduledAt.Sub(now))

			// The other side pings again: the waiting pull is made now.
			b.ping("bob")
			rp = b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })
			require.Equal(t, rp.PingSeq, rp.PulledSeq)
			require.EqualValues(t, 2, rp.PingSeq)
			require.EqualValues(t, 2, ep.calls.Load())
			require.Len(t, b.pullJobs(), 1, "no second job")

			// The job, run now, finds every ping answered: it completes
			// without a pull.
			_, err := b.store.Jobs().JobRetry(b.ctx, job.ID)
			require.NoError(t, err)
			b.eventually(func() bool { return len(b.pullJobs(rivertype.JobStateCompleted)) == 1 }, "one job, completed")
			require.EqualValues(t, 2, ep.calls.Load(), "the job pulled again")
		})
	}
}

// TestPullRetryCountsFastPathAttempt: the job that took a failed fast-path
// pull over fails again on its first run; its next retry waits the
// schedule's delay after two failures (the fast path's and its own).
func TestPullRetryCountsFastPathAttempt(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second).Add(time.Minute)
	b := setup(t, withJobs(), withPrivate(),
		withConfig(func(c *Config) { c.Now = func() time.Time { return now } }),
		withHandler(func(h *Handler) { h.jitter = func() float64 { return 0.5 } }))
	ep := newEndpoint(t, b.codec)
	ep.set("bob", bobProfile)
	ep.then(status(http.StatusInternalServerError))
	ep.then(status(http.StatusBadGateway))
	b.register(ep.template())
	b.ping("bob")
	job := b.waitRetry()
	require.Equal(t, now.Add(retryDelay(1, 0.5)).UTC(), job.ScheduledAt.UTC())

	_, err := b.store.Jobs().JobRetry(b.ctx, job.ID)
	require.NoError(t, err)
	var again *rivertype.JobRow
	b.eventually(func() bool {
		for _, j := range b.pullJobs(unfinishedStates...) {
			if j.ID == job.ID && len(j.Errors) == 1 && j.State != rivertype.JobStateRunning {
				again = j
				return true
			}
		}
		return false
	}, "the job's first run failed")
	require.EqualValues(t, 2, ep.calls.Load())
	require.Equal(t, 1, again.Attempt)
	require.Equal(t, now.Add(retryDelay(2, 0.5)).UTC(), again.ScheduledAt.UTC(),
		"scheduled %s after the hub's now", again.ScheduledAt.Sub(now))
	require.Greater(t, retryDelay(2, 0.5), retryDelay(1, 0.5))
	require.Equal(t, "error: status 502", b.profile("bob").LastPullResult)
}

func TestPullLimits(t *testing.T) {
	t.Parallel()
	big := `{"id":"bob","bio":"` + strings.Repeat("x", 2048) + `"}`
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		result string
		metric string
	}{
		{"oversized with length", body(big), "error: response too large", "too_large"},
		{"oversized chunked", func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 100 {
				_, _ = w.Write([]byte(big[i:min(i+100, len(big))]))
				w.(http.Flusher).Flush()
			}
		}, "error: response too large", "too_large"},
		{"slow headers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, "error: timeout", "timeout"},
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"bob",`))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, "error: timeout", "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, withJobs(), withPrivate(), withConfig(func(c *Config) {
				c.MaxPullBytes = 1024
				c.PullTimeout = 300 * time.Millisecond
			}))
			ep := newEndpoint(t, b.codec)
			// The fast path's pull fails, then its job's first attempt.
			ep.then(tc.answer, tc.answer)
			b.register(ep.template())
			b.ping("bob")
			job := b.waitFailed()
			require.EqualValues(t, 2, ep.calls.Load())
			require.Equal(t, tc.result, b.profile("bob").LastPullResult)
			require.Len(t, job.Errors, 1)
			require.NotContains(t, jobErrors(job), "lftoken", "no token in job errors")
			require.InDelta(t, 2, b.metric("ssogate_hub_pulls_total", tc.metric), 0)
		})
	}
}

// TestPullCoalescesInFlight: a ping that arrives while a pull runs makes
// another pull after it, which brings the newer data.
func TestPullCoalescesInFlight(t *testing.T) {
	t.Parallel()
	testdb.Each(t, testPullCoalescesInFlight)
}

func testPullCoalescesInFlight(t *testing.T, s store.Store) {
	b := setup(t, withJobs(), withPrivate(), withStore(s))
	ep := newEndpoint(t, b.codec)
	ep.set("bob", bobProfile)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var releaseOnce sync.Once
	// Before the endpoint closes, should the test fail while the pull waits.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	var first atomic.Bool
	first.Store(true)
	ep.setHook(func(r *http.Request) {
		if first.CompareAndSwap(true, false) {
			entered <- struct{}{}
			<-release
		}
	})
	b.register(ep.template())
	b.ping("bob")
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("the pull never reached the endpoint")
	}
	// During the pull: the profile changes and the gateway pings again.
	ep.set("bob", strings.Replace(bobProfile, "Bob Dole", "Robert Dole", 1))
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	// One pull under way and the next waiting behind it, for the one user.
	require.Equal(t, 2, b.h.pulls.Len(), "the pull under way and the one after it")
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	require.Equal(t, 2, b.h.pulls.Len(), "a third ping coalesced into the waiting pull")
	releaseOnce.Do(func() { close(release) })

	rp := b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.PulledSeq == 3 && rp.DisplayName == "Robert Dole" })
	require.EqualValues(t, 3, rp.PingSeq)
	require.Equal(t, "ok", rp.LastPullResult)
	require.Equal(t, []string{"display_name"}, rp.LastChanged)
	<-b.h.pulls.Idle()
	require.EqualValues(t, 2, ep.calls.Load(), "two pulls for three pings")
	require.Empty(t, b.pullJobs(), "no River job: the fast path made both")
}

// TestPullSSRF: private targets are refused at dial time unless allowed,
// also through DNS names and redirects.
func TestPullSSRF(t *testing.T) {
	t.Parallel()
	t.Run("loopback address", func(t *testing.T) {
		t.Parallel()
		b := setup(t, withJobs())
		ep := newEndpoint(t, b.codec)
		ep.set("bob", bobProfile)
		b.register(ep.template())
		b.ping("bob")
		job := b.waitJob(rivertype.JobStateCancelled)
		require.Contains(t, jobErrors(job), "not a public address")
		require.Zero(t, ep.calls.Load())
		require.Equal(t, "error: private target refused", b.profile("bob").LastPullResult)
	})
	t.Run("name resolving to loopback", func(t *testing.T) {
		t.Parallel()
		b := setup(t, withJobs())
		ep := newEndpoint(t, b.codec)
		_, port, err := net.SplitHostPort(ep.srv.Listener.Addr().String())
		require.NoError(t, err)
		b.register("http://localhost:" + port + "/pull?id={id}")
		b.ping("bob")
		b.waitJob(rivertype.JobStateCancelled)
		require.Zero(t, ep.calls.Load())
	})
	t.Run("redirect to loopback", func(t *testing.T) {
		t.Parallel()
		b := setup(t, withJobs())
		target := newEndpoint(t, b.codec)
		target.set("bob", bobProfile)
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.srv.URL+r.URL.RequestURI(), http.StatusFound)
		}))
		t.Cleanup(redirector.Close)
		// Let the first hop through as if it were public; the redirect's
		// target gets the real check.
		first := netip.MustParseAddrPort(redirector.Listener.Addr().String())
		override := func(ap netip.AddrPort) (bool, bool) { return true, ap == first }
		b.h.guard.override.Store(&override)
		b.register(redirector.URL + "/pull?id={id}")
		b.ping("bob")
		b.waitJob(rivertype.JobStateCancelled)
		require.Zero(t, target.calls.Load(), "the redirect target was never reached")
	})
	t.Run("redirect followed when allowed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, withJobs(), withPrivate())
		target := newEndpoint(t, b.codec)
		target.set("bob", bobProfile)
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.srv.URL+r.URL.RequestURI(), http.StatusFound)
		}))
		t.Cleanup(redirector.Close)
		b.register(redirector.URL + "/pull?id={id}")
		b.ping("bob")
		b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })
	})
}

func TestPullTemplatePlacement(t *testing.T) {
	t.Parallel()
	b := setup(t, withJobs(), withPrivate())
	ep := newEndpoint(t, b.codec)
	paths := make(chan string, 10)
	ep.setHook(func(r *http.Request) { paths <- r.URL.Path })
	ep.then(body(`{"id":"bob.b","display_name":"B"}`))
	b.register(ep.srv.URL + "/users/{id}")
	b.ping("bob.b")
	b.waitProfile("bob.b", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })
	require.Equal(t, "/users/bob.b", <-paths)
	ep.mu.Lock()
	defer ep.mu.Unlock()
	_, err := b.codec.VerifySystem(ep.tokens[0])
	require.NoError(t, err)
}
