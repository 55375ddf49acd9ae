package e2e

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // reads the hub's database

	"github.com/ssogate/ssogate/internal/asynctest"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary builds ./cmd/ssogate once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "ssogate-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin, buildErr = Build(context.Background(), root, dir)
	})
	require.NoError(t, buildErr)
	return builtBin
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// process is a running ssogate server.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

func startProcess(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &process{t: t, cmd: cmd, done: make(chan struct{}), out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.signal(syscall.SIGKILL) })
	return p
}

func (p *process) signal(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("process did not exit on %v", sig)
	}
}

func waitReady(t *testing.T, url string, p *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", url, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready:\n%s", url, p.out.String())
}

// TestHubRestartMidQueue runs the gateway and the hub as separate processes
// on SQLite, kills the hub (SIGKILL) while pulls are running, restarts it
// on the same database, sends more changes, and checks the invariant once
// the system is quiet: every remote profile at the hub equals the gateway's
// latest.
//
// So that the kill is certain to land mid-pull, the hub pulls through a
// gate in this process (the gateway's public URL, proxying to the
// gateway): the gate holds the first round's pulls unanswered until the hub
// is dead. The test then reads the hub's database to prove that pulls were
// pending and leased to the dead process when it died, and that none is
// left pending once the restarted hub converged.
func TestHubRestartMidQueue(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := t.TempDir()
	gwPort, hubPort := freePort(t), freePort(t)
	gatewayURL := fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	hubURL := fmt.Sprintf("http://127.0.0.1:%d", hubPort)
	gate := newPullGate(t, gatewayURL)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("e2e-restart-secret-0123456789"))
	const network = "restart.fyre.co"
	common := []string{
		"SSOGATE_NETWORK_NAME=" + network,
		"SSOGATE_NETWORK_KEY=restart-network-key-0123",
		"SSOGATE_LOG_LEVEL=warn",
	}
	hubDB := filepath.Join(dir, "hub", "ssogate.db")
	hubEnv := append([]string{
		"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(hubPort),
		"SSOGATE_DATA_DIR=" + filepath.Dir(hubDB),
		"SSOGATE_ALLOW_PRIVATE_TARGETS=true",
	}, common...)
	hubProc := startProcess(t, bin, hubEnv, "hub")
	gw := startProcess(t, bin, append([]string{
		"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(gwPort),
		"SSOGATE_DATA_DIR=" + filepath.Join(dir, "gateway"),
		"SSOGATE_PUBLIC_URL=" + gate.srv.URL, // the hub pulls through the gate
		"SSOGATE_HUB_URL=" + hubURL,
		"SSOGATE_WEBHOOK_SECRETS=" + secret,
		"SSOGATE_WEBHOOK_RATE=-1",
	}, common...), "serve")
	defer func() {
		if t.Failed() {
			t.Logf("gateway:\n%s\nhub:\n%s", gw.out.String(), hubProc.out.String())
		}
	}()
	waitReady(t, hubURL, hubProc)
	waitReady(t, gatewayURL, gw)
	// The gateway registers its pull URL at start, retrying while the hub
	// is not up yet; a ping before that is answered 409 and spends a retry
	// of the ping schedule, so the changes wait for it.
	asynctest.Eventually(t, 30*time.Second, "the gateway's pull URL at the hub", func() bool {
		return hubPullURL(t, hubDB, network) == gate.srv.URL+"/pull?id={id}"
	})

	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	const users = 20
	latest := map[string]string{}
	change := func(round int) {
		for u := range users {
			id := fmt.Sprintf("user-%02d", u)
			name := fmt.Sprintf("User %d round %d", u, round)
			resp := postProfileChange(t, http.DefaultClient, wh, gatewayURL, id, name, fmt.Sprintf("msg_%d_%s", round, id))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			latest[id] = name
		}
	}

	gate.hold(true)
	change(1)
	// A pull has reached the gate and waits there: the hub is mid-pull. Its
	// HTTP timeout is 10s, so the kill comes well before it gives up.
	select {
	case <-gate.held:
	case <-time.After(30 * time.Second):
		t.Fatal("no pull reached the gate")
	}
	// Kill the hub mid-pull: no graceful shutdown, running pulls left as
	// they were.
	hubProc.signal(syscall.SIGKILL)
	gate.hold(false)

	// The hub's database as the kill left it: pulls pending (PingSeq ahead
	// of PulledSeq) and leased to the dead process, which was making them.
	stuck := hubPendingPulls(t, hubDB, network)
	require.NotEmpty(t, stuck, "no pull was pending when the hub was killed")
	leased := 0
	for _, until := range stuck {
		if until.After(time.Now()) {
			leased++
		}
	}
	require.Positive(t, leased, "no pending pull was leased to the killed hub")
	t.Logf("%d pulls were pending when the hub was killed, %d of them leased to it", len(stuck), leased)
	require.Positive(t, gate.heldCount(), "the gate held the running pulls")

	// Pings fail while the hub is down; each becomes a ping job, retried on
	// the schedule (at once, then 5 s later) until the restarted hub is up.
	change(2)
	hubProc = startProcess(t, bin, hubEnv, "hub")
	waitReady(t, hubURL, hubProc)
	restarted := time.Now()
	change(3)

	// Quiet: every remote profile equals the gateway's latest. The pulls the
	// dead process held are claimed by the restarted hub's sweeper once
	// their lease (3 s) ended.
	asynctest.Eventually(t, 2*time.Minute, "every remote profile to equal the gateway's latest", func() bool {
		got := remoteNames(t, hubDB, network)
		for id, want := range latest {
			if got[id] != want {
				return false
			}
		}
		return true
	})
	t.Logf("converged %v after the restarted hub was ready", time.Since(restarted).Round(time.Millisecond))
	// Pings that failed while the hub was down still arrive from their
	// retry jobs and are pulled in turn: the hub ends with none pending.
	asynctest.Eventually(t, time.Minute, "no pull left pending", func() bool {
		return len(hubPendingPulls(t, hubDB, network)) == 0
	})

	gw.signal(syscall.SIGTERM)
	hubProc.signal(syscall.SIGTERM)
	require.Equal(t, 0, gw.cmd.ProcessState.ExitCode())
	require.Equal(t, 0, hubProc.cmd.ProcessState.ExitCode())
}

// postProfileChange sends the signed profile-changed webhook that renames
// user id to name and returns the answer (its body closed).
func postProfileChange(t *testing.T, client *http.Client, wh *standardwebhooks.Webhook, base, id, name, msgID string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"user_id": id, "profile": map[string]any{"id": id, "display_name": name}})
	now := time.Now()
	sig, err := wh.Sign(msgID, now, body)
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, base+"/hooks/profile-changed", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", sig)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// pullGate proxies the hub's pulls to the gateway; while holding, it
// answers none of them and keeps each request open until the client (the
// hub) goes away.
type pullGate struct {
	srv  *httptest.Server
	held chan struct{}

	mu      sync.Mutex
	holding bool
	count   int
}

func newPullGate(t *testing.T, gatewayURL string) *pullGate {
	target, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	g := &pullGate{held: make(chan struct{}, 100)}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		holding := g.holding && r.URL.Path == "/pull"
		if holding {
			g.count++
		}
		g.mu.Unlock()
		if holding {
			select {
			case g.held <- struct{}{}:
			default:
			}
			<-r.Context().Done() // the hub died (or gave up)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *pullGate) hold(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.holding = on
}

func (g *pullGate) heldCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.count
}

// openHubDB opens the hub's SQLite database read-only, beside the running
// (or killed) hub; WAL mode lets it read while the hub writes.
func openHubDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// hubPendingPulls maps the users whose pull is pending at the hub (PingSeq
// ahead of PulledSeq) to their pull lease (zero when none).
func hubPendingPulls(t *testing.T, path, network string) map[string]time.Time {
	t.Helper()
	db := openHubDB(t, path)
	defer db.Close()
	rows, err := db.Query(`SELECT user_id, COALESCE(pull_lease_until, 0) FROM remote_profile
		WHERE network = ? AND ping_seq > pulled_seq`, network)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var us int64
		require.NoError(t, rows.Scan(&id, &us))
		out[id] = time.Time{}
		if us > 0 {
			out[id] = time.UnixMicro(us)
		}
	}
	require.NoError(t, rows.Err())
	return out
}

// hubPullURL is the pull URL template registered at the hub for network
// ("" when none).
func hubPullURL(t *testing.T, path, network string) string {
	t.Helper()
	db := openHubDB(t, path)
	defer db.Close()
	var template string
	err := db.QueryRow(`SELECT template FROM pull_url WHERE network = ?`, network).Scan(&template)
	if errors.Is(err, sql.ErrNoRows) {
		return ""
	}
	require.NoError(t, err)
	return template
}

// remoteNames reads the display names of the hub's remote profiles.
func remoteNames(t *testing.T, path, network string) map[string]string {
	t.Helper()
	db := openHubDB(t, path)
	defer db.Close()
	rows, err := db.Query(`SELECT user_id, display_name FROM remote_profile WHERE network = ? AND status = 'ok'`, network)
	require.NoError(t, err)
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var id, name string
		require.NoError(t, rows.Scan(&id, &name))
		names[id] = name
	}
	require.NoError(t, rows.Err())
	return names
}
