package httpbase

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

func TestServerGracefulShutdown(t *testing.T) {
	t.Parallel()

	started := make(chan struct{})
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}

	// The handler holds its request until shutdown has begun, then answers:
	// the request is in flight when the server stops accepting.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-Draining(r.Context())
		record("request answered")
		_, _ = w.Write([]byte("done"))
	})
	ln := listen(t)
	srv, err := NewServer(ServerConfig{
		Listener: ln,
		Handler:  handler,
		OnShutdown: []func(context.Context) error{func(ctx context.Context) error {
			// Run's goroutine: record, and assert on the test's.
			if _, ok := ctx.Deadline(); ok {
				record("hook")
			} else {
				record("hook without deadline")
			}
			return nil
		}},
	})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()

	respc := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			respc <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		respc <- string(body)
	}()
	<-started
	cancel()

	require.Equal(t, "done", <-respc)
	require.NoError(t, <-runErr)
	require.Equal(t, []string{"request answered", "hook"}, events)

	// No longer accepting.
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err)
}

func TestServerCutsOffStuckRequests(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ln := listen(t)
	hookRan := false
	srv, err := NewServer(ServerConfig{
		Listener:        ln,
		ShutdownTimeout: 300 * time.Millisecond,
		Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			close(started)
			<-release
		}),
		OnShutdown: []func(context.Context) error{func(context.Context) error {
			hookRan = true
			return errors.New("river would not stop")
		}},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	err = <-runErr
	require.ErrorContains(t, err, "httpbase: shutdown hook: river would not stop")
	require.True(t, hookRan)
}

func TestServerListenError(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	t.Cleanup(func() { ln.Close() })
	hookRan := false
	srv, err := NewServer(ServerConfig{
		Addr:    ln.Addr().String(), // taken
		Handler: http.NotFoundHandler(),
		OnShutdown: []func(context.Context) error{func(context.Context) error {
			hookRan = true
			return nil
		}},
	})
	require.NoError(t, err)
	err = srv.Run(t.Context())
	require.ErrorContains(t, err, "httpbase: listen:")
	require.True(t, hookRan, "hooks run even when the server never served")
}

func TestNewServerValidate(t *testing.T) {
	t.Parallel()
	_, err := NewServer(ServerConfig{ReadTimeout: -1})
	require.ErrorContains(t, err, "Handler is required")
	require.ErrorContains(t, err, "needs Addr or Listener")
	require.ErrorContains(t, err, "must not be negative")
}

func TestDrainingOutsideServer(t *testing.T) {
	t.Parallel()
	require.Nil(t, Draining(context.Background()))
}
