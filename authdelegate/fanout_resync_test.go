package authdelegate

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// outageStore is a real store whose reads of profiles and sessions fail
// while down is set, as they do while the database is unreachable.
type outageStore struct {
	store.Store
	down   atomic.Bool
	failed atomic.Int64 // reads refused while down
}

var errOutage = errors.New("outage: connection refused")

func (s *outageStore) ProfileGet(ctx context.Context, userID string) (*store.Profile, error) {
	if s.down.Load() {
		s.failed.Add(1)
		return nil, errOutage
	}
	return s.Store.ProfileGet(ctx, userID)
}

func (s *outageStore) SessionGet(ctx context.Context, id string) (*store.Session, error) {
	if s.down.Load() {
		s.failed.Add(1)
		return nil, errOutage
	}
	return s.Store.SessionGet(ctx, id)
}

// TestEventsResyncRetriesFailedReads: the notifications of a profile change
// and of a logout are lost, and the resync that should find them meets a
// store that is still down. The pass is retried until the store answers,
// and the streams get what they missed.
func TestEventsResyncRetriesFailedReads(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		st := &outageStore{Store: s}
		// No Run: the notifications are "lost"; only the resync can deliver.
		b := setup(t, setupOpts{store: st, noRun: true})
		b.h.fanout.retryFirst, b.h.fanout.retryMax = time.Millisecond, 20*time.Millisecond
		alice := b.login("alice")
		bob := b.login("bob")
		esAlice := b.openEvents(alice.Credential, "1")
		esBob := b.openEvents(bob.Credential, "1")
		b.waitStreams(2)

		v := b.changeProfile("alice", "Missed")
		require.NoError(t, s.ProfileMarkServed(t.Context(), "alice", v, b.clock.Now()))
		_, err := s.SessionEnd(t.Context(), store.SessionEndParams{ID: hashSecret(bob.Credential), Reason: reasonBackchannel, At: b.clock.Now()})
		require.NoError(t, err)

		st.down.Store(true)
		b.h.fanout.resync(t.Context())
		// Each pass reads two sessions and two profiles; three passes prove
		// the retries.
		asynctest.Eventually(t, waitFor, "resync passes retried while the store is down", func() bool {
			return st.failed.Load() >= 12
		})
		select {
		case ev := <-esAlice.events:
			t.Fatalf("an event while the store is down: %+v", ev)
		default:
		}
		st.down.Store(false)

		require.Equal(t, "2", esAlice.next(t).id)
		ev := esBob.next(t)
		require.Equal(t, "logout", ev.name)
		require.JSONEq(t, `{"reason":"backchannel"}`, ev.data)
		asynctest.Eventually(t, waitFor, "the resync to finish", func() bool {
			b.h.fanout.resyncMu.Lock()
			defer b.h.fanout.resyncMu.Unlock()
			return !b.h.fanout.resyncRunning
		})
	})
}
