package pingpull

import (
	"context"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// TestPingJobForUndeliverableIDIsDeadLettered: a ping job queued for "."
// before the id rule refused it is dead-lettered at once, without a
// request, instead of being retried for days.
func TestPingJobForUndeliverableIDIsDeadLettered(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{realClock: true})
	ctx := context.Background()
	require.Error(t, b.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return b.h.EnqueuePingTx(ctx, tx, "..")
	}), "new jobs for such ids are refused")
	require.NoError(t, b.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.JobInsert(ctx, PingArgs{UserID: "."}, b.h.pingInsertOpts())
		return err
	}))
	b.startJobs(t)
	waitFor(t, "the ping job is cancelled", func() bool {
		return len(b.pingJobs(t, rivertype.JobStateCancelled)) == 1
	})
	require.Equal(t, 1, b.pingJobs(t, rivertype.JobStateCancelled)[0].Attempt, "no retry")
	require.Empty(t, b.hub.received())
	require.Contains(t, b.timelineKinds(t, "."), "ping.dead_letter")
}
