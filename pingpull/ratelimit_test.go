package pingpull

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClientKey(t *testing.T) {
	t.Parallel()
	cases := []struct{ remote, want string }{
		{"192.0.2.7:5000", "192.0.2.7/32"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7/32"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"192.0.2.7", "192.0.2.7/32"},
	}
	for _, tc := range cases {
		require.Equal(t, netip.MustParsePrefix(tc.want), clientKey(tc.remote), tc.remote)
	}
	require.Equal(t, netip.Prefix{}, clientKey("not an address"))
}

// TestClientBucketsBounded: the buckets of at most maxFailureClients
// clients are kept; the least recently failing one is forgotten first.
func TestClientBucketsBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_400_000_000, 0)
	c := newClientBuckets(0, 1, func() time.Time { return now })
	first := "10.0.0.1:1"
	ok, _ := c.take(first)
	require.True(t, ok)
	ok, wait := c.take(first)
	require.False(t, ok)
	require.Equal(t, time.Minute, wait, "a zero rate never refills")
	for i := range maxFailureClients {
		ok, _ := c.take(fmt.Sprintf("[2001:db8:%x::1]:1", i))
		require.True(t, ok)
	}
	require.Equal(t, maxFailureClients, c.lru.Len())
	ok, _ = c.take(first)
	require.True(t, ok, "the oldest client was forgotten")

	require.Nil(t, newClientBuckets(-1, 1, time.Now))
	ok, _ = (*clientBuckets)(nil).take(first)
	require.True(t, ok, "no limit")
}
