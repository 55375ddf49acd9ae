package httpbase

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEventStream(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream, ok := StartEventStream(w, time.Second, 1500*time.Millisecond, "test stream")
		if !ok {
			return
		}
		stream.Write("event: ping\ndata: {\"n\":1}\n\n")
	}))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.Equal(t, "retry: 1500\n: test stream\n\nevent: ping\ndata: {\"n\":1}\n", strings.Join(lines, "\n"))
}

// detachServer serves event streams that its handler detaches at once and
// hands over on the returned channel; configure, when set, adjusts the
// server before it starts.
func detachServer(t *testing.T, comment string, configure func(*http.Server)) (*httptest.Server, <-chan *DetachedEventStream) {
	t.Helper()
	detached := make(chan *DetachedEventStream, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream, ok := StartEventStream(w, time.Second, time.Second, comment)
		if !ok {
			t.Error("the client is gone before the stream started")
			return
		}
		d, err := stream.Detach(r)
		if err != nil {
			t.Errorf("detach: %v", err)
			return
		}
		detached <- d
	}))
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, detached
}

// takeDetached waits for the handler to hand its stream over.
func takeDetached(t *testing.T, detached <-chan *DetachedEventStream) *DetachedEventStream {
	t.Helper()
	select {
	case d := <-detached:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not detach")
		return nil
	}
}

// TestEventStreamDetach: a detached stream writes chunks the client reads
// as the same response, ends it cleanly on Close, and can tell a client
// that went away.
func TestEventStreamDetach(t *testing.T) {
	t.Parallel()
	srv, detached := detachServer(t, "detached", nil)
	open := func() (*http.Response, *bufio.Reader, *DetachedEventStream) {
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		require.Equal(t, []string{"chunked"}, resp.TransferEncoding)
		return resp, bufio.NewReader(resp.Body), takeDetached(t, detached)
	}
	resp, body, d := open()
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	require.NoError(t, d.Write("event: one\ndata: {}\n\n"))
	require.NoError(t, d.Write(": comment\n\n"))
	require.False(t, d.PeerClosed())
	require.NoError(t, d.Close(time.Now().Add(time.Second)))
	all, err := io.ReadAll(body)
	require.NoError(t, err, "the response ends with its last chunk")
	require.Equal(t, "retry: 1000\n: detached\n\nevent: one\ndata: {}\n\n: comment\n\n", string(all))
	require.Error(t, d.Write(": late\n\n"))

	// A client that closes its connection is seen without a write.
	resp, _, d = open()
	require.False(t, d.PeerClosed())
	require.NoError(t, resp.Body.Close())
	require.Eventually(t, d.PeerClosed, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, d.Close(time.Now()))

	// Interrupt fails writes at once.
	_, _, d = open()
	d.Interrupt()
	require.ErrorIs(t, d.Write(": x\n\n"), net.ErrClosed)
	require.NoError(t, d.Close(time.Now()))
}

// TestEventStreamDetachHTTP10: an HTTP/1.0 client reads to the end of the
// connection; no chunks.
func TestEventStreamDetachHTTP10(t *testing.T) {
	t.Parallel()
	srv, detached := detachServer(t, "old", nil)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	d := takeDetached(t, detached)
	require.NoError(t, d.Write("event: one\ndata: {}\n\n"))
	require.NoError(t, d.Close(time.Now().Add(time.Second)))
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	raw, err := io.ReadAll(conn)
	require.NoError(t, err)
	_, body, ok := strings.Cut(string(raw), "\r\n\r\n")
	require.True(t, ok)
	require.Equal(t, "retry: 1000\n: old\n\nevent: one\ndata: {}\n\n", body)
}

// TestEventStreamDetachHTTP2: HTTP/2 streams stay the server's.
func TestEventStreamDetachHTTP2(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream, ok := StartEventStream(w, time.Second, time.Second, "h2")
		if !ok {
			t.Error("the client is gone before the stream started")
			return
		}
		_, err := stream.Detach(r)
		if !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("detach over HTTP/2: %v", err)
		}
		stream.Write("event: attached\ndata: {}\n\n")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 2, resp.ProtoMajor)
	all, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(all), "event: attached")
}

// TestEventStreamDetachOutlivesReadTimeout: the server's read deadline,
// set before the handler ran, does not blind PeerClosed once it passed.
func TestEventStreamDetachOutlivesReadTimeout(t *testing.T) {
	t.Parallel()
	const readTimeout = 200 * time.Millisecond
	srv, detached := detachServer(t, "long", func(s *http.Server) { s.ReadTimeout = readTimeout })
	start := time.Now()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	d := takeDetached(t, detached)
	t.Cleanup(func() { _ = d.Close(time.Now()) })
	// Past the server's read deadline, the stream is still open and
	// healthy, and a client leaving is still seen.
	require.Eventually(t, func() bool { return time.Since(start) > 2*readTimeout }, 10*time.Second, 10*time.Millisecond)
	require.False(t, d.PeerClosed())
	require.NoError(t, d.Write(": still here\n\n"))
	require.NoError(t, resp.Body.Close())
	require.Eventually(t, d.PeerClosed, 10*time.Second, 5*time.Millisecond)
}
