package authdelegate

import (
	"cmp"
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
	unregister := h.fanout.register(st)
	defer unregister()
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
	write := stream.Write
	keepAlive := time.NewTicker(h.cfg.KeepAliveInterval)
	defer keepAlive.Stop()
	recheck := time.NewTimer(jitter(h.cfg.StreamRecheckInterval))
	defer recheck.Stop()
	absolute := time.NewTimer(max(sess.AbsExpires.Sub(h.cfg.Now()), 0))
	defer absolute.Stop()
	sendLogout := func(reason string) {
		h.metrics.eventsSent.WithLabelValues("logout").Inc()
		write(fmt.Sprintf("event: logout\ndata: {\"reason\":%q}\n\n", reason))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.closed:
			return
		case <-st.wake:
			v, logout := st.take()
			if logout != "" {
				sendLogout(logout)
				return
			}
			if v > 0 {
				h.metrics.eventsSent.WithLabelValues("profile").Inc()
				if !write(fmt.Sprintf("id: %d\nevent: profile\ndata: {\"version\":%d}\n\n", v, v)) {
					return
				}
			}
		case <-keepAlive.C:
			if !write(": keep-alive\n\n") {
				return
			}
		case <-recheck.C:
			cur, err := h.store.SessionGet(ctx, sess.ID)
			if err == nil && !cur.Active(h.cfg.Now()) {
				reason := cur.EndReason
				if reason == "" {
					reason = reasonExpired
					h.endSessions(ctx, store.SessionEndParams{ID: sess.ID, Reason: reasonExpired})
				}
				sendLogout(reason)
				return
			}
			if errors.Is(err, store.ErrNotFound) {
				sendLogout(reasonExpired)
				return
			}
			recheck.Reset(jitter(h.cfg.StreamRecheckInterval))
		case <-absolute.C:
			h.endSessions(ctx, store.SessionEndParams{ID: sess.ID, Reason: reasonExpired})
			sendLogout(reasonExpired)
			return
		}
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
