package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
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
// on SQLite, sends profile changes, kills the hub (SIGKILL) while pulls are
// queued and pings in flight, restarts it on the same database, sends more
// changes, and checks the invariant once the system is quiet: every remote
// profile at the hub equals the gateway's latest.
func TestHubRestartMidQueue(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := t.TempDir()
	gwPort, hubPort := freePort(t), freePort(t)
	gatewayURL := fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	hubURL := fmt.Sprintf("http://127.0.0.1:%d", hubPort)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("e2e-restart-secret-0123456789"))
	common := []string{
		"SSOGATE_NETWORK_NAME=restart.fyre.co",
		"SSOGATE_NETWORK_KEY=restart-network-key-0123",
		"SSOGATE_LOG_LEVEL=warn",
	}
	hubEnv := append([]string{
		"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(hubPort),
		"SSOGATE_DATA_DIR=" + filepath.Join(dir, "hub"),
		"SSOGATE_ALLOW_PRIVATE_TARGETS=true",
		"SSOGATE_ADMIN_TOKEN=" + restartAdminToken, // the users API below
	}, common...)
	hubProc := startProcess(t, bin, hubEnv, "hub")
	gw := startProcess(t, bin, append([]string{
		"SSOGATE_LISTEN=127.0.0.1:" + fmt.Sprint(gwPort),
		"SSOGATE_DATA_DIR=" + filepath.Join(dir, "gateway"),
		"SSOGATE_PUBLIC_URL=" + gatewayURL,
		"SSOGATE_HUB_URL=" + hubURL,
		"SSOGATE_WEBHOOK_SECRETS=" + secret,
		"SSOGATE_WEBHOOK_RATE=-1",
	}, common...), "serve")
	waitReady(t, hubURL, hubProc)
	waitReady(t, gatewayURL, gw)

	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	const users = 20
	latest := map[string]string{}
	change := func(round int) {
		for u := range users {
			id := fmt.Sprintf("user-%02d", u)
			name := fmt.Sprintf("User %d round %d", u, round)
			body, _ := json.Marshal(map[string]any{"user_id": id, "profile": map[string]any{"id": id, "display_name": name}})
			msgID := fmt.Sprintf("msg_%d_%s", round, id)
			now := time.Now()
			sig, err := wh.Sign(msgID, now, body)
			require.NoError(t, err)
			req, _ := http.NewRequest(http.MethodPost, gatewayURL+"/hooks/profile-changed", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("webhook-id", msgID)
			req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
			req.Header.Set("webhook-signature", sig)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			latest[id] = name
		}
	}

	change(1)
	change(2)
	// Kill the hub with work queued: no graceful shutdown, running pulls
	// left as they were.
	hubProc.signal(syscall.SIGKILL)
	change(3) // pings fail while the hub is down and are retried
	hubProc = startProcess(t, bin, hubEnv, "hub")
	waitReady(t, hubURL, hubProc)
	change(4)

	// Quiet: every remote profile equals the gateway's latest. Pings that
	// failed while the hub was down retry on the schedule (the second retry
	// is 5s after the first) and a pull killed mid-flight is rescued.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var wrong []string
		for id, want := range latest {
			got := remoteName(t, hubURL, "restart.fyre.co", id)
			if got != want {
				wrong = append(wrong, fmt.Sprintf("%s: %q want %q", id, got, want))
			}
		}
		if len(wrong) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged:\n%s\ngateway:\n%s\nhub:\n%s", strings.Join(wrong, "\n"), gw.out.String(), hubProc.out.String())
		}
		time.Sleep(100 * time.Millisecond) // polling the hub's state, not timing anything
	}
	gw.signal(syscall.SIGTERM)
	hubProc.signal(syscall.SIGTERM)
	require.Equal(t, 0, gw.cmd.ProcessState.ExitCode())
	require.Equal(t, 0, hubProc.cmd.ProcessState.ExitCode())
}

// restartAdminToken opens the hub's users API.
const restartAdminToken = "restart-admin-token-0123456789"

func remoteName(t *testing.T, hubURL, network, id string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, hubURL+"/api/networks/"+network+"/users/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+restartAdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	var p struct {
		DisplayName string `json:"display_name"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	return p.DisplayName
}
