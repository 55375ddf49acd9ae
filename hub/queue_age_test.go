package hub

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPullQueueOldest: the gauge is 0 with no pull waiting, and then the
// age of the oldest unfinished pull job, on the injected clock.
func TestPullQueueOldest(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	b := setup(t, withConfig(func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	}))
	require.Zero(t, b.metric("ssogate_hub_pull_queue_oldest_seconds", ""))

	b.register("https://x.example/p?id={id}")
	require.Equal(t, http.StatusOK, b.ping("u1").status)
	require.Equal(t, http.StatusOK, b.ping("u2").status)
	// River stamps jobs with the real clock; the hub's is two hours ahead.
	offset.Store(int64(2 * time.Hour))
	require.InDelta(t, (2 * time.Hour).Seconds(), b.metric("ssogate_hub_pull_queue_oldest_seconds", ""), 30)
}
