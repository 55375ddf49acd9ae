package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":{"code":"unavailable","message":"shutting down"}}`, http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/healthz", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only when the client gives up
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	// A port that was just free and is closed again: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String() + "/healthz"
	require.NoError(t, l.Close())

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "healthy", args: []string{"--url", srv.URL + "/healthz"}, code: 0, stdout: "ssogate: healthy (200 OK)"},
		{name: "503", args: []string{"--url", srv.URL + "/down"}, code: 1, stderr: "answered 503 Service Unavailable"},
		{name: "404", args: []string{"--url", srv.URL + "/nope"}, code: 1, stderr: "answered 404 Not Found"},
		{name: "redirect is not followed", args: []string{"--url", srv.URL + "/moved"}, code: 1, stderr: "answered 302 Found"},
		{name: "refused", args: []string{"--url", closed}, code: 1, stderr: "ssogate: unhealthy:"},
		{name: "timeout", args: []string{"--url", srv.URL + "/hang", "--timeout", "50ms"}, code: 1, stderr: "deadline exceeded"},
		{name: "help", args: []string{"-h"}, code: 0, stderr: "Usage: ssogate healthcheck"},
		{name: "unknown flag", args: []string{"--nope"}, code: 2, stderr: "flag provided but not defined: -nope"},
		{name: "argument", args: []string{"extra"}, code: 2, stderr: "takes no arguments"},
		{name: "relative URL", args: []string{"--url", "/healthz"}, code: 2, stderr: "not an absolute http(s) URL"},
		{name: "other scheme", args: []string{"--url", "file:///etc/passwd"}, code: 2, stderr: "not an absolute http(s) URL"},
		{name: "malformed URL", args: []string{"--url", "http://[::1"}, code: 2, stderr: "not an absolute http(s) URL"},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, code: 2, stderr: "--timeout must be positive"},
		{name: "bad timeout", args: []string{"--timeout", "soon"}, code: 2, stderr: "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runHealthcheck(tt.args, &stdout, &stderr)
			require.Equal(t, tt.code, code, stderr.String())
			if tt.stdout != "" {
				require.Contains(t, stdout.String(), tt.stdout)
			}
			if tt.stderr != "" {
				require.Contains(t, stderr.String(), tt.stderr)
			}
		})
	}
}

// TestHealthcheckCommand runs the command table's healthcheck, so the
// image's HEALTHCHECK (ssogate healthcheck …) cannot lose its command.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	r := runCmd(t, nil, "", "healthcheck", "--url", srv.URL)
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "answered 503")
	r = runCmd(t, nil, "", "help")
	require.Contains(t, r.stdout, "healthcheck")
}

// TestBinaryHealthcheck probes a real `ssogate serve` with the built binary,
// as the image's HEALTHCHECK does: healthy while it runs, unhealthy once it
// has stopped.
func TestBinaryHealthcheck(t *testing.T) {
	t.Parallel()
	logs := newLogWatcher()
	cmd := exec.Command(binary(t), "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnviron("SSOGATE_LISTEN=127.0.0.1:0")
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	exited := make(chan int, 1)
	go func() { exited <- exitCodeOf(cmd) }()
	url := "http://" + logs.waitListening(t, exited) + "/healthz"

	out, err := exec.Command(binary(t), "healthcheck", "--url", url).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "ssogate: healthy (200 OK)")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, <-exited, logs.String())

	probe := exec.Command(binary(t), "healthcheck", "--url", url)
	out, _ = probe.CombinedOutput()
	require.Equal(t, 1, probe.ProcessState.ExitCode(), string(out))
	require.Contains(t, string(out), "ssogate: unhealthy:")
}
