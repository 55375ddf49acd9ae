package livefyre

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPullURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ template, id, want string }{
		{"https://x.example/p?id={id}", "u-1", "https://x.example/p?id=u-1&lftoken=T"},
		{"https://x.example/users/{id}", "u.1", "https://x.example/users/u.1?lftoken=T"},
		{"https://x.example/users/{id}/profile?format=json", "u_1", "https://x.example/users/u_1/profile?format=json&lftoken=T"},
		{"https://x.example/p?", "u", "https://x.example/p?lftoken=T"},
		{"https://x.example/p?id={id}&", "u", "https://x.example/p?id=u&lftoken=T"},
		// Ids are checked before they get here; escaping still applies.
		{"https://x.example/u/{id}?id={id}", "a b/c", "https://x.example/u/a%20b%2Fc?id=a+b%2Fc&lftoken=T"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, PullURL(tc.template, tc.id, "T"), tc.template)
	}
	require.Equal(t, "https://x.example/p?id=u&lftoken=a.b%2Bc", PullURL("https://x.example/p?id={id}", "u", "a.b+c"))
}
