package hub

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// TestRunPings: one batch gives each ping its own seq (one user's pings
// consecutive, in the batch's order) and the pull URL it was read with,
// and a failed run leaves no item of an earlier run behind.
func TestRunPings(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		b := setup(t, withStore(s))
		b.register("https://x.example/p?id={id}")
		require.Equal(t, 200, b.ping("u2").status)

		reqs := []*pingReq{
			{network: testNetwork, userID: "u1", displayName: "One", template: "t1"},
			{network: testNetwork, userID: "u1", template: "t1"},
			{network: testNetwork, userID: "u2", template: "t2"},
			{network: testNetwork, userID: "u1", template: "t1"},
		}
		require.NoError(t, s.InTx(b.ctx, func(ctx context.Context, tx store.Tx) error { return b.h.runPings(ctx, tx, reqs) }))
		require.Equal(t, []pullItem{
			{Network: testNetwork, UserID: "u1", Seq: 1, Template: "t1"},
			{Network: testNetwork, UserID: "u1", Seq: 2, Template: "t1"},
			{Network: testNetwork, UserID: "u2", Seq: 2, Template: "t2"},
			{Network: testNetwork, UserID: "u1", Seq: 3, Template: "t1"},
		}, []pullItem{reqs[0].item, reqs[1].item, reqs[2].item, reqs[3].item})
		require.EqualValues(t, 3, b.profile("u1").PingSeq)
		require.Equal(t, "One", b.profile("u1").DisplayName)
		require.EqualValues(t, 2, b.profile("u2").PingSeq)

		// A batch that fails (here: a ping without a user) keeps no seq of
		// the run before, and writes nothing.
		reqs = append(reqs, &pingReq{network: testNetwork})
		require.Error(t, s.InTx(b.ctx, func(ctx context.Context, tx store.Tx) error { return b.h.runPings(ctx, tx, reqs) }))
		for _, r := range reqs {
			require.Zero(t, r.item)
		}
		require.EqualValues(t, 3, b.profile("u1").PingSeq)
	})
}

// TestPingsConcurrent: pings arriving together share transactions, and
// every one counts once, with no batch falling back to one transaction
// per ping (concurrent batches over the same users must not deadlock).
func TestPingsConcurrent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		b := setup(t, withStore(s))
		b.register("https://x.example/p?id={id}")
		const users, each = 4, 16
		errs := make(chan error, users*each)
		var wg sync.WaitGroup
		for i := range users * each {
			wg.Go(func() { errs <- b.h.queuePull(b.ctx, testNetwork, fmt.Sprintf("u%d", i%users), "") })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		for u := range users {
			require.EqualValues(t, each, b.profile(fmt.Sprintf("u%d", u)).PingSeq)
		}
		b.requirePending(users)

		// Every ping committed in a batch the histogram saw: a batch that
		// failed and ran its pings alone would not be observed.
		families, err := b.reg.Gather()
		require.NoError(t, err)
		var committed float64
		for _, f := range families {
			if f.GetName() == "ssogate_hub_ping_tx_batch_size" {
				committed = f.GetMetric()[0].GetHistogram().GetSampleSum()
			}
		}
		require.InDelta(t, users*each, committed, 0)
	})
}
