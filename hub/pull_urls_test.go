package hub

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPingReadsRegistration: pings read the pull URL from a short cache,
// which never hides a registration: not one that is missing (no "none"
// is cached), not a change on this replica (it forgets its copy), and a
// change on another replica within the cache's second.
func TestPingReadsRegistration(t *testing.T) {
	t.Parallel()
	b := setup(t, withJobs(), withPrivate())
	first, second, third := newEndpoint(t, b.codec), newEndpoint(t, b.codec), newEndpoint(t, b.codec)
	for _, e := range []*endpoint{first, second, third} {
		e.set("u1", `{"id":"u1","display_name":"U One"}`)
	}
	require.Equal(t, http.StatusConflict, b.ping("u1").status, "no pull URL yet")

	b.register(first.template())
	require.Equal(t, http.StatusOK, b.ping("u1").status, "the first registration counts at once")
	b.eventually(func() bool { return first.calls.Load() == 1 }, "pulled from the first URL")

	b.register(second.template())
	require.Equal(t, http.StatusOK, b.ping("u1").status)
	b.eventually(func() bool { return second.calls.Load() == 1 }, "pulled from the second URL")
	require.EqualValues(t, 1, first.calls.Load(), "not from the first any more")

	// Another replica on the same store takes a new registration.
	other := setup(t, withStore(b.store))
	other.register(third.template())
	b.eventually(func() bool {
		require.Equal(t, http.StatusOK, b.ping("u1").status)
		return third.calls.Load() > 0
	}, "this replica's pings reach the URL registered on the other")
}
