package authdelegate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// Session end reasons (store.Session.EndReason and the logout event's data).
const (
	reasonLogout         = "logout"
	reasonBackchannel    = "backchannel"
	reasonRefreshRefused = "refresh_refused"
	reasonExpired        = "expired"
)

// newSession builds the stored session for a fresh credential.
func (h *Handler) newSession(credential, userID, origin string, pc *providerClaims, tok *oauth2.Token, rawIDToken string) *store.Session {
	now := h.cfg.Now()
	s := &store.Session{
		ID:                   hashSecret(credential),
		UserID:               userID,
		ProviderSubject:      pc.Subject,
		ProviderSID:          pc.SessionID,
		AccessTokenExpiresAt: h.checkBy(tok.Expiry),
		IDTokenHint:          rawIDToken,
		Origin:               origin,
		CreatedAt:            now,
		LastSeenAt:           now,
		AbsExpires:           now.Add(h.cfg.AbsoluteTimeout),
	}
	s.IdleExpires = minTime(now.Add(h.cfg.IdleTimeout), s.AbsExpires)
	if tok.RefreshToken != "" {
		s.RefreshTokenEnc = h.sealer.seal([]byte(tok.RefreshToken), []byte(s.ID))
	}
	return s
}

// checkBy is when the gateway next asks the provider (a refresh-token
// grant) about a session whose access token expires at exp: RefreshBefore
// ahead of exp, or sooner with ProviderRecheckInterval. The stored
// AccessTokenExpiresAt holds it. With no exp, one TokenTTL from now.
func (h *Handler) checkBy(exp time.Time) time.Time {
	now := h.cfg.Now()
	if exp.IsZero() {
		exp = now.Add(h.cfg.TokenTTL)
	}
	if h.cfg.ProviderRecheckInterval > 0 {
		// ensureFresh refreshes RefreshBefore ahead of the stored time.
		exp = minTime(exp, now.Add(h.cfg.ProviderRecheckInterval+h.cfg.RefreshBefore))
	}
	return exp
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// requestSession authenticates the bearer credential of r: the session must
// exist, be active, and belong to the request's origin when the browser sent
// one. It extends the idle lifetime (throttled by TouchInterval).
func (h *Handler) requestSession(r *http.Request) (*store.Session, error) {
	cred, ok := bearer(r)
	if !ok {
		return nil, errUnauthorized
	}
	ctx := r.Context()
	s, err := h.store.SessionGet(ctx, hashSecret(cred))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("authdelegate: read session: %w", err)
	}
	now := h.cfg.Now()
	if !s.Active(now) {
		if s.EndedAt.IsZero() {
			h.endSessions(ctx, store.SessionEndParams{ID: s.ID, Reason: reasonExpired})
		}
		return nil, errSessionEnded
	}
	if o := r.Header.Get("Origin"); o != "" {
		if n, err := httpbase.NormalizeOrigin(o); err != nil || n != s.Origin {
			return nil, errUnauthorized
		}
	}
	if now.Sub(s.LastSeenAt) >= h.cfg.TouchInterval {
		idle := minTime(now.Add(h.cfg.IdleTimeout), s.AbsExpires)
		if err := h.store.SessionTouch(ctx, store.SessionTouchParams{ID: s.ID, LastSeenAt: now, IdleExpires: idle}); err != nil {
			h.log.WarnContext(ctx, "authdelegate: touch session", slog.String("error", err.Error()))
		} else {
			s.LastSeenAt, s.IdleExpires = now, idle
		}
	}
	return s, nil
}

// endSessions ends the selected sessions, notifies ChannelSessionEnded per
// user in the same transaction and returns the ended sessions. Failures are
// logged; the caller's answer does not depend on them.
func (h *Handler) endSessions(ctx context.Context, params store.SessionEndParams) []*store.Session {
	ended, err := h.endSessionsTx(ctx, params, nil)
	if err != nil {
		h.errorf(ctx, "end sessions", err, slog.String("reason", params.Reason))
	}
	return ended
}

// endSessionsTx is endSessions with an extra step (run first) in the same
// transaction.
func (h *Handler) endSessionsTx(ctx context.Context, params store.SessionEndParams, first func(ctx context.Context, tx store.Tx) error) ([]*store.Session, error) {
	if params.At.IsZero() {
		params.At = h.cfg.Now()
	}
	return h.endTx(ctx, params.Reason, func(ctx context.Context, tx store.Tx) ([]*store.Session, error) {
		if first != nil {
			if err := first(ctx, tx); err != nil {
				return nil, err
			}
		}
		ended, err := tx.SessionEnd(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("authdelegate: end sessions: %w", err)
		}
		return ended, nil
	})
}

// endTx runs end in a transaction and, in the same one, what follows the
// end of the sessions it returns: revocations at the provider, the
// session-ended notification per user and SessionEndedFunc.
func (h *Handler) endTx(ctx context.Context, reason string, end func(ctx context.Context, tx store.Tx) ([]*store.Session, error)) ([]*store.Session, error) {
	var ended []*store.Session
	err := h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if ended, err = end(ctx, tx); err != nil {
			return err
		}
		// A refused refresh token is dead at the provider already.
		if reason != reasonRefreshRefused {
			if err := h.enqueueRevocations(ctx, tx, ended); err != nil {
				return err
			}
		}
		byUser := map[string][]string{}
		var users []string
		for _, s := range ended {
			if _, ok := byUser[s.UserID]; !ok {
				users = append(users, s.UserID)
			}
			byUser[s.UserID] = append(byUser[s.UserID], s.ID)
		}
		for _, u := range users {
			payload, _ := json.Marshal(store.SessionEvent{UserID: u, SessionIDs: byUser[u], Reason: reason})
			if err := tx.Notify(ctx, store.ChannelSessionEnded, payload); err != nil {
				return fmt.Errorf("authdelegate: notify session ended: %w", err)
			}
			// Expiry is left out: the hub's app sessions already ended with
			// the last userAuthToken, and a call would end the user's other
			// devices' app sessions for nothing.
			if h.cfg.SessionEndedFunc != nil && reason != reasonExpired {
				if err := h.cfg.SessionEndedFunc(ctx, tx, u); err != nil {
					return fmt.Errorf("authdelegate: session ended hook: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.metrics.sessionsEnded.WithLabelValues(reason).Add(float64(len(ended)))
	return ended, nil
}

// expiredBatch bounds one transaction of endExpired.
const expiredBatch = 200

// endExpired ends the sessions that expired while nobody used them, so that
// their refresh tokens are revoked too (cleanup calls it). It returns how
// many it ended.
func (h *Handler) endExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		ended, err := h.endTx(ctx, reasonExpired, func(ctx context.Context, tx store.Tx) ([]*store.Session, error) {
			ended, err := tx.SessionEndExpired(ctx, store.SessionEndExpiredParams{At: h.cfg.Now(), Reason: reasonExpired, Limit: expiredBatch})
			if err != nil {
				return nil, fmt.Errorf("authdelegate: end expired sessions: %w", err)
			}
			return ended, nil
		})
		total += len(ended)
		if err != nil || len(ended) < expiredBatch {
			return total, err
		}
	}
}

// ensureFresh uses the provider's refresh token when the access token is
// about to expire. It returns the (possibly updated) session, or
// errSessionEnded when the provider refused the refresh token and the
// session was ended everywhere. A provider that is down does not end
// sessions: the session is returned as it was.
func (h *Handler) ensureFresh(ctx context.Context, s *store.Session) (*store.Session, error) {
	if len(s.RefreshTokenEnc) == 0 || h.cfg.Now().Add(h.cfg.RefreshBefore).Before(s.AccessTokenExpiresAt) {
		return s, nil
	}
	// Tabs of one session ask at the same time; rotate once per replica.
	v, err, _ := h.refresh.Do(s.ID, func() (any, error) {
		// The caller's cancellation must not abort a rotation half way.
		return h.refreshSession(context.WithoutCancel(ctx), s)
	})
	if err != nil {
		return nil, err
	}
	return v.(*store.Session), nil
}

func (h *Handler) refreshSession(ctx context.Context, s *store.Session) (*store.Session, error) {
	// Another replica (or an earlier flight) may have rotated already.
	if cur, err := h.store.SessionGet(ctx, s.ID); err == nil {
		if !cur.Active(h.cfg.Now()) {
			return nil, errSessionEnded
		}
		s = cur
		if h.cfg.Now().Add(h.cfg.RefreshBefore).Before(s.AccessTokenExpiresAt) {
			return s, nil
		}
	}
	rt, err := h.sealer.open(s.RefreshTokenEnc, []byte(s.ID))
	if err != nil {
		h.errorf(ctx, "decrypt refresh token", err)
		h.metrics.providerRefresh.WithLabelValues("undecryptable").Inc()
		return h.refusedRefresh(ctx, s)
	}
	p, err := h.provider(ctx)
	if err != nil {
		h.metrics.providerRefresh.WithLabelValues("provider_unavailable").Inc()
		return s, nil
	}
	tok, err := p.oauth.TokenSource(h.clientContext(ctx), &oauth2.Token{RefreshToken: string(rt)}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "unauthorized_client") {
			h.metrics.providerRefresh.WithLabelValues("refused").Inc()
			return h.refusedRefresh(ctx, s)
		}
		h.metrics.providerRefresh.WithLabelValues("error").Inc()
		h.log.WarnContext(ctx, "authdelegate: provider refresh failed; keeping the session", slog.String("error", refreshErrorText(err)))
		return s, nil
	}
	pc, rawIDToken, err := h.claimsFromTokens(ctx, p, tok, "", false)
	if err == nil && pc.Subject != s.ProviderSubject {
		err = errors.New("authdelegate: refreshed tokens name another subject")
	}
	if err != nil {
		h.metrics.providerRefresh.WithLabelValues("invalid_token").Inc()
		h.errorf(ctx, "refreshed tokens", err)
		return h.refusedRefresh(ctx, s)
	}
	params := store.SessionRefreshParams{ID: s.ID, RefreshTokenEnc: s.RefreshTokenEnc, AccessTokenExpiresAt: h.checkBy(tok.Expiry), IDTokenHint: rawIDToken}
	if tok.RefreshToken != "" {
		params.RefreshTokenEnc = h.sealer.seal([]byte(tok.RefreshToken), []byte(s.ID))
	}
	userID := UserIDFromSubject(claimString(pc.Raw, h.cfg.ClaimMapping.UserID))
	// The rotated refresh token is stored on its own: a profile the ping side
	// refuses must never lose it (the old one is spent at the provider).
	if err := h.store.SessionRefresh(ctx, params); err != nil {
		return nil, fmt.Errorf("authdelegate: store refreshed session: %w", err)
	}
	h.metrics.providerRefresh.WithLabelValues("success").Inc()
	if userID == s.UserID {
		err := h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := h.upsertProfile(ctx, tx, userID, pc.Raw)
			return err
		})
		if err != nil {
			h.errorf(ctx, "profile from refreshed claims", err)
		}
	}
	s.RefreshTokenEnc, s.AccessTokenExpiresAt = params.RefreshTokenEnc, params.AccessTokenExpiresAt
	if rawIDToken != "" {
		s.IDTokenHint = rawIDToken
	}
	return s, nil
}

// refusedRefresh ends the session unless another replica rotated the
// refresh token meanwhile (then the refusal was for the old one).
func (h *Handler) refusedRefresh(ctx context.Context, s *store.Session) (*store.Session, error) {
	if cur, err := h.store.SessionGet(ctx, s.ID); err == nil && !bytes.Equal(cur.RefreshTokenEnc, s.RefreshTokenEnc) && cur.Active(h.cfg.Now()) {
		return cur, nil
	}
	h.endSessions(ctx, store.SessionEndParams{ID: s.ID, Reason: reasonRefreshRefused})
	return nil, errSessionEnded
}

// refreshErrorText describes a refresh failure without the response body.
func refreshErrorText(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Sprintf("token endpoint: status %d, error %q", status, re.ErrorCode)
	}
	return err.Error()
}
