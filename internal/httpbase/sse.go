package httpbase

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// EventStream is a server-sent event response. Each write lifts the
// server's write timeout for one writeTimeout (streams outlive it) and
// flushes.
type EventStream struct {
	w            http.ResponseWriter
	rc           *http.ResponseController
	writeTimeout time.Duration
}

// StartEventStream answers 200 with the event-stream headers, tells the
// client to reconnect after retry, and writes comment (a line naming the
// stream). It reports false when the client is gone already.
func StartEventStream(w http.ResponseWriter, writeTimeout, retry time.Duration, comment string) (*EventStream, bool) {
	s := &EventStream{w: w, rc: http.NewResponseController(w), writeTimeout: writeTimeout}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return s, s.Write("retry: " + strconv.FormatInt(retry.Milliseconds(), 10) + "\n: " + comment + "\n\n")
}

// Write writes raw event-stream text (one or more complete events or
// comments) and flushes it. It reports false when the client is gone.
func (s *EventStream) Write(raw string) bool {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	if _, err := io.WriteString(s.w, raw); err != nil {
		return false
	}
	return s.rc.Flush() == nil
}

// DetachedEventStream is an event stream whose connection was taken over
// from the server (HTTP/1.x): it costs its owner no goroutine and no
// buffer. The server no longer sees the connection, so http.Server.Shutdown
// does not close it; its owner must (Close).
type DetachedEventStream struct {
	conn         net.Conn
	chunked      bool
	writeTimeout time.Duration

	mu          sync.Mutex
	interrupted bool // Interrupt: every write fails at once
	broken      bool // a write failed: the framing may be cut mid-chunk
}

// Detach takes the connection of a started stream over from the server
// (net/http frees its goroutine and buffers once the handler returns,
// which it should do at once). It fails with http.ErrNotSupported on
// HTTP/2 and other connections that cannot be taken over; the stream is
// then still the server's, to use as before.
func (s *EventStream) Detach(r *http.Request) (*DetachedEventStream, error) {
	if r.ProtoMajor != 1 {
		return nil, http.ErrNotSupported
	}
	if err := s.rc.Flush(); err != nil {
		return nil, err
	}
	// What the client sent after its request (a pipelined request) stays
	// unread in the buffer, which is dropped.
	conn, _, err := s.rc.Hijack()
	if err != nil {
		return nil, err
	}
	// A read deadline left from the server's ReadTimeout would blind
	// PeerClosed once it passed. net/http clears it when it hands the
	// connection over; clear it here too rather than depend on that.
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		_ = conn.Close()
		return nil, err
	}
	// The headers announced chunked encoding to an HTTP/1.1 client; an
	// HTTP/1.0 one reads to the end of the connection.
	return &DetachedEventStream{conn: conn, chunked: r.ProtoAtLeast(1, 1), writeTimeout: s.writeTimeout}, nil
}

// Write writes raw event-stream text (one or more complete events or
// comments), bounded by the stream's write timeout.
func (d *DetachedEventStream) Write(raw string) error {
	d.mu.Lock()
	if d.interrupted {
		d.mu.Unlock()
		return net.ErrClosed
	}
	_ = d.conn.SetWriteDeadline(time.Now().Add(d.writeTimeout))
	d.mu.Unlock()
	var err error
	if d.chunked {
		buf := make([]byte, 0, len(raw)+20)
		buf = strconv.AppendInt(buf, int64(len(raw)), 16)
		buf = append(buf, "\r\n"...)
		buf = append(buf, raw...)
		buf = append(buf, "\r\n"...)
		_, err = d.conn.Write(buf)
	} else {
		_, err = io.WriteString(d.conn, raw)
	}
	if err != nil {
		d.mu.Lock()
		d.broken = true
		d.mu.Unlock()
	}
	return err
}

// Interrupt makes a write in progress, and every later Write, fail at once
// (a client that stopped reading cannot hold a shutdown for the write
// timeout).
func (d *DetachedEventStream) Interrupt() {
	d.mu.Lock()
	d.interrupted = true
	_ = d.conn.SetWriteDeadline(time.Now())
	d.mu.Unlock()
}

// Close ends the response (the last chunk, written by deadline) unless a
// write failed, and closes the connection.
func (d *DetachedEventStream) Close(deadline time.Time) error {
	d.mu.Lock()
	end := d.chunked && !d.broken
	_ = d.conn.SetWriteDeadline(deadline)
	d.mu.Unlock()
	if end {
		_, _ = io.WriteString(d.conn, "0\r\n\r\n")
	}
	return d.conn.Close()
}
