package pingpull

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func (b *testBundle) gauge(t *testing.T, name string) (float64, bool) {
	t.Helper()
	families, err := b.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestPingQueueOldest: the gauge is 0 with no ping waiting, and then the
// age of the oldest change waiting in the outbox, on the injected clock.
func TestPingQueueOldest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	age, ok := b.gauge(t, "ssogate_gateway_ping_queue_oldest_seconds")
	require.True(t, ok, "the gauge is exported before any ping")
	require.Zero(t, age)

	_, err := b.h.EnqueuePings(context.Background(), []string{"u1"})
	require.NoError(t, err)
	created := time.Now()
	_, err = b.h.EnqueuePings(context.Background(), []string{"u2"})
	require.NoError(t, err)
	// The outbox is stamped with the database's (real) clock; put the
	// injected one an hour after the inserts.
	b.clock.Advance(created.Add(time.Hour).Sub(b.clock.Now()))
	age, _ = b.gauge(t, "ssogate_gateway_ping_queue_oldest_seconds")
	require.InDelta(t, time.Hour.Seconds(), age, 30)
}
