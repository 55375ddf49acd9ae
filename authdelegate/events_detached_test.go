package authdelegate

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// rawStream is GET /events on a TCP connection of its own, read line by
// line (comments too), that the test can drop.
type rawStream struct {
	conn  net.Conn
	proto int
	body  *bufio.Reader
}

// openRaw opens /events over HTTP/1.1 on a new connection.
func (b *testBundle) openRaw(credential, lastEventID string) *rawStream {
	b.t.Helper()
	u, err := url.Parse(b.gw.URL)
	require.NoError(b.t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(b.t, err)
	b.t.Cleanup(func() { _ = conn.Close() })
	req, err := http.NewRequest(http.MethodGet, b.gw.URL+"/events", nil)
	require.NoError(b.t, err)
	req.Header.Set("Origin", b.site)
	req.Header.Set("Authorization", "Bearer "+credential)
	req.Header.Set("Last-Event-ID", lastEventID)
	require.NoError(b.t, req.Write(conn))
	require.NoError(b.t, conn.SetReadDeadline(time.Now().Add(waitFor)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
	require.Equal(b.t, []string{"chunked"}, resp.TransferEncoding)
	return &rawStream{conn: conn, proto: resp.ProtoMajor, body: bufio.NewReader(resp.Body)}
}

// bodyLines reads lines of an event-stream body until want and returns
// them (want last), or the read error (the end of the body: io.EOF when it
// ended cleanly).
func bodyLines(t *testing.T, body *bufio.Reader, want string) ([]string, error) {
	t.Helper()
	var lines []string
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			return lines, err
		}
		lines = append(lines, strings.TrimSuffix(line, "\n"))
		if lines[len(lines)-1] == want {
			return lines, nil
		}
	}
}

// until reads up to and including the line want.
func (rs *rawStream) until(t *testing.T, want string) []string {
	t.Helper()
	lines, err := bodyLines(t, rs.body, want)
	require.NoError(t, err, "waiting for %q after %q", want, lines)
	return lines
}

// end reads to the end of the body and reports how it ended.
func (rs *rawStream) end(t *testing.T) error {
	t.Helper()
	_, err := bodyLines(t, rs.body, "\x00never")
	return err
}

// streamCounts counts the Handler's streams by how they are written.
func (b *testBundle) streamCounts() (detached, attached int) {
	b.h.fanout.mu.Lock()
	defer b.h.fanout.mu.Unlock()
	for _, ss := range b.h.fanout.bySession {
		for s := range ss {
			if s.out != nil {
				detached++
			} else {
				attached++
			}
		}
	}
	return detached, attached
}

// waitDetached waits until the Handler holds n detached streams and no
// attached one.
func (b *testBundle) waitDetached(n int) {
	b.t.Helper()
	asynctest.Eventually(b.t, waitFor, "the streams to be detached", func() bool {
		detached, attached := b.streamCounts()
		return detached == n && attached == 0
	})
}

// waitGauges waits until the live stream and session gauges read streams
// and sessions.
func (b *testBundle) waitGauges(streams, sessions float64) {
	b.t.Helper()
	asynctest.Eventually(b.t, waitFor, "the stream gauges", func() bool {
		return counterValue(b.t, b.h.metrics.liveStreams) == streams && counterValue(b.t, b.h.metrics.liveSessions) == sessions
	})
}

// TestEventsDetached: an HTTP/1.1 stream is taken over from net/http (no
// goroutine of its own) and still gets its keep-alives, its events and its
// logout, after which the response ends cleanly and the stream is gone.
func TestEventsDetached(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.KeepAliveInterval = 20 * time.Millisecond }})
	msg := b.login("alice")
	rs := b.openRaw(msg.Credential, "1")
	require.Equal(t, []string{"retry: 2000", ": ssogate events", ""}, rs.until(t, ""))
	b.waitDetached(1)
	b.waitGauges(1, 1)

	rs.until(t, ": keep-alive")
	rs.until(t, ": keep-alive")

	v := b.changeProfile("alice", "Detached")
	b.markReady("alice", v)
	lines := rs.until(t, "data: {\"version\":2}")
	require.Equal(t, []string{"id: 2", "event: profile", `data: {"version":2}`}, lines[len(lines)-3:])
	require.Equal(t, 1.0, counterValue(t, b.h.metrics.eventsSent.WithLabelValues("profile")))

	status, _ := b.api(http.MethodPost, "/logout", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status)
	lines = rs.until(t, `data: {"reason":"logout"}`)
	require.Equal(t, "event: logout", lines[len(lines)-2])
	require.ErrorIs(t, rs.end(t), io.EOF, "the chunked response ends with its last chunk")
	b.waitGauges(0, 0)
	require.Equal(t, 1.0, counterValue(t, b.h.metrics.eventsSent.WithLabelValues("logout")))
}

// TestEventsDetachedClose: Close ends every detached stream (which
// http.Server.Shutdown no longer sees) and returns once they are written.
func TestEventsDetachedClose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice, bob := b.login("alice"), b.login("bob")
	streams := []*rawStream{b.openRaw(alice.Credential, "1"), b.openRaw(alice.Credential, "1"), b.openRaw(bob.Credential, "1")}
	b.waitDetached(3)
	b.waitGauges(3, 2)

	require.NoError(t, b.h.Close())
	for _, rs := range streams {
		require.ErrorIs(t, rs.end(t), io.EOF)
	}
	b.waitGauges(0, 0)
	b.waitStreams(0)
	require.NoError(t, b.h.Close(), "a second Close is harmless")

	// A stream asked for after Close is not kept.
	rs := b.openRaw(bob.Credential, "1")
	require.ErrorIs(t, rs.end(t), io.EOF)
	b.waitGauges(0, 0)
}

// TestEventsDetachedClientGone: a client that disconnects is found by the
// next keep-alive and unregistered.
func TestEventsDetachedClientGone(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.KeepAliveInterval = 20 * time.Millisecond }})
	msg := b.login("alice")
	gone := b.openRaw(msg.Credential, "1")
	stays := b.openRaw(msg.Credential, "1")
	b.waitDetached(2)
	b.waitGauges(2, 1)
	require.NoError(t, gone.conn.Close())
	b.waitGauges(1, 1)
	b.waitStreams(1)
	// The other tab of the session is unaffected.
	stays.until(t, ": keep-alive")
	v := b.changeProfile("alice", "Still Here")
	b.markReady("alice", v)
	stays.until(t, `data: {"version":2}`)
}

// TestEventsDetachedRecheck: the sweeper's recheck finds a session that
// ended without a notification (none is listened to here).
func TestEventsDetachedRecheck(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noRun: true, mutate: func(c *Config) { c.StreamRecheckInterval = 30 * time.Millisecond }})
	msg := b.login("alice")
	rs := b.openRaw(msg.Credential, "1")
	b.waitDetached(1)
	_, err := b.store.SessionEnd(t.Context(), store.SessionEndParams{ID: hashSecret(msg.Credential), Reason: reasonBackchannel, At: b.clock.Now()})
	require.NoError(t, err)
	lines := rs.until(t, `data: {"reason":"backchannel"}`)
	require.Equal(t, "event: logout", lines[len(lines)-2])
	require.ErrorIs(t, rs.end(t), io.EOF)
	b.waitGauges(0, 0)
}

// TestEventsDetachedAbsoluteExpiry: a stream open when its session reaches
// the absolute timeout ends the session and says so.
func TestEventsDetachedAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.AbsoluteTimeout, c.IdleTimeout = time.Hour, time.Hour }})
	msg := b.login("alice")
	b.clock.Advance(time.Hour - time.Second) // a second (of real time) left
	rs := b.openRaw(msg.Credential, "1")
	lines := rs.until(t, `data: {"reason":"expired"}`)
	require.Equal(t, "event: logout", lines[len(lines)-2])
	require.ErrorIs(t, rs.end(t), io.EOF)
	require.Equal(t, reasonExpired, b.session(msg.Credential).EndReason)
	b.waitGauges(0, 0)
}

// TestEventsHTTP2Attached: HTTP/2 streams cannot be taken over; the
// handler keeps serving them, with the same keep-alives, events and end on
// Close.
func TestEventsHTTP2Attached(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.KeepAliveInterval = 20 * time.Millisecond }})
	r := httpbase.NewMux()
	b.h.Mount(r)
	srv := httptest.NewUnstartedServer(r)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	msg := b.login("alice")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", b.site)
	req.Header.Set("Authorization", "Bearer "+msg.Credential)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, resp.ProtoMajor)
	body := bufio.NewReader(resp.Body)

	b.waitStreams(1)
	detached, attached := b.streamCounts()
	require.Zero(t, detached)
	require.Equal(t, 1, attached)
	_, err = bodyLines(t, body, ": keep-alive")
	require.NoError(t, err)
	v := b.changeProfile("alice", "Over H2")
	b.markReady("alice", v)
	_, err = bodyLines(t, body, `data: {"version":2}`)
	require.NoError(t, err)

	require.NoError(t, b.h.Close())
	_, err = bodyLines(t, body, "\x00never")
	require.ErrorIs(t, err, io.EOF)
	b.waitGauges(0, 0)
}
