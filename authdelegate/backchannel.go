package authdelegate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

var errReplayedLogoutToken = errors.New("authdelegate: logout token already used")

// handleBackchannelLogout implements OpenID Connect Back-Channel Logout 1.0:
// POST /backchannel-logout with form field logout_token. go-oidc checks the
// signature, iss, aud, exp, the events claim, sub-or-sid and the absence of
// nonce; this handler adds iat bounds and single use of jti. A token with a
// sid ends the sessions of that provider session; a token with only a sub
// ends every session of that subject. The jti is consumed in the same
// transaction as the sessions end, so a failed attempt can be retried.
func (h *Handler) handleBackchannelLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	fail := func(result, desc string) {
		h.metrics.backchannel.WithLabelValues(result).Inc()
		h.log.WarnContext(ctx, "authdelegate: back-channel logout refused", slog.String("reason", desc))
		// Spec §2.8: 400 with an OAuth-style error body.
		httpbase.WriteJSON(w, http.StatusBadRequest, map[string]any{
			"error":             "invalid_request",
			"error_description": desc,
		})
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
		writeError(w, err)
		return
	}
	lt, err := p.verifier.VerifyLogout(h.clientContext(ctx), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			fail("expired", "logout token expired")
			return
		}
		fail("invalid", "logout token not valid")
		h.log.DebugContext(ctx, "authdelegate: logout token verification", slog.String("error", err.Error()))
		return
	}
	now := h.cfg.Now()
	if lt.IssuedAt.IsZero() {
		fail("invalid", "logout token has no iat")
		return
	}
	if lt.IssuedAt.After(now.Add(h.cfg.Leeway)) {
		fail("invalid", "logout token issued in the future")
		return
	}
	if lt.IssuedAt.Before(now.Add(-h.cfg.BackchannelMaxAge)) {
		fail("expired", "logout token too old")
		return
	}
	params := store.SessionEndParams{Reason: reasonBackchannel, At: now}
	if lt.SessionID != "" {
		params.ProviderSID = lt.SessionID
	} else {
		params.ProviderSubject = lt.Subject
	}
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
		writeError(w, errUnavailable)
		return
	}
	h.metrics.backchannel.WithLabelValues("success").Inc()
	h.log.InfoContext(ctx, "authdelegate: back-channel logout", slog.Int("sessions", len(ended)))
	w.WriteHeader(http.StatusOK)
}
