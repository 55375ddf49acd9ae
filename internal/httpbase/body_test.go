package httpbase

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClassifyBodyError(t *testing.T) {
	t.Parallel()
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"over the limit", &http.MaxBytesError{Limit: 10}, 413, "body_too_large"},
		{"over the limit, wrapped", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, "body_too_large"},
		{"declared over the limit", ErrBodyTooLarge, 413, "body_too_large"},
		{"read deadline", timeout, 408, "request_timeout"},
		{"deadline, bare", os.ErrDeadlineExceeded, 408, "request_timeout"},
		{"hung up", io.ErrUnexpectedEOF, 400, "unreadable_body"},
		{"broken chunking", errors.New("invalid byte in chunk length"), 400, "unreadable_body"},
	}
	for _, tc := range tests {
		be := ClassifyBodyError(tc.err)
		require.NotNil(t, be, tc.name)
		require.Equal(t, tc.status, be.Status, tc.name)
		require.Equal(t, tc.code, be.Code, tc.name)
		require.NotEmpty(t, be.Message, tc.name)
		require.ErrorIs(t, be, tc.err, tc.name)
		require.Same(t, be, ClassifyBodyError(fmt.Errorf("again: %w", be)), tc.name)
	}
	require.Nil(t, ClassifyBodyError(nil))
}

// slowBody sends a request whose body never finishes to url (host:port)
// and returns the status line and body of the answer.
func slowBody(t *testing.T, addr, path string) (string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	// The test fails rather than hangs if the server never answers.
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nlftoken=abc", path, addr)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.Status, string(body)
}

// TestReadBodySlowClient: a client that stops sending its body before the
// server's ReadTimeout gets a JSON 408, read from a real loopback
// connection.
func TestReadBodySlowClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := ReadBody(w, r, 4096); err != nil {
			be := ClassifyBodyError(err)
			WriteError(w, be.Status, be.Code, be.Message)
			return
		}
		WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}))
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	status, body := slowBody(t, srv.Listener.Addr().String(), "/")
	require.Equal(t, "408 Request Timeout", status)
	var e ErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	require.Equal(t, "request_timeout", e.Error.Code)
	require.True(t, strings.Contains(e.Error.Message, "in time"), e.Error.Message)
}

// TestRouterSkipsClean: paths with dot segments reach the routes as sent
// (a bad id gets its JSON answer) instead of a 301 to a cleaned path.
func TestRouterSkipsClean(t *testing.T) {
	t.Parallel()
	b := setupRouter(t)
	for _, path := range []string{"/things/..", "/things/."} {
		resp, body := b.do(t, http.MethodGet, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.JSONEq(t, `{"ok":"yes"}`, body, path)
	}
	for _, path := range []string{"/x/../healthz", "//healthz", "/things/a/../b"} {
		resp, body := b.do(t, http.MethodGet, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), path)
		require.Contains(t, body, `"not_found"`, path)
	}
}
