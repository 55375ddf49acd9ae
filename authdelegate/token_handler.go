package authdelegate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// tokenResponse is the answer of POST /token and POST /session/exchange.
type tokenResponse struct {
	Token string `json:"token"`
	// ExpiresAt is the token's expiry, UNIX seconds.
	ExpiresAt int64 `json:"expires_at"`
	// Version is the profile version the token was minted from.
	Version int64 `json:"version"`
	// Credential is set by /session/exchange only.
	Credential string `json:"credential,omitempty"`
}

// mint makes a userAuthToken from the profile as stored.
func (h *Handler) mint(p *store.Profile) (tokenResponse, error) {
	expires := h.cfg.Now().Add(h.cfg.TokenTTL)
	tok, err := h.cfg.Tokens.Mint(p.UserID, displayName(p), h.cfg.TokenTTL)
	if err != nil {
		return tokenResponse{}, fmt.Errorf("authdelegate: mint token: %w", err)
	}
	h.metrics.tokensMinted.Inc()
	return tokenResponse{Token: tok, ExpiresAt: expires.Unix(), Version: p.Version}, nil
}

// handleToken answers POST /token: a fresh userAuthToken for the session's
// current profile version.
func (h *Handler) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, err := h.requestSession(r)
	if err == nil {
		s, err = h.ensureFresh(ctx, s)
	}
	if err != nil {
		h.apiFail(w, r, "token: session", err)
		return
	}
	p, err := h.store.ProfileGet(ctx, s.UserID)
	if err != nil {
		h.apiFail(w, r, "token: read profile", err)
		return
	}
	tr, err := h.mint(p)
	if err != nil {
		h.apiFail(w, r, "token: mint", err)
		return
	}
	httpbase.WriteJSON(w, http.StatusOK, tr)
}

// logoutRequest is the optional JSON body of POST /logout.
type logoutRequest struct {
	// PostLogoutRedirectURI is passed to the provider's end-session endpoint
	// when it is on an allowed origin.
	PostLogoutRedirectURI string `json:"post_logout_redirect_uri"`
}

// logoutResponse is the answer of POST /logout.
type logoutResponse struct {
	// EndSessionURL is the provider's RP-initiated logout URL, when the
	// provider has one; the site may navigate there to end the provider
	// session too.
	EndSessionURL string `json:"end_session_url,omitempty"`
}

// handleLogout answers POST /logout: ends the session (bearer credential,
// so a cross-site page cannot trigger it) and tells every tab.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cred, ok := bearer(r)
	if !ok {
		errorWriter.Write(w, r, errUnauthorized)
		return
	}
	var req logoutRequest
	if r.ContentLength != 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err == nil && len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				errorWriter.Write(w, r, errBadRequest)
				return
			}
		}
	}
	s, err := h.store.SessionGet(ctx, hashSecret(cred))
	if errors.Is(err, store.ErrNotFound) {
		errorWriter.Write(w, r, errUnauthorized)
		return
	}
	if err != nil {
		h.apiFail(w, r, "logout: read session", err)
		return
	}
	if o := r.Header.Get("Origin"); o != "" {
		if n, err := httpbase.NormalizeOrigin(o); err != nil || n != s.Origin {
			errorWriter.Write(w, r, errUnauthorized)
			return
		}
	}
	var resp logoutResponse
	if s.EndedAt.IsZero() {
		if _, err := h.endSessionsTx(ctx, store.SessionEndParams{ID: s.ID, Reason: reasonLogout}, nil); err != nil {
			h.apiFail(w, r, "logout: end session", err)
			return
		}
		resp.EndSessionURL = h.endSessionURL(r, s, req.PostLogoutRedirectURI)
	}
	httpbase.WriteJSON(w, http.StatusOK, resp)
}

// endSessionURL builds the provider's end-session URL with id_token_hint,
// client_id and, when on an allowed origin, post_logout_redirect_uri.
func (h *Handler) endSessionURL(r *http.Request, s *store.Session, postLogout string) string {
	p, err := h.provider(r.Context())
	if err != nil || p.endSession == "" {
		return ""
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	if s.IDTokenHint != "" {
		q.Set("id_token_hint", s.IDTokenHint)
	}
	q.Set("client_id", h.cfg.ClientID)
	if postLogout != "" {
		if pu, ok := h.allowedReturn(postLogout); ok {
			if h.cfg.PostLogoutViaGateway {
				// The provider returns state unchanged (RP-Initiated
				// Logout §3); /logged-out checks it again.
				q.Set("post_logout_redirect_uri", h.cfg.PublicURL+postLogoutPath)
				q.Set("state", pu.String())
			} else {
				q.Set("post_logout_redirect_uri", pu.String())
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// exchangeRequest is the JSON body of POST /session/exchange.
type exchangeRequest struct {
	Code string `json:"code"`
}

// handleExchange answers POST /session/exchange: the redirect mode's
// one-time code becomes the credential and a first token. The request must
// come from the site origin that started the login.
func (h *Handler) handleExchange(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req exchangeRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Code == "" || len(req.Code) > 256 {
		errorWriter.Write(w, r, errBadRequest)
		return
	}
	origin, err := httpbase.NormalizeOrigin(r.Header.Get("Origin"))
	if err != nil {
		errorWriter.Write(w, r, errForbiddenOrigin)
		return
	}
	key := hashSecret(req.Code)
	ot, err := h.store.OneTimeConsume(ctx, kindExchangeCode, key, h.cfg.Now())
	if errors.Is(err, store.ErrNotFound) {
		errorWriter.Write(w, r, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_code", Message: "the code is unknown, used or expired"})
		return
	}
	if err != nil {
		h.apiFail(w, r, "exchange: consume code", err)
		return
	}
	var v exchangeValue
	if err := json.Unmarshal(ot.Value, &v); err != nil || v.Origin != origin {
		errorWriter.Write(w, r, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_code", Message: "the code is unknown, used or expired"})
		return
	}
	plain, err := h.sealer.open(v.Sealed, []byte(kindExchangeCode+":"+key))
	if err != nil {
		h.apiFail(w, r, "exchange: open code", err)
		return
	}
	credential := string(plain)
	s, err := h.store.SessionGet(ctx, hashSecret(credential))
	if err != nil || !s.Active(h.cfg.Now()) {
		errorWriter.Write(w, r, errSessionEnded)
		return
	}
	p, err := h.store.ProfileGet(ctx, s.UserID)
	if err != nil {
		h.apiFail(w, r, "exchange: read profile", err)
		return
	}
	tr, err := h.mint(p)
	if err != nil {
		h.apiFail(w, r, "exchange: mint", err)
		return
	}
	tr.Credential = credential
	httpbase.WriteJSON(w, http.StatusOK, tr)
}

// apiFail logs unexpected errors and writes the JSON answer.
func (h *Handler) apiFail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errorWriter.Resolve(r, err).Status >= 500 {
		h.errorf(r.Context(), what, err)
	}
	errorWriter.Write(w, r, err)
}
