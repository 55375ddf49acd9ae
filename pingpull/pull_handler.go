package pingpull

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ssogate/ssogate/store"
)

// servePull is GET /pull?id={id}&lftoken={system token} (spec §3.5): 403
// with an empty body unless lftoken is a valid system token of the
// network, then 404 for an unknown user, else the canonical profile.
func (h *Handler) servePull(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	query := r.URL.Query()
	w.Header().Set("Cache-Control", "no-store")
	token := query.Get("lftoken")
	if token == "" {
		h.metrics.pulls.WithLabelValues("forbidden").Inc()
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if _, err := h.tokens.VerifySystem(token); err != nil {
		h.metrics.pulls.WithLabelValues("forbidden").Inc()
		// The error names the check that failed, never the token.
		h.log.WarnContext(ctx, "pingpull: pull refused", "reason", err.Error(), "remote_addr", r.RemoteAddr)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	userID := query.Get("id")
	if userID == "" || len(userID) > maxIDLength || !validUserID(userID) {
		h.metrics.pulls.WithLabelValues("bad_request").Inc()
		h.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field",
			Message: "id: must match ^[a-zA-Z0-9_.-]+$"})
		return
	}
	p, err := h.store.ProfileGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		h.metrics.pulls.WithLabelValues("not_found").Inc()
		h.timeline(ctx, userID, "pull.not_found", map[string]any{})
		h.writeError(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such user"})
		return
	}
	if err != nil {
		h.metrics.pulls.WithLabelValues("error").Inc()
		h.writeError(w, r, err)
		return
	}
	h.metrics.pulls.WithLabelValues("served").Inc()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.Data)
	// The hub gets its answer before "profile ready" goes out.
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if err := h.recordServed(context.WithoutCancel(ctx), p); err != nil {
		// The record is not worth failing the pull for.
		h.log.WarnContext(ctx, "pingpull: record pull served failed", "user_id", userID, "version", p.Version, "error", err)
	}
}

// recordServed stores the served version, appends the timeline entry and
// notifies "profile ready" in one transaction.
func (h *Handler) recordServed(ctx context.Context, p *store.Profile) error {
	now := h.cfg.Now()
	first := p.ServedVersion < p.Version
	return h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if first {
			if err := tx.ProfileMarkServed(ctx, p.UserID, p.Version, now); err != nil {
				return err
			}
		}
		if _, err := tx.TimelineAppend(ctx, timelineEvent(p.UserID, "pull.served", map[string]any{"version": p.Version, "first": first}, now)); err != nil {
			return err
		}
		event, _ := json.Marshal(store.ProfileEvent{UserID: p.UserID, Version: p.Version})
		return tx.Notify(ctx, store.ChannelProfileReady, event)
	})
}
