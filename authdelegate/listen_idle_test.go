package authdelegate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// TestSubscribedOnlyWithStreams: a replica with no open stream is not
// subscribed to the store's live events (on PostgreSQL a listening backend
// commits a transaction per notification it reads); the first stream
// subscribes it, and listenIdle after the last one closed it unsubscribes.
// Changes committed while it was not subscribed still reach the streams.
func TestSubscribedOnlyWithStreams(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		b := setup(t, setupOpts{store: s, noRun: true, mutate: func(c *Config) { c.KeepAliveInterval = 20 * time.Millisecond }})
		b.h.fanout.listenIdle = 30 * time.Millisecond
		run(t, b.h)
		subscribed := func() bool { return counterValue(t, b.h.metrics.liveSubscribed) == 1 }
		msg := b.login("alice")
		require.False(t, subscribed(), "subscribed with no stream open")

		// The first stream subscribes; a change reaches it by notification.
		rs := b.openRaw(msg.Credential, "1")
		b.waitDetached(1)
		asynctest.Eventually(t, waitFor, "the replica to subscribe", subscribed)
		v := b.changeProfile("alice", "Second")
		b.markReady("alice", v)
		rs.until(t, `data: {"version":2}`)

		// The last stream leaves: unsubscribed after listenIdle.
		require.NoError(t, rs.conn.Close())
		b.waitGauges(0, 0)
		asynctest.Eventually(t, waitFor, "the replica to unsubscribe", func() bool { return !subscribed() })

		// A change while unsubscribed, and a stream that registers without
		// reading the store itself: the pass that follows the new
		// subscription finds the change.
		v = b.changeProfile("alice", "Third")
		b.markReady("alice", v)
		st := newStream(hashSecret(msg.Credential), "alice", 2)
		st.schedule(time.Now(), time.Hour, time.Hour)
		unregister := b.h.fanout.register(st)
		defer unregister()
		require.EqualValues(t, 3, nextVersion(t, st), "the stream registered while unsubscribed")
		require.True(t, subscribed())

		// Subscribed again: the next change arrives by notification.
		v = b.changeProfile("alice", "Fourth")
		b.markReady("alice", v)
		require.EqualValues(t, 4, nextVersion(t, st), "after re-subscribing")
	})
}

// nextVersion waits for the next profile version due on s (keep-alives
// also wake it) and fails on a logout.
func nextVersion(t *testing.T, s *stream) int64 {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case <-s.wake:
		case <-deadline:
			t.Fatal("no profile version came due")
		}
		d := s.takeDue()
		require.Empty(t, d.logout)
		if d.version != 0 {
			return d.version
		}
	}
}
