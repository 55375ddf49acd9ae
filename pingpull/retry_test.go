package pingpull

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryDelaySchedule(t *testing.T) {
	t.Parallel()
	lowest := func(int64) int64 { return 0 }
	highest := func(n int64) int64 { return n - 1 }
	tests := []struct {
		attempt  int
		min, max time.Duration // max is exclusive
	}{
		{1, 0, time.Second},
		{2, 5 * time.Second, 6 * time.Second},
		{3, 5 * time.Minute, 5*time.Minute + 30*time.Second},
		{4, 30 * time.Minute, 33 * time.Minute},
		{5, 2 * time.Hour, 2*time.Hour + 12*time.Minute},
		{6, 5 * time.Hour, 5*time.Hour + 30*time.Minute},
		{7, 10 * time.Hour, 11 * time.Hour},
		{8, 14 * time.Hour, 14*time.Hour + 84*time.Minute},
		{9, 20 * time.Hour, 22 * time.Hour},
		{10, 24 * time.Hour, 24*time.Hour + 144*time.Minute},
		{11, 24 * time.Hour, 24*time.Hour + 144*time.Minute},
		{0, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("attempt %d", tt.attempt), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.min, retryDelay(StandardWebhooksSchedule, tt.attempt, lowest))
			hi := retryDelay(StandardWebhooksSchedule, tt.attempt, highest)
			require.GreaterOrEqual(t, hi, tt.min)
			require.Less(t, hi, tt.max)
		})
	}
}

func TestDefaultAttemptsCoverSchedule(t *testing.T) {
	t.Parallel()
	// Every retry of the schedule is used before a ping becomes a dead
	// letter: the first try plus one attempt per entry.
	require.GreaterOrEqual(t, DefaultPingMaxAttempts, len(StandardWebhooksSchedule)+1)
	var total time.Duration
	for _, d := range StandardWebhooksSchedule {
		total += d
	}
	require.Equal(t, 75*time.Hour+35*time.Minute+5*time.Second, total)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"Wed, 01 May 2024 10:05:00 GMT", 5 * time.Minute},
		{"Wed, 01 May 2024 09:00:00 GMT", 0},
		{"soon", 0},
		{"999999999999", maxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, parseRetryAfter(tt.in, now))
		})
	}
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
