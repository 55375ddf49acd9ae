package hub

import (
	"net/http"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// TestUserPage: the users page links each user to a page with the remote
// profile and the pull history, read from River's jobs with one query that
// both backends run.
func TestUserPage(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		b := setup(t, withJobs(), withPrivate(), withStore(s))
		ep := newEndpoint(t, b.codec)
		ep.set("bob", bobProfile)
		// The fast path's pull fails: a River job takes it over and
		// succeeds, so bob has one pull job to list.
		ep.then(status(http.StatusServiceUnavailable))
		b.register(ep.template())
		b.ping("bob")
		b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })
		b.waitJob(rivertype.JobStateCompleted)
		b.touch("carol", "Carol")

		list := b.do(http.MethodGet, "/users", "", "", adminHeader)
		require.Equal(t, http.StatusOK, list.status)
		require.Contains(t, list.body, `href="/users/test.fyre.co/bob"`)

		page := b.do(http.MethodGet, "/users/test.fyre.co/bob", "", "", adminHeader)
		require.Equal(t, http.StatusOK, page.status, page.body)
		require.Equal(t, "text/html; charset=utf-8", page.header.Get("Content-Type"))
		require.Equal(t, "DENY", page.header.Get("X-Frame-Options"))
		require.Contains(t, page.body, "Bob Dole")
		require.Contains(t, page.body, "&#34;display_name&#34;: &#34;Bob Dole&#34;", "the pulled profile, indented")
		require.Equal(t, 1, strings.Count(page.body, "data-job-id="), "the one pull job of bob: %s", page.body)
		require.Contains(t, page.body, `class="state-completed"`)

		// carol was seen but never pinged: no pull, no profile yet.
		page = b.do(http.MethodGet, "/users/test.fyre.co/carol", "", "", adminHeader)
		require.Equal(t, http.StatusOK, page.status, page.body)
		require.Contains(t, page.body, "Not pulled yet.")
		require.Contains(t, page.body, "No pull jobs kept for this user.")

		for path, want := range map[string]int{
			"/users/test.fyre.co/nobody": http.StatusNotFound,
			"/users/nope.fyre.co/bob":    http.StatusNotFound,
			"/users/test.fyre.co/a%20b":  http.StatusBadRequest,
		} {
			resp := b.do(http.MethodGet, path, "", "", adminHeader)
			require.Equal(t, want, resp.status, path)
			require.NotEmpty(t, resp.errorCode(t), path)
		}
		resp := b.do(http.MethodGet, "/users/test.fyre.co/bob", "", "", nil)
		require.Equal(t, http.StatusUnauthorized, resp.status, "the page is an admin page")
	})
}
