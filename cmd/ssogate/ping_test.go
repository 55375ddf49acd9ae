package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/sqlite"
)

func gatewayEnv(t *testing.T, hubURL string) (map[string]string, string) {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "gateway.db")
	return map[string]string{
		"SSOGATE_DATA_DIR":     dir,
		"SSOGATE_DATABASE_URL": "sqlite:" + db,
		"SSOGATE_NETWORK_NAME": "labs.fyre.co",
		"SSOGATE_NETWORK_KEY":  "labs-network-key-0123456789",
		"SSOGATE_PUBLIC_URL":   "https://sso.example.com",
		"SSOGATE_HUB_URL":      hubURL,
	}, db
}

// TestRunPing queues one ping per distinct user, from arguments and from
// standard input, and refuses ids that break the rule before queueing any.
func TestRunPing(t *testing.T) {
	t.Parallel()
	environ, db := gatewayEnv(t, "https://labs.quill.fyre.co")

	r := runCmd(t, environ, "", "ping", "alice", "bob")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "queued 2 pings (2 users)")

	r = runCmd(t, environ, "carol\n# a comment\n\ndave\nalice\n", "ping", "--stdin")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "queued 3 pings (3 users)")

	r = runCmd(t, environ, "", "ping", "eve", "bad@id")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, `"bad@id"`)

	r = runCmd(t, environ, "", "ping")
	require.Equal(t, 2, r.code)

	st, err := sqlite.Open(t.Context(), sqlite.Config{Path: db})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	// The pings wait in the outbox for a running gateway's sweeper.
	entries, err := st.PingOutboxClaim(t.Context(), store.PingOutboxClaimParams{
		Owner: "test", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 100,
	})
	require.NoError(t, err)
	users := map[string]bool{}
	for _, e := range entries {
		users[e.UserID] = true
	}
	// alice was pinged twice while her first ping waited: one entry.
	require.Equal(t, map[string]bool{"alice": true, "bob": true, "carol": true, "dave": true}, users)
	require.Len(t, entries, 4)
}

// TestRunRegister registers the pull URL at a hub once and reports the
// hub's refusal as a failure.
func TestRunRegister(t *testing.T) {
	t.Parallel()
	status := http.StatusNoContent
	var got string
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm.Get("pull_profile_url")
		w.WriteHeader(status)
	}))
	t.Cleanup(hub.Close)
	environ, _ := gatewayEnv(t, hub.URL)

	r := runCmd(t, environ, "", "register")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "https://sso.example.com/pull?id={id}", got)
	require.Contains(t, r.stdout, "registered the pull URL https://sso.example.com/pull?id={id}")

	status = http.StatusForbidden
	r = runCmd(t, environ, "", "register")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "403")
}
