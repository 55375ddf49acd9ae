package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// testVersion is stamped into the test binary with -ldflags.
const testVersion = "v0.0.0-bintest"

var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	// Every service serve starts is joined before it returns: no
	// goroutine may outlive the tests.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds ssogate once per test process.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ssogate-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "ssogate")
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version="+testVersion, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New("go build: " + err.Error() + "\n" + string(out))
	}
	return bin, nil
})

// binary returns the built binary's path.
func binary(t *testing.T) string {
	t.Helper()
	bin, err := buildBinary()
	require.NoError(t, err)
	return bin
}

// cleanEnviron is the test's environment without SSOGATE_ variables, plus
// extra.
func cleanEnviron(extra ...string) []string {
	var environ []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSOGATE_") {
			environ = append(environ, kv)
		}
	}
	return append(environ, extra...)
}

// exitCodeOf waits for cmd and returns its exit code (-1 when it could not
// be waited for or was killed by a signal).
func exitCodeOf(cmd *exec.Cmd) int {
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestBinaryServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		signal  syscall.Signal
		secrets []string
	}{
		{
			// No config file: only the listen address (port 0, since 8080
			// may be taken on a shared machine).
			name:    "no config, SIGTERM",
			environ: []string{"SSOGATE_LISTEN=127.0.0.1:0"},
			signal:  syscall.SIGTERM,
		},
		{
			name: "secrets at debug level, SIGINT",
			environ: []string{
				"SSOGATE_LISTEN=127.0.0.1:0",
				"SSOGATE_LOG_LEVEL=debug",
				"SSOGATE_ADMIN_TOKEN=SECRET-admin-0123456789",
				"SSOGATE_NETWORK_NAME=labs.fyre.co",
				"SSOGATE_NETWORK_KEY=SECRET-network-key",
				"SSOGATE_AUTH_SESSION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
				// The gateway's Ping for Pull side runs (its registration at
				// an absent hub fails and is retried): its logs must not leak
				// the secrets either.
				"SSOGATE_PUBLIC_URL=http://127.0.0.1:1",
				"SSOGATE_HUB_URL=http://127.0.0.1:1",
				"SSOGATE_WEBHOOK_SECRETS=whsec_U0VDUkVULXdlYmhvb2stc2VjcmV0LTAxMjM=",
			},
			signal:  syscall.SIGINT,
			secrets: []string{"SECRET", "AAECAwQF", "U0VDUkVU"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			logs := newLogWatcher()
			cmd := exec.Command(binary(t), "serve")
			cmd.Dir = dir
			cmd.Env = cleanEnviron(tt.environ...)
			cmd.Stderr = logs
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			exited := make(chan int, 1)
			go func() { exited <- exitCodeOf(cmd) }()
			addr := logs.waitListening(t, exited)
			base := "http://" + addr

			resp, body := httpGet(t, base+"/healthz")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.JSONEq(t, `{"status":"ok"}`, body)

			resp, body = httpGet(t, base+"/readyz")
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			require.JSONEq(t, `{"status":"ready","checks":{"database":"ok","migrations":"ok"}}`, body)

			resp, body = httpGet(t, base+"/nope?lftoken=SECRET-in-query")
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			require.JSONEq(t, `{"error":{"code":"not_found","message":"no such page"}}`, body)
			require.NotEmpty(t, resp.Header.Get("X-Request-Id"))

			resp, body = httpGet(t, base+"/metrics")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, body, "go_goroutines ")
			require.Contains(t, body, "process_resident_memory_bytes ")
			require.Contains(t, body, `ssogate_http_requests_total{code="200",method="GET",route="/readyz"} 1`)

			require.NoError(t, cmd.Process.Signal(tt.signal))
			require.Equal(t, 0, <-exited, logs.String())

			require.FileExists(t, filepath.Join(dir, "ssogate-data", "ssogate.db"))
			var msgs []string
			for _, line := range logs.lines(t) {
				msgs = append(msgs, line["msg"].(string))
			}
			require.Contains(t, msgs, "starting")
			require.Contains(t, msgs, "database ready")
			require.Contains(t, msgs, "shutting down")
			require.Contains(t, msgs, "http server stopped")
			require.NotContains(t, logs.String(), "SECRET-in-query")
			for _, s := range tt.secrets {
				require.NotContains(t, logs.String(), s)
			}
			if tt.secrets != nil {
				require.Contains(t, logs.String(), "REDACTED", "the debug dump shows which secrets are set")
			}
		})
	}
}

func TestBinaryBadConfigExits2(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ssogate.yaml")
	require.NoError(t, os.WriteFile(path, []byte(threeMistakes), 0o600))

	cmd := exec.Command(binary(t), "serve", "--config", path)
	cmd.Dir = dir
	cmd.Env = cleanEnviron()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	require.Equal(t, 2, exitCodeOf(cmd))
	require.Equal(t, "ssogate: invalid configuration:\n"+
		"  - "+path+":2: unknown key lisen\n"+
		"  - "+path+":4: gateway.webhook_rate: not a number\n"+
		"  - log_level: \"loud\" is not debug, info, warn or error\n", stderr.String())
	require.NoDirExists(t, filepath.Join(dir, "ssogate-data"), "nothing starts on a bad configuration")
}

func TestBinaryVersion(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary(t), "version").Output()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(out), "ssogate "+testVersion+" (go"), string(out))
}
