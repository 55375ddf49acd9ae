package e2e

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
)

// TestPostgresFaults runs two gateway replicas and a hub on a private
// PostgreSQL and, between rounds of signed webhooks, kills one replica
// with SIGKILL and then the database itself. Every accepted change must
// reach the hub; while the database is down the webhook answers 503 with
// Retry-After (never 202) and /readyz 503, and both come back without a
// process restart.
func TestPostgresFaults(t *testing.T) {
	t.Parallel()
	sys := startPGSystem(t, pgSystemConfig{name: "pgfaults"})
	pg, gwDB := sys.pg, sys.gwDB
	gw1URL, gw2URL := sys.gw1URL, sys.gw2URL
	gw2, hub := sys.gw2, sys.hub
	send := sys.send
	const users = 20
	latest := map[string]string{}
	round := func(base string, n int) {
		for u := range users {
			id := fmt.Sprintf("user-%02d", u)
			name := fmt.Sprintf("User %d round %d", u, n)
			resp := send(base, id, name, fmt.Sprintf("msg_%d_%s", n, id))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			latest[id] = name
		}
	}
	converged := func(what string) {
		asynctest.Eventually(t, time.Minute, what, func() bool {
			got := sys.remote()
			for id, want := range latest {
				if got[id] != want {
					return false
				}
			}
			return true
		})
	}

	// Changes taken by replica 2, pulled from replica 1.
	round(gw2URL, 1)
	converged("round 1 (webhooks on replica 2, pulls from replica 1) at the hub")

	// Replica 2 dies holding the pings of a round: the hub is paused
	// (SIGSTOP), so replica 2's pings hang and their outbox rows stay
	// leased to it; once the leases (3 s) end, replica 1 sweeps them.
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGSTOP))
	round(gw2URL, 2)
	held := outboxLen(t, gwDB)
	require.Positive(t, held, "replica 2 held no pings when it was killed")
	gw2.signal(syscall.SIGKILL)
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGCONT))
	killed := time.Now()
	t.Logf("replica 2 killed holding %d pings", held)
	converged("round 2, taken by the killed replica, at the hub")
	t.Logf("replica killed -> converged in %v", time.Since(killed).Round(time.Millisecond))

	// The database dies: webhooks answer 503 with Retry-After, /readyz 503.
	pg.Kill()
	asynctest.Eventually(t, 30*time.Second, "a webhook answered 503 while PostgreSQL is down", func() bool {
		resp := send(gw1URL, "user-00", "Never stored", fmt.Sprintf("msg_down_%d", time.Now().UnixNano()))
		require.NotEqual(t, http.StatusAccepted, resp.StatusCode, "202 for a change that could not be stored")
		return resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""
	})
	readyz := func() int { return sys.readyz(gw1URL) }
	asynctest.Eventually(t, 30*time.Second, "/readyz 503 while PostgreSQL is down", func() bool {
		return readyz() == http.StatusServiceUnavailable
	})
	pg.Restart()
	back := time.Now()
	asynctest.Eventually(t, time.Minute, "/readyz 200 after PostgreSQL is back", func() bool {
		return readyz() == http.StatusOK
	})
	t.Logf("PostgreSQL back -> /readyz 200 in %v", time.Since(back).Round(time.Millisecond))
	round(gw1URL, 3)
	converged("round 3, after the database restart, at the hub")
	t.Logf("PostgreSQL back -> round 3 converged in %v", time.Since(back).Round(time.Millisecond))

	sys.gw1.signal(syscall.SIGTERM)
	hub.signal(syscall.SIGTERM)
	require.Equal(t, 0, sys.gw1.cmd.ProcessState.ExitCode())
	require.Equal(t, 0, hub.cmd.ProcessState.ExitCode())
}

// outboxLen counts the gateway's pings not yet delivered.
func outboxLen(t *testing.T, dbURL string) int {
	t.Helper()
	var n int
	require.NoError(t, scanRow(t, dbURL, []any{&n}, `SELECT count(*) FROM ping_outbox`))
	return n
}
