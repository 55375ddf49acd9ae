package authdelegate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

var errReplayedLogoutToken = errors.New("authdelegate: logout token already used")

// handleBackchannelLogout implements OpenID Connect Back-Channel Logout 1.0:
// POST /backchannel-logout with form field logout_token. verifyLogoutToken
// checks the signature, iss, aud, the events claim, sub-or-sid, the absence
// of nonce, iat within BackchannelMaxAge and exp when there is one (the
// final text made it optional); this handler adds single use of jti. A token with a
// sid ends the sessions of that provider session; a token with only a sub
// ends every session of that subject. The jti is consumed in the same
// transaction as the sessions end, so a failed attempt can be retried.
func (h *Handler) handleBackchannelLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	fail := func(result, desc string) {
		h.metrics.backchannel.WithLabelValues(result).Inc()
		h.log.WarnContext(ctx, "authdelegate: back-channel logout refused", slog.String("reason", desc))
		writeLogoutRefusal(w, desc)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	raw := r.PostFormValue("logout_token")
	if raw == "" {
		fail("malformed", "logout_token is required")
		return
	}
	p, err := h.provider(ctx)
	if err != nil {
		h.metrics.backchannel.WithLabelValues("provider_unavailable").Inc()
		errorWriter.Write(w, r, err)
		return
	}
	now := h.cfg.Now()
	lt, err := p.verifyLogoutToken(h.clientContext(ctx), raw, logoutCheck{
		Issuer: h.cfg.IssuerURL, ClientID: h.cfg.ClientID, Now: now,
		MaxAge: h.cfg.BackchannelMaxAge, Leeway: h.cfg.Leeway,
	})
	if err != nil {
		var le *logoutTokenError
		if !errors.As(err, &le) {
			le = &logoutTokenError{Result: "invalid", Reason: err.Error()}
		}
		h.metrics.backchannel.WithLabelValues(le.Result).Inc()
		// The real reason goes to the log; the provider gets a short one.
		h.log.WarnContext(ctx, "authdelegate: back-channel logout refused", slog.String("reason", le.Reason))
		desc := "logout token not valid"
		if le.Result == "expired" {
			desc = "logout token expired"
		}
		writeLogoutRefusal(w, desc)
		return
	}
	params := store.SessionEndParams{Reason: reasonBackchannel, At: now}
	if lt.SessionID != "" {
		params.ProviderSID = lt.SessionID
	} else {
		params.ProviderSubject = lt.Subject
	}
	// Remember the jti as long as the token could be accepted.
	remember := lt.IssuedAt.Add(h.cfg.BackchannelMaxAge + h.cfg.Leeway)
	if lt.Expiry.After(remember) {
		remember = lt.Expiry
	}
	jti := &store.OneTime{Kind: kindLogoutJTI, Key: hashSecret(lt.Issuer + "\x00" + lt.TokenID), ExpiresAt: remember}
	ended, err := h.endSessionsTx(ctx, params, func(ctx context.Context, tx store.Tx) error {
		if err := tx.OneTimeCreate(ctx, jti); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errReplayedLogoutToken
			}
			return fmt.Errorf("authdelegate: remember jti: %w", err)
		}
		return nil
	})
	if errors.Is(err, errReplayedLogoutToken) {
		fail("replayed", "logout token already used")
		return
	}
	if err != nil {
		h.metrics.backchannel.WithLabelValues("error").Inc()
		h.errorf(ctx, "back-channel logout", err)
		errorWriter.Write(w, r, errUnavailable)
		return
	}
	h.metrics.backchannel.WithLabelValues("success").Inc()
	h.log.InfoContext(ctx, "authdelegate: back-channel logout", slog.Int("sessions", len(ended)))
	w.WriteHeader(http.StatusOK)
}

// writeLogoutRefusal answers as section 2.8 asks: 400 with an OAuth-style
// error body.
func writeLogoutRefusal(w http.ResponseWriter, desc string) {
	httpbase.WriteJSON(w, http.StatusBadRequest, map[string]any{
		"error":             "invalid_request",
		"error_description": desc,
	})
}
