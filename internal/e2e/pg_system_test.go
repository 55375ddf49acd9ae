package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/devidp"
	"github.com/ssogate/ssogate/internal/pgtemp"
)

// pgSystem is two gateway replicas and a hub, as separate processes, on a
// private PostgreSQL (one database each for the gateways and the hub). Both
// replicas publish replica 1's URL, so the hub pulls from replica 1.
type pgSystem struct {
	t       *testing.T
	pg      *pgtemp.Server
	network string
	gwDB    string
	hubDB   string

	gw1URL, gw2URL, hubURL string
	gw1, gw2, hub          *process

	wh     *standardwebhooks.Webhook
	client *http.Client

	// idpURL and site are set with pgSystemConfig.auth: the provider the
	// gateways sign readers in at, and the site origin they allow.
	idpURL string
	site   string
}

type pgSystemConfig struct {
	// name distinguishes the network, keys and secrets of one test.
	name string
	// auth turns the gateways' browser side on, with a development OpenID
	// provider in this process (users alice and bob).
	auth bool
}

// startPGSystem starts the system and waits until the hub knows replica 1's
// pull URL. The processes are killed at cleanup; their output is logged
// when the test failed.
func startPGSystem(t *testing.T, cfg pgSystemConfig) *pgSystem {
	t.Helper()
	bin := binary(t)
	s := &pgSystem{t: t, pg: pgtemp.Start(t), network: cfg.name + ".fyre.co", client: &http.Client{Timeout: 10 * time.Second}}
	s.gwDB, s.hubDB = s.pg.CreateDB("gateway"), s.pg.CreateDB("hub")
	gw1Port, gw2Port, hubPort := freePort(t), freePort(t), freePort(t)
	s.gw1URL = fmt.Sprintf("http://127.0.0.1:%d", gw1Port)
	s.gw2URL = fmt.Sprintf("http://127.0.0.1:%d", gw2Port)
	s.hubURL = fmt.Sprintf("http://127.0.0.1:%d", hubPort)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("e2e-"+cfg.name+"-secret-0123456789"))
	var err error
	s.wh, err = standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	common := []string{
		"SSOGATE_NETWORK_NAME=" + s.network,
		"SSOGATE_NETWORK_KEY=" + cfg.name + "-network-key-0123",
		"SSOGATE_LOG_LEVEL=warn",
	}
	gwEnv := []string{
		"SSOGATE_DATABASE_URL=" + s.gwDB,
		"SSOGATE_PUBLIC_URL=" + s.gw1URL,
		"SSOGATE_HUB_URL=" + s.hubURL,
		"SSOGATE_WEBHOOK_SECRETS=" + secret,
		"SSOGATE_WEBHOOK_RATE=-1",
	}
	if cfg.auth {
		s.site = "http://localhost:8123"
		var idpHandler http.Handler
		idpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idpHandler.ServeHTTP(w, r) }))
		t.Cleanup(idpSrv.Close)
		s.idpURL = idpSrv.URL
		idp, err := devidp.New(devidp.Config{
			Issuer: idpSrv.URL, AllowInsecure: true, Users: devidp.DemoUsers(),
			Clients: []devidp.Client{{ID: "gateway", Secret: "gateway-secret", RedirectURIs: []string{s.gw1URL + "/callback"}}},
		})
		require.NoError(t, err)
		idpHandler = idp.Handler()
		gwEnv = append(gwEnv,
			"SSOGATE_AUTH_ISSUER_URL="+idpSrv.URL,
			"SSOGATE_AUTH_CLIENT_ID=gateway",
			"SSOGATE_AUTH_CLIENT_SECRET=gateway-secret",
			"SSOGATE_AUTH_SESSION_KEY="+base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
			"SSOGATE_AUTH_ALLOWED_ORIGINS="+s.site,
		)
	}
	s.hub = startProcess(t, bin, append([]string{
		"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(hubPort),
		"SSOGATE_DATA_DIR=" + t.TempDir(),
		"SSOGATE_DATABASE_URL=" + s.hubDB,
		"SSOGATE_ALLOW_PRIVATE_TARGETS=true",
	}, common...), "hub")
	gateway := func(port int) *process {
		return startProcess(t, bin, append(append([]string{
			"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(port),
			"SSOGATE_DATA_DIR=" + t.TempDir(),
		}, gwEnv...), common...), "serve")
	}
	waitReady(t, s.hubURL, s.hub)
	s.gw1 = gateway(gw1Port)
	waitReady(t, s.gw1URL, s.gw1)
	s.gw2 = gateway(gw2Port)
	waitReady(t, s.gw2URL, s.gw2)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway 1:\n%s\ngateway 2:\n%s\nhub:\n%s", s.gw1.out.String(), s.gw2.out.String(), s.hub.out.String())
		}
	})
	asynctest.Eventually(t, 30*time.Second, "the gateway's pull URL at the hub", func() bool {
		var template string
		err := scanRow(t, s.hubDB, []any{&template}, `SELECT template FROM hub_pull_url WHERE network = $1`, s.network)
		return err == nil && template == s.gw1URL+"/pull?id={id}"
	})
	return s
}

// send posts the signed webhook that renames user id to name at base.
func (s *pgSystem) send(base, id, name, msgID string) *http.Response {
	s.t.Helper()
	return postProfileChange(s.t, s.client, s.wh, base, id, name, msgID)
}

// readyz is the answer of base's /readyz (0 when it does not answer).
func (s *pgSystem) readyz(base string) int {
	resp, err := s.client.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scanRow runs one single-row query on database dbURL, on a connection of
// its own, and scans the row into dest.
func scanRow(t *testing.T, dbURL string, dest []any, sql string, args ...any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	return conn.QueryRow(ctx, sql, args...).Scan(dest...)
}

// remote reads the display names of the hub's remote profiles.
func (s *pgSystem) remote() map[string]string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.hubDB)
	require.NoError(s.t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	rows, err := conn.Query(ctx,
		`SELECT user_id, display_name FROM hub_remote_profile WHERE network = $1 AND status = 'ok'`, s.network)
	require.NoError(s.t, err)
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		require.NoError(s.t, rows.Scan(&id, &name))
		out[id] = name
	}
	require.NoError(s.t, rows.Err())
	return out
}
