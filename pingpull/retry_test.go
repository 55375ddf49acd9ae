package pingpull

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
)

func TestDefaultAttemptsCoverSchedule(t *testing.T) {
	t.Parallel()
	// Every retry of the schedule is used before a ping becomes a dead
	// letter: the first try plus one attempt per entry.
	require.GreaterOrEqual(t, DefaultPingMaxAttempts, len(livefyre.StandardWebhooksSchedule)+1)
	var total time.Duration
	for _, d := range livefyre.StandardWebhooksSchedule {
		total += d
	}
	require.Equal(t, 75*time.Hour+35*time.Minute+5*time.Second, total)
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	b := newTokenBucket(2, 3, func() time.Time { return now })
	for range 3 {
		ok, _ := b.take()
		require.True(t, ok)
	}
	ok, wait := b.take()
	require.False(t, ok)
	require.Equal(t, time.Second, wait)

	now = now.Add(500 * time.Millisecond) // one token back
	ok, _ = b.take()
	require.True(t, ok)
	ok, _ = b.take()
	require.False(t, ok)

	now = now.Add(time.Hour) // refills to the burst, no more
	for range 3 {
		ok, _ = b.take()
		require.True(t, ok)
	}
	ok, _ = b.take()
	require.False(t, ok)

	slow := newTokenBucket(0.1, 1, func() time.Time { return now })
	ok, _ = slow.take()
	require.True(t, ok)
	ok, wait = slow.take()
	require.False(t, ok)
	require.Equal(t, 10*time.Second, wait)

	var unlimited *tokenBucket = newTokenBucket(-1, 0, time.Now)
	ok, _ = unlimited.take()
	require.True(t, ok)
}
