package authdelegate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// One-time kinds used by this package.
const (
	kindLoginFlow    = "login_flow"
	kindExchangeCode = "exchange_code"
	kindLogoutJTI    = "logout_jti"
)

// Login modes.
const (
	modePopup    = "popup"
	modeRedirect = "redirect"
)

// flowCookiePrefix + the first 16 hex digits of the state hash names the
// cookie that binds one login flow to the browser. One cookie per flow, so
// two tabs can sign in at the same time.
const flowCookiePrefix = "ssogate_flow_"

// loginFlow is what /login stores (single-use, keyed by the state's hash)
// for /callback.
type loginFlow struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	// Binding is the hash of the flow cookie's random value.
	Binding  string `json:"binding"`
	Origin   string `json:"origin"`
	Mode     string `json:"mode"`
	ReturnTo string `json:"return_to,omitempty"`
}

// loginRequest is the parsed query of GET /login.
type loginRequest struct {
	Origin   string
	Mode     string
	ReturnTo string
}

// parseLoginRequest checks the query of GET /login against the allowed
// origins. Errors are meant for the person in front of the browser.
func (h *Handler) parseLoginRequest(q url.Values) (loginRequest, error) {
	lr := loginRequest{Mode: q.Get("mode")}
	if lr.Mode == "" {
		lr.Mode = modePopup
	}
	if lr.Mode != modePopup && lr.Mode != modeRedirect {
		return lr, errors.New("unknown sign-in mode")
	}
	origin, err := httpbase.NormalizeOrigin(q.Get("origin"))
	if err != nil || !h.origins[origin] {
		return lr, errOriginNotAllowed
	}
	lr.Origin = origin
	// A popup may name a return_to too: when the provider's
	// Cross-Origin-Opener-Policy severed the popup from its opener, the
	// popup goes there with a one-time code, as redirect mode does.
	if lr.Mode == modeRedirect || q.Get("return_to") != "" {
		rt, err := h.checkReturnTo(q.Get("return_to"), origin)
		if err != nil {
			return lr, err
		}
		lr.ReturnTo = rt
	}
	return lr, nil
}

var (
	errOriginNotAllowed   = errors.New("this site is not allowed to use this sign-in service")
	errReturnToNotAllowed = errors.New("the return address is not on the site that started the sign-in")
)

// checkReturnTo accepts only an absolute http(s) URL on origin, and drops
// its fragment (the gateway puts its own there).
func (h *Handler) checkReturnTo(s, origin string) (string, error) {
	if s == "" || len(s) > 2048 {
		return "", errReturnToNotAllowed
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errReturnToNotAllowed
	}
	if httpbase.OriginOf(u) != origin {
		return "", errReturnToNotAllowed
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// handleLogin starts a login: GET /login?origin=…&mode=popup|redirect&return_to=…
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lr, err := h.parseLoginRequest(r.URL.Query())
	if err != nil {
		result := loginBadOrigin
		if !errors.Is(err, errOriginNotAllowed) {
			result = loginBadRequest
		}
		h.metrics.logins.WithLabelValues(result).Inc()
		h.renderPage(w, http.StatusBadRequest, pageData{Title: "Sign-in not possible", Message: err.Error()})
		return
	}
	p, err := h.provider(ctx)
	if err != nil {
		h.errorf(ctx, "login: provider", err)
		h.metrics.logins.WithLabelValues(loginProviderError).Inc()
		h.renderPage(w, http.StatusBadGateway, pageData{Title: "Sign-in unavailable", Message: "The sign-in service does not answer. Please try again in a moment."})
		return
	}
	state := randomToken(32)
	binding := randomToken(32)
	flow := loginFlow{
		Nonce:    randomToken(32),
		Verifier: oauth2.GenerateVerifier(),
		Binding:  hashSecret(binding),
		Origin:   lr.Origin,
		Mode:     lr.Mode,
		ReturnTo: lr.ReturnTo,
	}
	value, _ := json.Marshal(flow)
	stateHash := hashSecret(state)
	err = h.store.OneTimeCreate(ctx, &store.OneTime{Kind: kindLoginFlow, Key: stateHash, Value: value, ExpiresAt: h.cfg.Now().Add(h.cfg.LoginFlowTTL)})
	if err != nil {
		h.errorf(ctx, "login: store flow", err)
		h.metrics.logins.WithLabelValues(loginInternalError).Inc()
		h.renderPage(w, http.StatusServiceUnavailable, pageData{Title: "Sign-in unavailable", Message: "Please try again in a moment."})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     flowCookiePrefix + stateHash[:16],
		Value:    binding,
		Path:     h.cookiePath,
		MaxAge:   int(h.cfg.LoginFlowTTL / time.Second),
		HttpOnly: true,
		Secure:   h.cookieSecure,
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	target := p.oauth.AuthCodeURL(state, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier))
	http.Redirect(w, r, target, http.StatusFound)
}

// loginFailure is a failed callback: what to count, show and tell the opener.
type loginFailure struct {
	result  string
	status  int
	code    string // sent to the site: access_denied, login_failed, …
	title   string
	message string
}

// handleCallback finishes a login: GET /callback?state=…&code=… (or error=…).
func (h *Handler) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || len(state) > 512 {
		h.failLogin(w, r, nil, loginFailure{result: loginBadState, status: http.StatusBadRequest, code: "bad_state",
			title: "Sign-in link not valid", message: "This sign-in link is incomplete. Please start again from the site."})
		return
	}
	stateHash := hashSecret(state)
	cookieName := flowCookiePrefix + stateHash[:16]
	cookie, cookieErr := r.Cookie(cookieName)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: h.cookiePath, MaxAge: -1, HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})

	ot, err := h.store.OneTimeConsume(ctx, kindLoginFlow, stateHash, h.cfg.Now())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.errorf(ctx, "callback: consume flow", err)
		}
		h.failLogin(w, r, nil, loginFailure{result: loginBadState, status: http.StatusBadRequest, code: "bad_state",
			title: "Sign-in expired", message: "This sign-in has expired or was already used. Please start again from the site."})
		return
	}
	var flow loginFlow
	if err := json.Unmarshal(ot.Value, &flow); err != nil {
		h.errorf(ctx, "callback: decode flow", err)
		h.failLogin(w, r, nil, loginFailure{result: loginBadState, status: http.StatusBadRequest, code: "bad_state",
			title: "Sign-in expired", message: "Please start again from the site."})
		return
	}
	if cookieErr != nil || !constantTimeEqual(hashSecret(cookie.Value), flow.Binding) {
		// Either another browser finished a flow it did not start (login
		// CSRF), or cookies are off for the gateway.
		h.failLogin(w, r, nil, loginFailure{result: loginBadState, status: http.StatusBadRequest, code: "bad_state",
			title: "Sign-in not possible", message: "This sign-in was started in another browser, or cookies are blocked for the sign-in service. Please start again from the site."})
		return
	}
	if e := q.Get("error"); e != "" {
		f := loginFailure{result: loginProviderError, status: http.StatusBadGateway, code: "provider_error",
			title: "Sign-in failed", message: "The sign-in service reported an error. Please try again."}
		if e == "access_denied" {
			f = loginFailure{result: loginDenied, status: http.StatusForbidden, code: "access_denied",
				title: "Sign-in cancelled", message: "Sign-in was cancelled or refused. You can close this window."}
		} else {
			h.log.WarnContext(ctx, "authdelegate: provider returned an error", slog.String("provider_error", truncate(e, 64)))
		}
		h.failLogin(w, r, &flow, f)
		return
	}
	code := q.Get("code")
	if code == "" {
		h.failLogin(w, r, &flow, loginFailure{result: loginProviderError, status: http.StatusBadRequest, code: "provider_error",
			title: "Sign-in failed", message: "The sign-in service sent no authorization code. Please try again."})
		return
	}
	res, f := h.completeLogin(ctx, &flow, code)
	if f != nil {
		h.failLogin(w, r, &flow, *f)
		return
	}
	h.metrics.logins.WithLabelValues(loginSuccess).Inc()
	if flow.Mode == modeRedirect {
		http.Redirect(w, r, flow.ReturnTo+"#ssogate_code="+url.QueryEscape(res.exchangeCode), http.StatusSeeOther)
		return
	}
	pd := pageData{
		Title:   "Signed in",
		Message: "You are signed in. This window closes by itself; if it does not, you can close it.",
		Target:  flow.Origin,
		Result: &loginMessage{Type: "ssogate.login", Token: res.token.Token, Credential: res.credential,
			ExpiresAt: res.token.ExpiresAt, Version: res.token.Version},
		Close: true,
	}
	if res.exchangeCode != "" {
		pd.Fallback = flow.ReturnTo + "#ssogate_code=" + url.QueryEscape(res.exchangeCode)
	}
	h.renderPage(w, http.StatusOK, pd)
}

// loginResult is a completed login.
type loginResult struct {
	credential   string
	token        tokenResponse // popup mode
	exchangeCode string        // redirect mode
}

// completeLogin exchanges the code, verifies the tokens, upserts the profile
// and creates the session.
func (h *Handler) completeLogin(ctx context.Context, flow *loginFlow, code string) (*loginResult, *loginFailure) {
	failed := func(result string, status int, msg string) *loginFailure {
		return &loginFailure{result: result, status: status, code: "login_failed", title: "Sign-in failed", message: msg}
	}
	p, err := h.provider(ctx)
	if err != nil {
		h.errorf(ctx, "callback: provider", err)
		return nil, failed(loginProviderError, http.StatusBadGateway, "The sign-in service does not answer. Please try again.")
	}
	tok, err := p.oauth.Exchange(h.clientContext(ctx), code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		h.log.WarnContext(ctx, "authdelegate: code exchange failed", slog.String("error", refreshErrorText(err)))
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return nil, failed(loginExchangeFailed, http.StatusBadRequest, "The sign-in could not be completed. Please start again from the site.")
		}
		return nil, failed(loginProviderError, http.StatusBadGateway, "The sign-in service does not answer. Please try again.")
	}
	pc, rawIDToken, err := h.claimsFromTokens(ctx, p, tok, flow.Nonce, true)
	if err != nil {
		h.log.WarnContext(ctx, "authdelegate: login tokens rejected", slog.String("error", err.Error()))
		return nil, failed(loginInvalidToken, http.StatusBadRequest, "The sign-in service sent an answer that could not be verified. Please start again from the site.")
	}
	userID := UserIDFromSubject(claimString(pc.Raw, h.cfg.ClaimMapping.UserID))
	if userID == "" {
		h.log.WarnContext(ctx, "authdelegate: login tokens lack the user id claim", slog.String("claim", h.cfg.ClaimMapping.UserID))
		return nil, failed(loginInvalidToken, http.StatusBadRequest, "Your account has no user id for this site.")
	}
	credential := newCredential()
	sess := h.newSession(credential, userID, flow.Origin, pc, tok, rawIDToken)
	res := &loginResult{credential: credential}
	var profile *store.Profile
	err = h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if profile, err = h.upsertProfile(ctx, tx, userID, pc.Raw); err != nil {
			return err
		}
		if err := tx.SessionCreate(ctx, sess); err != nil {
			return fmt.Errorf("authdelegate: create session: %w", err)
		}
		// Redirect mode returns a code; a popup that named a return_to
		// keeps one for when it has lost its opener.
		if flow.Mode == modeRedirect || flow.ReturnTo != "" {
			res.exchangeCode = randomToken(32)
			key := hashSecret(res.exchangeCode)
			value, _ := json.Marshal(exchangeValue{Origin: flow.Origin, Sealed: h.sealer.seal([]byte(credential), []byte(kindExchangeCode+":"+key))})
			if err := tx.OneTimeCreate(ctx, &store.OneTime{Kind: kindExchangeCode, Key: key, Value: value, ExpiresAt: h.cfg.Now().Add(h.cfg.ExchangeCodeTTL)}); err != nil {
				return fmt.Errorf("authdelegate: store exchange code: %w", err)
			}
		}
		detail, _ := json.Marshal(map[string]any{"version": profile.Version, "mode": flow.Mode, "origin": flow.Origin})
		if _, err := tx.TimelineAppend(ctx, &store.TimelineEvent{UserID: userID, Kind: "login.success", Detail: detail, At: h.cfg.Now()}); err != nil {
			return fmt.Errorf("authdelegate: timeline: %w", err)
		}
		return nil
	})
	if err != nil {
		h.errorf(ctx, "callback: store login", err)
		return nil, &loginFailure{result: loginInternalError, status: http.StatusServiceUnavailable, code: "login_failed",
			title: "Sign-in failed", message: "The sign-in could not be saved. Please try again in a moment."}
	}
	if flow.Mode == modePopup {
		tr, err := h.mint(profile)
		if err != nil {
			h.errorf(ctx, "callback: mint token", err)
			return nil, &loginFailure{result: loginInternalError, status: http.StatusServiceUnavailable, code: "login_failed",
				title: "Sign-in failed", message: "Please try again in a moment."}
		}
		res.token = tr
	}
	return res, nil
}

// exchangeValue is the stored side of a redirect-mode code: the credential,
// sealed with the session key and bound to the code's hash.
type exchangeValue struct {
	Origin string `json:"origin"`
	Sealed []byte `json:"sealed"`
}

// failLogin answers a failed callback. With a known flow, a popup tells its
// opener (the site origin only) and a redirect goes back to the site with
// the error in the fragment; without one there is only the page.
func (h *Handler) failLogin(w http.ResponseWriter, r *http.Request, flow *loginFlow, f loginFailure) {
	h.metrics.logins.WithLabelValues(f.result).Inc()
	if flow != nil && flow.Mode == modeRedirect {
		http.Redirect(w, r, flow.ReturnTo+"#ssogate_error="+url.QueryEscape(f.code), http.StatusSeeOther)
		return
	}
	pd := pageData{Title: f.title, Message: f.message}
	if flow != nil {
		pd.Target = flow.Origin
		pd.Result = &loginMessage{Type: "ssogate.login", Error: f.code}
	}
	h.renderPage(w, f.status, pd)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
