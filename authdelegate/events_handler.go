package authdelegate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// streamWriteTimeout bounds one write to an event stream, so a client that
// stopped reading cannot hold a goroutine forever.
const streamWriteTimeout = 30 * time.Second

// parseLastEventID reads the Last-Event-ID header: a profile version, or -1
// when absent or not a version.
func parseLastEventID(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 19 {
		return -1
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return -1
	}
	return v
}

// handleEvents serves GET /events: the session's server-sent events.
func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, err := h.requestSession(r)
	if err != nil {
		h.apiFail(w, r, "events: session", err)
		return
	}
	last := parseLastEventID(r.Header.Get("Last-Event-ID"))
	if last < 0 {
		// No position given: the tab is taken to hold the current version.
		// Reading it before registering leaves no gap: catchUp below compares
		// again after registering.
		last = 0
		if p, err := h.store.ProfileGet(ctx, sess.UserID); err == nil {
			last = p.Version
		}
	}
	st := newStream(sess.ID, sess.UserID, last)
	st.schedule(time.Now(), jitter(h.cfg.StreamRecheckInterval), sess.AbsExpires.Sub(h.cfg.Now()))
	unregister := h.fanout.register(st)
	detached := false
	defer func() {
		if !detached {
			unregister()
		}
	}()
	if p, err := h.store.ProfileGet(ctx, sess.UserID); err == nil {
		h.fanout.catchUp(st, p)
	} else if !errors.Is(err, store.ErrNotFound) {
		h.log.WarnContext(ctx, "authdelegate: events: read profile", slog.String("error", err.Error()))
	}
	// A logout that committed between the session check and the
	// registration was notified to nobody here; the store has it.
	if cur, err := h.store.SessionGet(ctx, sess.ID); err == nil && !cur.EndedAt.IsZero() {
		st.offerLogout(cmp.Or(cur.EndReason, reasonLogout))
	}

	stream, ok := httpbase.StartEventStream(w, streamWriteTimeout, 2*time.Second, "ssogate events")
	if !ok {
		return
	}
	// On HTTP/1.x the connection is taken over: the stream becomes a small
	// struct the fan-out owns, written by the shared writers, and net/http
	// frees this goroutine, its buffers and its background reader.
	out, err := stream.Detach(r)
	switch {
	case err == nil:
		if h.fanout.detach(st, out, unregister) {
			detached = true
		} else {
			_ = out.Close(time.Now().Add(streamEndTimeout))
		}
		return
	case !errors.Is(err, http.ErrNotSupported):
		return // the client is gone
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.closed:
			return
		case <-st.wake:
			if !h.serveDue(ctx, st, st.takeDue(), stream.Write) {
				return
			}
		}
	}
}

// serveDue writes d, what is due on stream s, with write (one call per
// write, so that a dead client is found on it). It runs the session
// recheck and the absolute expiry that d carries. It reports false once
// the stream is over: a logout was written or a write failed.
func (h *Handler) serveDue(ctx context.Context, s *stream, d due, write func(string) bool) bool {
	if d.logout == "" && d.expired {
		h.endSessions(ctx, store.SessionEndParams{ID: s.sessionID, Reason: reasonExpired})
		d.logout = reasonExpired
	}
	if d.logout == "" && d.recheck {
		d.logout = h.recheckStream(ctx, s)
	}
	if d.logout != "" {
		h.metrics.eventsSent.WithLabelValues("logout").Inc()
		write(fmt.Sprintf("event: logout\ndata: {\"reason\":%q}\n\n", d.logout))
		return false
	}
	if d.version > 0 {
		h.metrics.eventsSent.WithLabelValues("profile").Inc()
		return write(fmt.Sprintf("id: %d\nevent: profile\ndata: {\"version\":%d}\n\n", d.version, d.version))
	}
	if d.keepAlive {
		return write(": keep-alive\n\n")
	}
	return true
}

// recheckStream reads the stream's session again and returns the logout
// reason when it is no longer active (ending it as expired when it lapsed
// unnoticed), or "" while it is. A store that does not answer keeps the
// stream open until the next recheck.
func (h *Handler) recheckStream(ctx context.Context, s *stream) string {
	cur, err := h.store.SessionGet(ctx, s.sessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return reasonExpired
	case err != nil || cur.Active(h.cfg.Now()):
		return ""
	case cur.EndReason == "":
		h.endSessions(ctx, store.SessionEndParams{ID: s.sessionID, Reason: reasonExpired})
		return reasonExpired
	default:
		return cur.EndReason
	}
}

// jitter spreads d by ±10% so that streams opened together do not hit the
// store together.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}
