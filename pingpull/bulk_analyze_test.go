package pingpull

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// analyzeCounter is a real store that counts PingOutboxAnalyze calls.
type analyzeCounter struct {
	store.Store
	calls atomic.Int32
}

func (s *analyzeCounter) PingOutboxAnalyze(ctx context.Context) error {
	s.calls.Add(1)
	return s.Store.PingOutboxAnalyze(ctx)
}

// TestBulkQueueAnalyzesTheOutbox: a bulk queue refreshes the outbox's
// planner statistics at analyzeFirst entries and again each time the
// count doubled, on both backends (where ANALYZE must succeed).
func TestBulkQueueAnalyzesTheOutbox(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		counted := &analyzeCounter{Store: s}
		b := setup(t, setupOpts{store: counted})
		ids := func(from, n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("bulk%05d", from+i)
			}
			return out
		}
		ctx := context.Background()
		_, err := b.h.EnqueuePings(ctx, ids(0, analyzeFirst-1))
		require.NoError(t, err)
		require.Zero(t, counted.calls.Load(), "below the first threshold")
		_, err = b.h.EnqueuePings(ctx, ids(analyzeFirst, 1))
		require.NoError(t, err)
		require.EqualValues(t, 1, counted.calls.Load(), "at the first threshold")
		_, err = b.h.EnqueuePings(ctx, ids(analyzeFirst+1, analyzeFirst-1))
		require.NoError(t, err)
		require.EqualValues(t, 1, counted.calls.Load(), "not yet doubled")
		_, err = b.h.EnqueuePings(ctx, ids(2*analyzeFirst, 1))
		require.NoError(t, err)
		require.EqualValues(t, 2, counted.calls.Load(), "doubled")
		require.Equal(t, 2*analyzeFirst, b.outbox(t))
	})
}
