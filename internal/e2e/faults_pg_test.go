package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/pgtemp"
)

// TestPostgresFaults runs two gateway replicas and a hub on a private
// PostgreSQL and, between rounds of signed webhooks, kills one replica
// with SIGKILL and then the database itself. Every accepted change must
// reach the hub; while the database is down the webhook answers 503 with
// Retry-After (never 202) and /readyz 503, and both come back without a
// process restart.
func TestPostgresFaults(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	pg := pgtemp.Start(t)
	gwDB, hubDB := pg.CreateDB("gateway"), pg.CreateDB("hub")
	gw1Port, gw2Port, hubPort := freePort(t), freePort(t), freePort(t)
	gw1URL := fmt.Sprintf("http://127.0.0.1:%d", gw1Port)
	gw2URL := fmt.Sprintf("http://127.0.0.1:%d", gw2Port)
	hubURL := fmt.Sprintf("http://127.0.0.1:%d", hubPort)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("e2e-pgfaults-secret-0123456789"))
	const network = "pgfaults.fyre.co"
	common := []string{
		"SSOGATE_NETWORK_NAME=" + network,
		"SSOGATE_NETWORK_KEY=pgfaults-network-key-0123",
		"SSOGATE_LOG_LEVEL=warn",
	}
	hub := startProcess(t, bin, append([]string{
		"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(hubPort),
		"SSOGATE_DATA_DIR=" + t.TempDir(),
		"SSOGATE_DATABASE_URL=" + hubDB,
		"SSOGATE_ALLOW_PRIVATE_TARGETS=true",
	}, common...), "hub")
	gateway := func(port int, public string) *process {
		return startProcess(t, bin, append([]string{
			"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(port),
			"SSOGATE_DATA_DIR=" + t.TempDir(),
			"SSOGATE_DATABASE_URL=" + gwDB,
			"SSOGATE_PUBLIC_URL=" + public, // the hub pulls from replica 1
			"SSOGATE_HUB_URL=" + hubURL,
			"SSOGATE_WEBHOOK_SECRETS=" + secret,
			"SSOGATE_WEBHOOK_RATE=-1",
		}, common...), "serve")
	}
	waitReady(t, hubURL, hub)
	gw1 := gateway(gw1Port, gw1URL)
	waitReady(t, gw1URL, gw1)
	gw2 := gateway(gw2Port, gw1URL)
	waitReady(t, gw2URL, gw2)
	defer func() {
		if t.Failed() {
			t.Logf("gateway 1:\n%s\ngateway 2:\n%s\nhub:\n%s", gw1.out.String(), gw2.out.String(), hub.out.String())
		}
	}()
	hubConn := func() *pgx.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, hubDB)
		require.NoError(t, err)
		return conn
	}
	remote := func() map[string]string {
		conn := hubConn()
		defer func() { _ = conn.Close(context.Background()) }()
		rows, err := conn.Query(context.Background(),
			`SELECT user_id, display_name FROM hub_remote_profile WHERE network = $1 AND status = 'ok'`, network)
		require.NoError(t, err)
		out := map[string]string{}
		for rows.Next() {
			var id, name string
			require.NoError(t, rows.Scan(&id, &name))
			out[id] = name
		}
		require.NoError(t, rows.Err())
		return out
	}
	asynctest.Eventually(t, 30*time.Second, "the gateway's pull URL at the hub", func() bool {
		conn := hubConn()
		defer func() { _ = conn.Close(context.Background()) }()
		var template string
		err := conn.QueryRow(context.Background(), `SELECT template FROM hub_pull_url WHERE network = $1`, network).Scan(&template)
		return err == nil && template == gw1URL+"/pull?id={id}"
	})

	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(base, id, name, msgID string) *http.Response {
		return postProfileChange(t, client, wh, base, id, name, msgID)
	}
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
			got := remote()
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
	readyz := func() int {
		resp, err := client.Get(gw1URL + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
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

	gw1.signal(syscall.SIGTERM)
	hub.signal(syscall.SIGTERM)
	require.Equal(t, 0, gw1.cmd.ProcessState.ExitCode())
	require.Equal(t, 0, hub.cmd.ProcessState.ExitCode())
}

// outboxLen counts the gateway's pings not yet delivered.
func outboxLen(t *testing.T, dbURL string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM ping_outbox`).Scan(&n))
	return n
}
