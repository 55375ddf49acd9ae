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

func TestRequestShapes(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/api/v3_0/user/u.1/refresh", UserActionPath("u.1", ActionRefresh))
	require.Equal(t, "/api/v3_0/user/a%20b/logout", UserActionPath("a b", ActionLogout))
	require.Equal(t, []string{"/api/v3_0/user/{id}/refresh", "/api/v3.0/user/{id}/refresh"},
		[]string{UserActionRoute(APIVersions[0], ActionRefresh), UserActionRoute(APIVersions[1], ActionRefresh)})
	require.Equal(t, "actor_token=T&pull_profile_url=https%3A%2F%2Fg.example%2Fpull%3Fid%3D%7Bid%7D",
		RegisterForm("T", PullURLTemplate("https://g.example")).Encode())
	require.Equal(t, "https://g.example/pull?id=u&lftoken=T", PullURL(PullURLTemplate("https://g.example"), "u", "T"))
}
