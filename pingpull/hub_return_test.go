package pingpull

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
)

// hubGate stands in front of the test hub: while down it answers every
// request 503 (with the Retry-After that retryAfter gives, if any), else
// it forwards to the hub. It records every ping it saw.
type hubGate struct {
	server *httptest.Server

	mu     sync.Mutex
	down   bool
	target *httputil.ReverseProxy
	// retryAfter is the Retry-After of the nth (from 1) request for user
	// during the outage; "" for none.
	retryAfter func(user string, n int) string
	hits       map[string][]gateHit
}

// gateHit is one request the gate saw.
type gateHit struct {
	at     time.Time
	status int
}

func newHubGate(t *testing.T) *hubGate {
	g := &hubGate{hits: map[string][]gateHit{}}
	g.server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.server.Close)
	return g
}

// forwardTo makes the gate forward to base when up.
func (g *hubGate) forwardTo(t *testing.T, base string) {
	u, err := url.Parse(base)
	require.NoError(t, err)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.target = httputil.NewSingleHostReverseProxy(u)
}

func (g *hubGate) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
}

// user is the user id of a /api/v3_0/user/{id}/… path, "" for others.
func gateUser(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/v3_0/user/")
	if !ok {
		return ""
	}
	user, _, _ := strings.Cut(rest, "/")
	return user
}

func (g *hubGate) serve(w http.ResponseWriter, r *http.Request) {
	user := gateUser(r.URL.Path)
	g.mu.Lock()
	down, target, retryAfter := g.down, g.target, g.retryAfter
	n := len(g.hits[user]) + 1
	status := http.StatusOK
	if down {
		status = http.StatusServiceUnavailable
	}
	g.hits[user] = append(g.hits[user], gateHit{at: time.Now(), status: status})
	g.mu.Unlock()
	if !down {
		target.ServeHTTP(w, r)
		return
	}
	if retryAfter != nil {
		if ra := retryAfter(user, n); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
	}
	http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
}

func (g *hubGate) hitsOf(user string) []gateHit {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gateHit(nil), g.hits[user]...)
}

// setupGated is a bundle on real time whose hub sits behind a gate, with a
// retry schedule of ten minutes (an outage of minutes: only the hub's
// return can bring the pings back within the test), the hub pulling on
// each ping, and probeInterval for the probes. River and the drain run.
func setupGated(t *testing.T, s store.Store, probeInterval time.Duration) (*testBundle, *hubGate) {
	gate := newHubGate(t)
	b := setup(t, setupOpts{store: s, realClock: true, cfg: func(c *Config) {
		c.HubURL = gate.server.URL
		c.PingRetrySchedule = []time.Duration{10 * time.Minute}
	}})
	gate.forwardTo(t, b.hub.server.URL)
	b.hub.setPull(true)
	b.h.back.probeInterval = probeInterval
	b.startJobs(t)
	return b, gate
}

// unfinishedPings counts ping jobs that will still run.
func (b *testBundle) unfinishedPings(t *testing.T) int {
	return len(b.pingJobs(t, pingUniqueStates...))
}

// waitRetryable waits until user's ping job waits on a retry after a
// failed attempt, and returns it.
func (b *testBundle) waitRetryable(t *testing.T, user string) *rivertype.JobRow {
	t.Helper()
	var job *rivertype.JobRow
	waitFor(t, user+"'s ping waiting on a retry", func() bool {
		for _, row := range b.pingJobs(t, rivertype.JobStateRetryable) {
			var args PingArgs
			require.NoError(t, json.Unmarshal(row.EncodedArgs, &args))
			if args.UserID == user {
				job = row
				return true
			}
		}
		return false
	})
	return job
}

// pulled reports whether the hub pulled displayName for user.
func (b *testBundle) pulled(user, displayName string) bool {
	return b.hub.pulledProfile(user) == `{"id":"`+user+`","display_name":"`+displayName+`"}`
}

// TestHubReturn: the hub is down while users change their profiles three
// times each; every change's ping fails and waits, one job per user, on a
// ten-minute retry. When the hub is back, every user's last change arrives
// within seconds, with no manual step: through the probe when nothing else
// reaches the hub, or at the first ping the hub answers.
func TestHubReturn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// probe is the probe interval; an hour leaves the return to the
		// answered ping.
		probe time.Duration
		// afterReturn sends a change of another user once the hub is back.
		afterReturn bool
	}{
		{name: "probe", probe: 200 * time.Millisecond},
		{name: "answer", probe: time.Hour, afterReturn: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, func(t *testing.T, opts setupOpts) {
				b, gate := setupGated(t, opts.store, tc.probe)
				gate.setDown(true)
				users := []string{"u1", "u2", "u3", "u4", "u5"}
				for v := 1; v <= 3; v++ {
					for _, u := range users {
						b.accept(t, webhookReq{body: profileBody(u, fmt.Sprintf("%s v%d", u, v))})
					}
					for _, u := range users {
						b.waitRetryable(t, u)
					}
				}
				waitFor(t, "the fast path drained", func() bool { return b.h.pings.Len() == 0 && b.outbox(t) == 0 })
				require.Equal(t, len(users), b.unfinishedPings(t), "coalesced: one waiting ping per user")
				require.Empty(t, b.hub.received(), "nothing reached the hub")

				gate.setDown(false)
				back := time.Now()
				if tc.afterReturn {
					b.accept(t, webhookReq{body: profileBody("other", "Other")})
				}
				asynctest.Eventually(t, 15*time.Second, "every user's last change at the hub (the retry is 10 minutes away)", func() bool {
					for _, u := range users {
						if !b.pulled(u, u+" v3") {
							return false
						}
					}
					return true
				})
				t.Logf("%s: every user's last change at the hub %s after its return", tc.name, time.Since(back).Round(time.Millisecond))
				waitFor(t, "quiet", func() bool { return b.quiet(t) })
				for _, row := range b.pingJobs(t) {
					require.Equal(t, rivertype.JobStateCompleted, row.State, "job %d", row.ID)
				}
				require.Positive(t, metricValue(t, b.h.back.broughtForward))
				if tc.probe == time.Hour {
					require.Zero(t, metricValue(t, b.h.back.probes.WithLabelValues("ok")), "no probe: the answered ping brought them forward")
				} else {
					require.Positive(t, metricValue(t, b.h.back.probes.WithLabelValues("ok")))
				}
			})
		})
	}
}

// TestHubReturnHonoursRetryAfter: during the outage the hub asks for a
// Retry-After on r's ping job, not on a's. When the hub is back and answers
// a ping, a's waiting ping runs at once; r's is not sent before the end of
// its Retry-After, and arrives soon after it (its schedule alone would wait
// ten minutes).
func TestHubReturnHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b, gate := setupGated(t, opts.store, 200*time.Millisecond)
		const retryAfter = 5 * time.Second
		gate.mu.Lock()
		gate.retryAfter = func(user string, n int) string {
			// The fast path's ping gets none (its job runs at once); the
			// job's attempt gets one.
			if user == "r" && n >= 2 {
				return fmt.Sprint(int(retryAfter.Seconds()))
			}
			return ""
		}
		gate.mu.Unlock()
		gate.setDown(true)
		b.accept(t, webhookReq{body: profileBody("a", "A v1")})
		b.accept(t, webhookReq{body: profileBody("r", "R v1")})
		b.waitRetryable(t, "a")
		rJob := b.waitRetryable(t, "r")
		waitFor(t, "the fast path drained", func() bool { return b.h.pings.Len() == 0 && b.outbox(t) == 0 })
		var meta map[string]any
		require.NoError(t, json.Unmarshal(rJob.Metadata, &meta))
		notBeforeMs, ok := meta[store.JobMetaNotBefore].(float64)
		require.True(t, ok, "the Retry-After is in r's job: %s", rJob.Metadata)
		notBefore := time.UnixMilli(int64(notBeforeMs))
		require.Len(t, gate.hitsOf("r"), 2)

		gate.setDown(false)
		b.accept(t, webhookReq{body: profileBody("other", "Other")})
		waitFor(t, "a's change at the hub", func() bool { return b.pulled("a", "A v1") })
		require.True(t, time.Now().Before(notBefore),
			"a arrived before r's Retry-After ended (else this test shows nothing); raise retryAfter if the machine is this slow")
		require.False(t, b.pulled("r", "R v1"), "r waits for its Retry-After")

		waitFor(t, "r's change at the hub", func() bool { return b.pulled("r", "R v1") })
		hits := gate.hitsOf("r")
		for _, hit := range hits[2:] {
			require.False(t, hit.at.Before(notBefore), "r pinged at %s, before the end of its Retry-After %s", hit.at, notBefore)
		}
		t.Logf("r's change at the hub %s after its Retry-After ended", time.Since(notBefore).Round(time.Millisecond))
		waitFor(t, "quiet", func() bool { return b.quiet(t) })
	})
}
