package postgres

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// TestTimelineFeedCommitOutOfOrder: identities come from a sequence, so a
// transaction that took ID N and commits after the one that took N+1
// leaves a hole a reader sees first and that fills later. TimelineAfter
// and TimelineLastID show N+1 without N; TimelineByIDs finds N once it
// committed.
func TestTimelineFeedCommitOutOfOrder(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	event := func(kind string) *store.TimelineEvent {
		return &store.TimelineEvent{UserID: "ann", Kind: kind, Detail: json.RawMessage(`{}`), At: time.Now()}
	}
	start, err := s.TimelineAppend(ctx, event("ping.requested"))
	require.NoError(t, err)

	// The earlier transaction takes its ID and waits.
	took := make(chan int64, 1)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			e, err := tx.TimelineAppend(ctx, event("ping.attempt"))
			if err != nil {
				return err
			}
			took <- e.ID
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var early int64
	select {
	case early = <-took:
	case err := <-done:
		require.NoError(t, err)
		t.Fatal("the earlier transaction ended before taking an id")
	}
	late, err := s.TimelineAppend(ctx, event("pull.served"))
	require.NoError(t, err)
	require.Greater(t, late.ID, early)

	got, err := s.TimelineAfter(ctx, store.TimelineAfterParams{After: start.ID})
	require.NoError(t, err)
	require.Equal(t, []int64{late.ID}, ids(got), "the later id is visible, the earlier not yet")
	last, err := s.TimelineLastID(ctx)
	require.NoError(t, err)
	require.Equal(t, late.ID, last)
	got, err = s.TimelineByIDs(ctx, []int64{early})
	require.NoError(t, err)
	require.Empty(t, got, "not committed yet")

	close(release)
	require.NoError(t, <-done)
	got, err = s.TimelineByIDs(ctx, []int64{early})
	require.NoError(t, err)
	require.Equal(t, []int64{early}, ids(got), "the hole filled")
	got, err = s.TimelineAfter(ctx, store.TimelineAfterParams{After: start.ID})
	require.NoError(t, err)
	require.Equal(t, []int64{early, late.ID}, ids(got))
}

func ids(es []*store.TimelineEvent) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}
