package httpbase

import (
	"io"
	"net/http"
	"strconv"
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
