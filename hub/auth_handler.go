package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// callbackPattern is what a JSONP callback name may be: a JavaScript
// identifier or a short dotted path of them. Nothing that could end the
// call or start another statement fits.
var callbackPattern = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*){0,4}$`)

// maxCallbackLength bounds a JSONP callback name.
const maxCallbackLength = 128

// validCallback reports whether name is an acceptable JSONP callback.
func validCallback(name string) bool {
	return len(name) <= maxCallbackLength && callbackPattern.MatchString(name)
}

// envelope is the auth API's answer, success or error (spec §5.3). Errors
// also carry the project's {"error":{code,message}} object, so both
// Livefyre's clients (which read status/code) and ours understand them.
type envelope struct {
	Status string                `json:"status"`
	Code   int                   `json:"code"`
	Data   *authData             `json:"data,omitempty"`
	Msg    string                `json:"msg,omitempty"`
	Error  *httpbase.ErrorDetail `json:"error,omitempty"`
}

type authData struct {
	Profile       authProfile `json:"profile"`
	Token         authToken   `json:"token"`
	AuthToken     authToken   `json:"auth_token"`
	ModScopes     modScopes   `json:"modScopes"`
	IsModAnywhere bool        `json:"isModAnywhere"`
	// CollectionID and Permissions answer a request that names a site and
	// an article of a collection the hub knows (collection_handler.go).
	CollectionID string       `json:"collection_id,omitempty"`
	Permissions  *permissions `json:"permissions,omitempty"`
}

// authProfile is data.profile. The URLs a site did not give are null, as
// in Livefyre's answers; a user without an image has the default avatar.
type authProfile struct {
	ID          string  `json:"id"`
	DisplayName string  `json:"displayName"`
	Avatar      string  `json:"avatar"`
	ProfileURL  *string `json:"profileUrl"`
	SettingsURL *string `json:"settingsUrl"`
}

// optionalURL is u, or nil (JSON null) when empty.
func optionalURL(u string) *string {
	if u == "" {
		return nil
	}
	return &u
}

type authToken struct {
	Value string `json:"value"`
	TTL   int64  `json:"ttl"`
}

type modScopes struct {
	Collections []string `json:"collections"`
	Networks    []string `json:"networks"`
	Sites       []string `json:"sites"`
}

// handleAuth is the auth API: GET /api/v3.0/auth/?lftoken=…[&callback=…].
// It verifies the userAuthToken (a system token, a user "system" in any
// case and the hub's own app-session tokens are refused with 403), makes
// sure the hub knows the user (a new user is created from the token and
// pulled), and answers the envelope with a new app-session token
// (data.token: the hub's own key, at most TokenTTL and never past the
// userAuthToken's expiry) and the userAuthToken echoed (data.auth_token,
// as Livefyre did). The answer is:
// JSONP (always HTTP 200, the envelope's code tells) when callback is
// given, JSON with CORS for app origins otherwise.
func (h *Handler) handleAuth(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		h.cors.Preflight(w, r)
		return
	}
	callback := r.URL.Query().Get("callback")
	if callback != "" && !validCallback(callback) {
		h.metrics.auth.WithLabelValues("bad_request").Inc()
		h.writeEnvelope(w, r, "", errorEnvelope(httpbase.Errorf(http.StatusBadRequest, "invalid_callback",
			"callback must be a JavaScript identifier or dotted path of at most %d characters", maxCallbackLength)))
		return
	}
	data, err := h.auth(r)
	if err != nil {
		ae := h.errs.Resolve(r, err)
		h.metrics.auth.WithLabelValues(ae.Code).Inc()
		h.writeEnvelope(w, r, callback, errorEnvelope(ae))
		return
	}
	h.metrics.auth.WithLabelValues("ok").Inc()
	h.writeEnvelope(w, r, callback, envelope{Status: "ok", Code: http.StatusOK, Data: data})
}

func errorEnvelope(ae *httpbase.Error) envelope {
	return envelope{Status: "error", Code: ae.Status, Msg: ae.Message,
		Error: &httpbase.ErrorDetail{Code: ae.Code, Message: ae.Message}}
}

func (h *Handler) auth(r *http.Request) (*authData, error) {
	token := r.URL.Query().Get(livefyre.FieldLFToken)
	n, claims, err := h.verifyUser(r, token)
	if err != nil {
		if n, nerr := h.networkOf(r, token); nerr == nil && n.isSessionToken(token) {
			return nil, errSessionAsUAT
		}
		return nil, err
	}
	// A system token is the network owner, not a user: exchanging it (or a
	// user token for "System") would turn a one-hour pull token into a
	// month of owner access.
	if tokens.IsReservedUserID(claims.UserID) {
		return nil, errSystemUser
	}
	ctx := r.Context()
	now := h.cfg.Now()
	// The app session lasts no longer than the token that granted it.
	expires := now.Add(h.cfg.TokenTTL)
	if claims.Expires.Before(expires) {
		expires = claims.Expires
	}
	issued, err := n.session.MintUntil(claims.UserID, expires)
	if errors.Is(err, tokens.ErrInvalidTTL) {
		// Less than a second left (within the verifier's leeway).
		return nil, errTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("hub: mint token: %w", err)
	}
	rp, err := h.store.RemoteProfileGet(ctx, n.name, claims.UserID)
	if errors.Is(err, store.ErrNotFound) {
		rp, err = h.firstSight(r, n, claims)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("hub: read remote profile: %w", err)
	}
	if rp == nil {
		rp = &store.RemoteProfile{Network: n.name, UserID: claims.UserID}
	}
	var doc livefyre.ReceivedProfile
	if len(rp.Data) > 0 {
		_ = json.Unmarshal(rp.Data, &doc)
	}
	data := &authData{
		Profile: authProfile{
			ID:          claims.UserID + "@" + n.name,
			DisplayName: displayName(claims, rp),
			Avatar:      h.avatarURL(r, rp.AvatarURL),
			ProfileURL:  optionalURL(doc.ProfileURL),
			SettingsURL: optionalURL(doc.SettingsURL),
		},
		Token:     authToken{Value: issued, TTL: expires.Unix() - now.Unix()},
		AuthToken: authToken{Value: token, TTL: max(0, int64(claims.Expires.Sub(now)/time.Second))},
		ModScopes: modScopes{Collections: []string{}, Networks: []string{}, Sites: []string{}},
	}
	networkMod := doc.Moderator != nil && *doc.Moderator
	if networkMod {
		data.ModScopes.Networks = []string{n.name}
	}
	if err := h.collectionAnswer(r, n, claims.UserID, networkMod, data); err != nil {
		return nil, err
	}
	data.IsModAnywhere = networkMod || len(data.ModScopes.Sites) > 0 || len(data.ModScopes.Collections) > 0
	return data, nil
}

// firstSight creates the remote profile of a user the hub has never seen,
// from the token, and queues its first pull (spec §3.4: Livefyre imported
// users on first login). Without a registered pull URL the user is only
// recorded, as pending.
func (h *Handler) firstSight(r *http.Request, n *network, claims *tokens.Claims) (*store.RemoteProfile, error) {
	ctx := r.Context()
	name := tokens.SanitizeDisplayName(claims.DisplayName)
	err := h.queuePull(ctx, n.name, claims.UserID, name)
	if errors.Is(err, errNoPullURL) {
		// Parked: no sweeper claims a pull there is no URL for; the next
		// ping after a registration leases it.
		_, err = h.store.RemoteProfileTouch(ctx, store.RemoteProfileTouchParams{
			Network: n.name, UserID: claims.UserID, DisplayName: name, At: h.cfg.Now(),
			PullLeaseUntil: parkedLease,
		})
	}
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(ctx, "hub: new user from a token", "network", n.name, "user_id", claims.UserID)
	return h.store.RemoteProfileGet(ctx, n.name, claims.UserID)
}

// displayName: the token's wins (Livefyre: "Display name values in the
// userAuthToken take precedence"), then the pulled one, then the id. Names
// are repaired, not refused (tokens.SanitizeDisplayName): Livefyre's
// libraries sign any name, so a token with a bidi override or 80
// characters still logs its user in, under a name cut to 50 characters
// with the invisible ones dropped.
func displayName(claims *tokens.Claims, rp *store.RemoteProfile) string {
	if name := tokens.SanitizeDisplayName(claims.DisplayName); name != "" {
		return name
	}
	if name := tokens.SanitizeDisplayName(rp.DisplayName); name != "" {
		return name
	}
	return claims.UserID
}

// writeEnvelope answers as JSONP when callback is set (HTTP 200: a script
// with an error status would not run), else as JSON with the envelope's
// code as the status and CORS for app origins.
func (h *Handler) writeEnvelope(w http.ResponseWriter, r *http.Request, callback string, env envelope) {
	w.Header().Set("Cache-Control", "no-store")
	if callback == "" {
		h.cors.Apply(w, r)
		httpbase.WriteJSON(w, env.Code, env)
		return
	}
	body, err := json.Marshal(env)
	if err != nil {
		body = []byte(`{"status":"error","code":500,"msg":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	// The leading comment keeps the answer from being sniffed as anything
	// but script.
	_, _ = fmt.Fprintf(w, "/**/%s(%s);\n", callback, body)
}

// handleScript serves one of the hub's scripts: auth.js, the
// Livefyre.js-compatible auth module, and comments.js, the demo app. Both
// find the hub's URL from their own src, so they need no configuration.
func (h *Handler) handleScript(name string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		publicCORS.Apply(w, r)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	}
}
