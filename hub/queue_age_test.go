package hub

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// TestPullQueueOldest: the gauge is 0 with no pull waiting, then the age
// of the oldest unanswered ping on the injected clock: a pending remote
// profile on the fast path (no River job exists), or the oldest unfinished
// pull job once one holds the pull; the pending gauge counts the rows.
func TestPullQueueOldest(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	b := setup(t, withConfig(func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	}))
	require.Zero(t, b.metric("ssogate_hub_pull_queue_oldest_seconds", ""))
	require.Zero(t, b.metric("ssogate_hub_pull_pending", ""))

	b.register("https://x.example/p?id={id}")
	require.Equal(t, http.StatusOK, b.ping("u1").status)
	offset.Store(int64(time.Hour))
	require.Equal(t, http.StatusOK, b.ping("u2").status)
	b.requirePending(2)
	// u1's ping came an hour before u2's; the clock is now two hours on.
	offset.Store(int64(3 * time.Hour))
	require.InDelta(t, (3 * time.Hour).Seconds(), b.metric("ssogate_hub_pull_queue_oldest_seconds", ""), 30)
	require.InDelta(t, 2, b.metric("ssogate_hub_pull_pending", ""), 0)

	// u1's pull answered: u2's ping is the oldest waiting.
	_, _, err := b.store.RemoteProfileRecordPull(b.ctx, store.RemoteProfilePullParams{
		Network: testNetwork, UserID: "u1", Seq: 1, At: b.h.cfg.Now(), Status: store.RemoteProfileMissing, Result: "missing",
	})
	require.NoError(t, err)
	require.InDelta(t, (2 * time.Hour).Seconds(), b.metric("ssogate_hub_pull_queue_oldest_seconds", ""), 30)
	require.InDelta(t, 1, b.metric("ssogate_hub_pull_pending", ""), 0)

	// u2's row parked with no job (as a dead letter or a network without
	// a pull URL leaves it): nothing waits, though the row is pending.
	require.NoError(t, b.store.RemoteProfileLeasePull(b.ctx, testNetwork, "u2", parkedLease))
	require.Zero(t, b.metric("ssogate_hub_pull_queue_oldest_seconds", ""))
	require.InDelta(t, 1, b.metric("ssogate_hub_pull_pending", ""), 0)

	// A job holds u2's pull (its fast-path pull failed): the job's age
	// counts, stamped by River with the real clock, three hours behind.
	opts := PullArgs{}.InsertOpts()
	_, err = b.store.Jobs().Insert(b.ctx, PullArgs{Network: testNetwork, UserID: "u2"}, &opts)
	require.NoError(t, err)
	require.InDelta(t, (3 * time.Hour).Seconds(), b.metric("ssogate_hub_pull_queue_oldest_seconds", ""), 30)
	require.InDelta(t, 1, b.metric("ssogate_hub_pull_pending", ""), 0)
}
