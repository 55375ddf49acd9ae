package pingpull

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// TestLogoutJobHubWithoutLogout: a hub without ssogate's logout extension
// (Livefyre's; the test hub answers 404) completes the job, once, without
// retrying, and says so in the metrics and the timeline.
func TestLogoutJobHubWithoutLogout(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{realClock: true})
	b.startJobs(t)
	ctx := context.Background()
	require.NoError(t, b.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return b.h.EnqueueLogoutTx(ctx, tx, "u1")
	}))
	require.Eventually(t, func() bool {
		res, err := b.store.Jobs().JobList(ctx, river.NewJobListParams().Kinds(logoutKind).States(rivertype.JobStateCompleted))
		return err == nil && len(res.Jobs) == 1 && res.Jobs[0].Attempt == 1
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, 1.0, metricValue(t, b.h.metrics.logouts.WithLabelValues("unsupported")))
	require.Contains(t, b.timelineKinds(t, "u1"), "hub_logout.attempt")
	require.Empty(t, b.hub.pings, "a logout is no ping")
}

func TestEnqueueLogoutRefusesBadIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{"", "a b", "system", "System"} {
		err := b.store.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
			return b.h.EnqueueLogoutTx(ctx, tx, id)
		})
		require.ErrorIs(t, err, livefyre.ErrInvalidProfile, id)
	}
}
