package pingpull

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("river ui " + r.URL.Path)) })
	b := setup(t, setupOpts{cfg: func(c *Config) { c.RiverUI = ui }})
	paths := []string{"/admin/api/users/u1/timeline", "/admin/api/deadletters", "/admin/jobs/", "/admin/jobs/queues"}
	for _, path := range paths {
		for _, bearer := range []string{"", "wrong", testAdmin + "x", strings.ToUpper(testAdmin)} {
			status, header, body := b.do(t, http.MethodGet, path, bearer)
			require.Equal(t, http.StatusUnauthorized, status, "%s with %q", path, bearer)
			require.Equal(t, "unauthorized", errorCode(t, body))
			require.Contains(t, header.Get("WWW-Authenticate"), "Bearer")
		}
		status, _, _ := b.do(t, http.MethodGet, path, testAdmin)
		require.Equal(t, http.StatusOK, status, path)
	}
	status, _, body := b.do(t, http.MethodGet, "/admin/jobs/queues", testAdmin)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "river ui /admin/jobs/queues", string(body))

	// Browsers use Basic authentication with the token as password.
	req, err := http.NewRequest(http.MethodGet, b.server.URL+"/admin/jobs/", nil)
	require.NoError(t, err)
	req.SetBasicAuth("admin", testAdmin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Replay refuses a bad id before looking anything up.
	status, _, body = b.do(t, http.MethodPost, "/admin/api/deadletters/abc/replay", testAdmin)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_field", errorCode(t, body))
}

func TestAdminNotMountedWithoutToken(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *Config) { c.AdminToken = "" }})
	status, _, _ := b.do(t, http.MethodGet, "/admin/api/deadletters", "")
	require.Equal(t, http.StatusNotFound, status)
}

func TestAdminTimeline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, name := range []string{"A", "B", "C"} {
		b.accept(t, webhookReq{body: profileBody("u1", name)})
	}
	status, _, body := b.do(t, http.MethodGet, "/admin/api/users/u1/timeline?limit=2", testAdmin)
	require.Equal(t, http.StatusOK, status, string(body))
	page := decodeJSON[TimelinePage](t, body)
	require.Equal(t, "u1", page.UserID)
	require.Len(t, page.Events, 2)
	require.Equal(t, "webhook.accepted", page.Events[0].Kind)
	require.JSONEq(t, `{"status":"queued","version":3,"webhook_id":"`+decodeJSON[map[string]any](t, page.Events[0].Detail)["webhook_id"].(string)+`"}`, string(page.Events[0].Detail))
	require.Greater(t, page.Events[0].ID, page.Events[1].ID, "newest first")
	require.True(t, page.Events[0].At.Equal(specEpoch), "injected clock")
	require.NotZero(t, page.NextBefore)

	status, _, body = b.do(t, http.MethodGet, "/admin/api/users/u1/timeline?limit=2&before="+strconv.FormatInt(page.NextBefore, 10), testAdmin)
	require.Equal(t, http.StatusOK, status)
	rest := decodeJSON[TimelinePage](t, body)
	require.Len(t, rest.Events, 1)
	require.Zero(t, rest.NextBefore)

	for _, path := range []string{"/admin/api/users/u1/timeline?limit=0", "/admin/api/users/u1/timeline?limit=x", "/admin/api/users/u1/timeline?before=-1", "/admin/api/users/a@b/timeline"} {
		status, _, body := b.do(t, http.MethodGet, path, testAdmin)
		require.Equal(t, http.StatusBadRequest, status, path)
		require.Equal(t, "invalid_field", errorCode(t, body))
	}
	status, _, body = b.do(t, http.MethodGet, "/admin/api/users/nobody/timeline", testAdmin)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, decodeJSON[TimelinePage](t, body).Events)
}

func TestAdminDeadLettersPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{realClock: true})
	// Three dead letters made by the worker (403 answers: the fast path's,
	// then each job's).
	b.hub.setScript(hubResponse{status: 403}, hubResponse{status: 403}, hubResponse{status: 403},
		hubResponse{status: 403}, hubResponse{status: 403}, hubResponse{status: 403})
	_, err := b.h.EnqueuePings(context.Background(), []string{"u1", "u2", "u3"})
	require.NoError(t, err)
	b.startJobs(t)
	waitFor(t, "three dead letters", func() bool { return len(b.pingJobs(t, rivertype.JobStateCancelled)) == 3 })
	status, _, body := b.do(t, http.MethodGet, "/admin/api/deadletters?limit=2", testAdmin)
	require.Equal(t, http.StatusOK, status, string(body))
	page := decodeJSON[DeadLetterPage](t, body)
	require.Len(t, page.DeadLetters, 2)
	require.NotEmpty(t, page.NextCursor)
	status, _, body = b.do(t, http.MethodGet, "/admin/api/deadletters?limit=2&after="+page.NextCursor, testAdmin)
	require.Equal(t, http.StatusOK, status, string(body))
	rest := decodeJSON[DeadLetterPage](t, body)
	require.Len(t, rest.DeadLetters, 1)
	seen := map[string]bool{}
	for _, d := range append(page.DeadLetters, rest.DeadLetters...) {
		seen[d.UserID] = true
	}
	require.Len(t, seen, 3)

	status, _, body = b.do(t, http.MethodGet, "/admin/api/deadletters?after=nonsense", testAdmin)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_field", errorCode(t, body))
}
