package livefyre

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
			require.Equal(t, tt.min, JitteredDelay(StandardWebhooksSchedule, tt.attempt, lowest))
			hi := JitteredDelay(StandardWebhooksSchedule, tt.attempt, highest)
			require.GreaterOrEqual(t, hi, tt.min)
			require.Less(t, hi, tt.max)
		})
	}
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
		{"999999999999", MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			d, _ := ParseRetryAfter(tt.in, now)
			require.Equal(t, tt.want, d)
		})
	}
}

func TestParseRetryAfterOK(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]bool{"": false, "soon": false, "-1": false, "0": true, "120": true,
		"Wed, 01 May 2024 09:00:00 GMT": true} {
		_, ok := ParseRetryAfter(in, now)
		require.Equal(t, want, ok, in)
	}
	d, ok := ParseRetryAfter("999999999999", now)
	require.True(t, ok)
	require.Equal(t, 48*time.Hour, d)
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	s := []time.Duration{time.Second, time.Minute}
	require.Equal(t, time.Second, Backoff(s, 0))
	require.Equal(t, time.Second, Backoff(s, 1))
	require.Equal(t, time.Minute, Backoff(s, 2))
	require.Equal(t, time.Minute, Backoff(s, 9))
}
