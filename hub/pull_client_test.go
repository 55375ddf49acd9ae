package hub

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckPublicSpecialPurpose: one address in each special-purpose range
// that netip's predicates miss is refused, and public neighbours of the
// ranges pass.
func TestCheckPublicSpecialPurpose(t *testing.T) {
	t.Parallel()
	refused := []struct{ name, addr string }{
		{"IPv4-compatible ::/96 (loopback)", "::127.0.0.1"},
		{"IPv4-compatible ::/96 (public)", "::8.8.8.8"},
		{"IPv4-mapped ::ffff:0:0/96 (public)", "::ffff:8.8.8.8"},
		{"IPv4-mapped ::ffff:0:0/96 (metadata)", "::ffff:169.254.169.254"},
		{"Teredo 2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2"},
		{"Teredo 2001::/32 (last)", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"site-local fec0::/10", "fec0::1"},
		{"site-local fec0::/10 (last)", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"6to4 relay 192.88.99.0/24", "192.88.99.1"},
		{"6to4 relay 192.88.99.0/24 (last)", "192.88.99.255"},
		{"ORCHID 2001:10::/28", "2001:10::1"},
		{"ORCHID 2001:10::/28 (last)", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"ORCHIDv2 2001:20::/28", "2001:20::1"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, checkPublic(netip.MustParseAddr(tc.addr)), ErrPrivateTarget, tc.addr)
		})
	}
	for _, s := range []string{"192.88.98.255", "192.88.100.1", "2001:4860:4860::8888", "2001:1::1", "2001:30::1", "fe00::1", "2600::1"} {
		require.NoError(t, checkPublic(netip.MustParseAddr(s)), s)
	}
}
