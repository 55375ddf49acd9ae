package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// feedBundle is a delivery on a real store with a clock the test moves.
type feedBundle struct {
	st  store.Store
	now time.Time
	d   *delivery
}

// setupFeed starts following users from the store's newest event, as
// ssogate ping does before it queues.
func setupFeed(t *testing.T, st store.Store, users ...string) *feedBundle {
	t.Helper()
	from, err := st.TimelineLastID(t.Context())
	require.NoError(t, err)
	b := &feedBundle{st: st, now: time.Unix(1_800_000_000, 0)}
	b.d = newDelivery(st, users, from, func() time.Time { return b.now })
	return b
}

// ev is an event of kind for user (a ping.attempt's result in result).
func ev(user, kind, result string) *store.TimelineEvent {
	detail := json.RawMessage(`{}`)
	if result != "" {
		detail = json.RawMessage(`{"result":"` + result + `"}`)
	}
	return &store.TimelineEvent{UserID: user, Kind: kind, Detail: detail, At: time.Now()}
}

func (b *feedBundle) append(t *testing.T, events ...*store.TimelineEvent) {
	t.Helper()
	require.NoError(t, b.st.TimelineAppendMany(t.Context(), events))
}

func (b *feedBundle) poll(t *testing.T) deliveryCounts {
	t.Helper()
	require.NoError(t, b.d.poll(t.Context()))
	return b.d.counts()
}

// TestDeliveryReadsTimelineForward: the follower reads every user's events
// in one forward read per poll, ignoring other users and what came before
// it started, and counts each stage.
func TestDeliveryReadsTimelineForward(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		// An earlier sync of ann's, before this one started: not delivery.
		require.NoError(t, st.TimelineAppendMany(t.Context(), []*store.TimelineEvent{
			ev("ann", "ping.requested", ""), ev("ann", "ping.attempt", "ok"), ev("ann", "pull.served", ""),
		}))
		b := setupFeed(t, st, "ann", "bob", "cy", "dee")
		require.Equal(t, deliveryCounts{Queued: 4}, b.poll(t))

		b.append(t,
			ev("ann", "ping.requested", ""), ev("bob", "ping.requested", ""), ev("cy", "ping.requested", ""), ev("dee", "ping.requested", ""),
			ev("zed", "ping.requested", ""), ev("zed", "ping.attempt", "ok"), ev("zed", "pull.served", ""),
			ev("ann", "webhook.accepted", ""),
			ev("ann", "ping.attempt", "retry"), ev("bob", "ping.attempt", "coalesced"), ev("cy", "pull.served", ""),
		)
		require.Equal(t, deliveryCounts{Queued: 4, Pinged: 1}, b.poll(t), "a retry is not pinged; a pull without its ping is not pulled")

		b.append(t,
			ev("ann", "ping.attempt", "ok"), ev("cy", "ping.attempt", "ok"), ev("bob", "pull.not_found", ""),
			ev("dee", "ping.attempt", "dead_letter"), ev("dee", "ping.dead_letter", ""),
		)
		require.Equal(t, deliveryCounts{Queued: 4, Pinged: 3, Pulled: 2, NotFound: 1, Failed: 1}, b.poll(t))

		b.append(t, ev("ann", "pull.served", ""))
		c := b.poll(t)
		require.Equal(t, deliveryCounts{Queued: 4, Pinged: 3, Pulled: 3, NotFound: 1, Failed: 1}, c)
		require.Equal(t, 4, c.Done())
		require.Empty(t, b.d.gaps, "the other kinds' IDs were found again at once")
	})
}

// TestDeliveryFallbackReadsPendingUsers: what the forward read cannot see
// (here a ping.requested older than where it started) is found by reading
// the pending users' own timelines once the timeline brought no progress
// for deliveryFallbackAfter.
func TestDeliveryFallbackReadsPendingUsers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		require.NoError(t, st.TimelineAppendMany(t.Context(), []*store.TimelineEvent{ev("ann", "ping.requested", "")}))
		b := setupFeed(t, st, "ann", "bob")
		b.append(t, ev("bob", "ping.requested", ""), ev("ann", "ping.attempt", "ok"), ev("ann", "pull.served", ""),
			ev("bob", "ping.attempt", "ok"), ev("bob", "pull.served", ""))
		require.Equal(t, deliveryCounts{Queued: 2, Pinged: 1, Pulled: 1}, b.poll(t), "ann's request is before the start")

		b.now = b.now.Add(deliveryFallbackAfter - time.Millisecond)
		require.Equal(t, deliveryCounts{Queued: 2, Pinged: 1, Pulled: 1}, b.poll(t), "not quiet long enough")
		b.now = b.now.Add(time.Millisecond)
		require.Equal(t, deliveryCounts{Queued: 2, Pinged: 2, Pulled: 2}, b.poll(t), "the fallback read ann's timeline")
	})
}

// holdOpen appends event in a transaction that stays open until the
// returned function is called (which commits it and returns its error):
// on PostgreSQL its ID is taken now and becomes visible at the commit.
func holdOpen(t *testing.T, st store.Store, event *store.TimelineEvent) (id int64, commit func() error) {
	t.Helper()
	took := make(chan int64, 1)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.InTx(context.WithoutCancel(t.Context()), func(ctx context.Context, tx store.Tx) error {
			e, err := tx.TimelineAppend(ctx, event)
			if err != nil {
				return err
			}
			took <- e.ID
			<-release
			return nil
		})
	}()
	select {
	case id = <-took:
	case err := <-done:
		require.NoError(t, err)
		require.FailNow(t, "the transaction ended before it appended")
	}
	var released bool
	commit = func() error {
		if !released {
			released = true
			close(release)
		}
		return <-done
	}
	t.Cleanup(func() {
		if !released {
			_ = commit()
		}
	})
	return id, commit
}

// pullBeforeAttempt queues ann's ping on PostgreSQL, then holds her ping
// attempt's transaction open (ID N) while her pull (N+1) commits; commit
// ends the held transaction.
func pullBeforeAttempt(t *testing.T) (b *feedBundle, attempt int64, commit func() error) {
	t.Helper()
	st := testdb.Postgres(t)
	b = setupFeed(t, st, "ann")
	b.append(t, ev("ann", "ping.requested", ""))
	attempt, commit = holdOpen(t, st, ev("ann", "ping.attempt", "ok"))
	b.append(t, ev("ann", "pull.served", ""))
	return b, attempt, commit
}

// TestDeliveryPostgresCommitOutOfOrder: ann's ping attempt takes ID N in a
// transaction that commits after her pull (N+1). The follower reads the
// pull first, remembers N and finds the attempt when it commits.
func TestDeliveryPostgresCommitOutOfOrder(t *testing.T) {
	t.Parallel()
	b, attempt, commit := pullBeforeAttempt(t)

	require.Equal(t, deliveryCounts{Queued: 1}, b.poll(t), "the pull alone is not delivery")
	require.Contains(t, b.d.gaps, attempt)
	b.now = b.now.Add(deliveryGapWait - time.Millisecond)
	require.Equal(t, deliveryCounts{Queued: 1}, b.poll(t))
	require.Contains(t, b.d.gaps, attempt, "still looked for")

	require.NoError(t, commit())
	require.Equal(t, deliveryCounts{Queued: 1, Pinged: 1, Pulled: 1}, b.poll(t), "the attempt, read again by ID")
	require.Empty(t, b.d.gaps)
}

// TestDeliveryPostgresGapGivenUp: a skipped ID still missing after
// deliveryGapWait is no longer looked for; the fallback then finds what
// its event says.
func TestDeliveryPostgresGapGivenUp(t *testing.T) {
	t.Parallel()
	b, attempt, commit := pullBeforeAttempt(t)
	require.Equal(t, deliveryCounts{Queued: 1}, b.poll(t))

	b.now = b.now.Add(deliveryGapWait)
	require.Equal(t, deliveryCounts{Queued: 1}, b.poll(t))
	require.NotContains(t, b.d.gaps, attempt, "given up")
	require.NoError(t, commit())
	require.Equal(t, deliveryCounts{Queued: 1}, b.poll(t), "the forward read is past it")

	b.now = b.now.Add(deliveryFallbackAfter)
	require.Equal(t, deliveryCounts{Queued: 1, Pinged: 1, Pulled: 1}, b.poll(t), "the fallback read ann's timeline")
}
