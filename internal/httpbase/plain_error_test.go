package httpbase

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServerPreHandlerErrorsAreJSON checks issue 11's item 16 with a raw
// TCP client: what net/http answers before any handler runs (oversized
// header, malformed request line, …) comes as a JSON error with the same
// status, and ordinary responses on the same server are untouched.
func TestServerPreHandlerErrorsAreJSON(t *testing.T) {
	t.Parallel()

	ln := listen(t)
	srv, err := NewServer(ServerConfig{
		Listener: ln,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// An ordinary plain-text answer; it must pass through unchanged.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "hello")
		}),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-runErr)
	})
	addr := ln.Addr().String()

	// send writes raw on a fresh connection and reads one response.
	send := func(t *testing.T, raw string) (*http.Response, string) {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = io.WriteString(c, raw)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	// 64 KiB is the limit; net/http reads 4 KiB more before it refuses.
	big := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n"
	tests := []struct {
		name    string
		raw     string
		status  int
		code    string
		message string
	}{
		{"header too large", big, http.StatusRequestHeaderFieldsTooLarge, "header_too_large", "request line and header fields are too large"},
		{"malformed request line", "GARBAGE\r\n\r\n", http.StatusBadRequest, "bad_request", "malformed HTTP request"},
		{"request line with spaces", "GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusBadRequest, "bad_request", "malformed HTTP request"},
		{"missing Host", "GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest, "bad_request", "missing required Host header"},
		{"malformed header line", "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", http.StatusBadRequest, "bad_request", "malformed HTTP request"},
		{"unknown HTTP version", "GET / HTTP/2.7\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported, "http_version_not_supported", "unsupported protocol version"},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented, "not_implemented", "unsupported transfer encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := send(t, tt.raw)
			require.Equal(t, tt.status, resp.StatusCode, body)
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.True(t, resp.Close, "net/http still closes the connection")
			var eb ErrorBody
			require.NoError(t, json.Unmarshal([]byte(body), &eb), body)
			require.Equal(t, ErrorDetail{Code: tt.code, Message: tt.message}, eb.Error)
		})
	}

	t.Run("ordinary responses untouched", func(t *testing.T) {
		t.Parallel()
		resp, body := send(t, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Equal(t, "hello", body)
	})

	t.Run("after a keep-alive request", func(t *testing.T) {
		t.Parallel()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		r := bufio.NewReader(c)
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(r, nil)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, "hello", string(b))
		_, err = io.WriteString(c, "GARBAGE\r\n\r\n")
		require.NoError(t, err)
		resp, err = http.ReadResponse(r, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	})
}

// TestJSONFromGoError checks the recogniser on what it must leave alone.
func TestJSONFromGoError(t *testing.T) {
	t.Parallel()

	for name, p := range map[string]string{
		"ordinary response": "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nDate: x\r\n\r\n400 Bad Request",
		"body differs":      "HTTP/1.1 400 Bad Request" + goErrorHeaders + "something else",
		"body continues":    "HTTP/1.1 400 Bad Request" + goErrorHeaders + "400 Bad Request and more",
		"not an error":      "HTTP/1.1 200 OK" + goErrorHeaders + "200 OK",
		"HTTP/1.0":          "HTTP/1.0 400 Bad Request" + goErrorHeaders + "400 Bad Request",
		"body only":         "400 Bad Request",
		"short status":      "HTTP/1.1 40\r\n",
	} {
		_, ok := jsonFromGoError([]byte(p))
		require.False(t, ok, name)
	}
	got, ok := jsonFromGoError([]byte("HTTP/1.1 400 Bad Request: invalid header name" + goErrorHeaders + "400 Bad Request: invalid header name"))
	require.True(t, ok)
	require.Contains(t, string(got), `{"error":{"code":"bad_request","message":"invalid header name"}}`)
}
