package hub

import (
	"net/http"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
)

// logoutResponse is the logout's 200 body.
type logoutResponse struct {
	Status string     `json:"status"`
	Code   int        `json:"code"`
	Data   logoutData `json:"data"`
}

type logoutData struct {
	ID string `json:"id"`
	// SessionsValidAfter is the instant app-session tokens must be issued
	// after to be honoured.
	SessionsValidAfter time.Time `json:"sessions_valid_after"`
}

// handleLogout is ssogate's extension of the ping (Livefyre has no such
// call): POST /api/v3_0/user/{id}/logout with a system lftoken in the query
// or the body, sent by the gateway when a session of the user ends. From
// then on the hub refuses every app-session token it issued to the user up
// to now; the user's next authentication gets a new one. The instant is the
// hub's own clock at receipt, never the sender's, so clock skew cannot leave
// a token issued just before the logout alive; it never moves back.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	result, err := h.logout(w, r)
	h.metrics.logouts.WithLabelValues(result).Inc()
	if err != nil {
		h.errs.Write(w, r, err)
	}
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) (string, error) {
	n, userID, result, err := h.systemUserRequest(w, r)
	if err != nil {
		return result, err
	}
	at, err := h.store.AppSessionRevoke(r.Context(), n.name, userID, h.cfg.Now())
	if err != nil {
		return "error", err
	}
	h.log.InfoContext(r.Context(), "hub: app sessions ended by a gateway logout", "network", n.name, "user_id", userID)
	httpbase.WriteJSON(w, http.StatusOK, logoutResponse{
		Status: "ok", Code: http.StatusOK,
		Data: logoutData{ID: userID + "@" + n.name, SessionsValidAfter: at.UTC()},
	})
	return "ok", nil
}

// errReservedUserID refuses "system" (any case) where a user is meant.
var errReservedUserID = httpbase.Errorf(http.StatusBadRequest, "reserved_user_id",
	`the user id "system" is reserved for the network owner (in any letter case)`)
