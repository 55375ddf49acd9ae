package authdelegate

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gorilla/mux"
	"golang.org/x/sync/singleflight"

	"github.com/ssogate/ssogate/internal/httpbase"
)

// Handler serves the gateway's browser API. Create it with New, register its
// routes with Mount, run the event fan-out with Run, and release it with
// Close.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	store   Store
	origins map[string]bool
	sealer  *sealer
	metrics *metrics

	cookieSecure bool
	cookiePath   string

	prov    providerCache
	fanout  *fanout
	refresh singleflight.Group

	closeOnce sync.Once
	closed    chan struct{}
}

// New validates cfg (after WithDefaults) and builds a Handler. It tries
// provider discovery once; when the provider does not answer yet, New still
// succeeds and discovery is retried on the next request that needs it.
func New(ctx context.Context, cfg Config) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:     cfg,
		log:     cfg.Logger,
		store:   cfg.Store,
		origins: map[string]bool{},
		closed:  make(chan struct{}),
	}
	for _, o := range cfg.AllowedOrigins {
		n, _ := normalizeOrigin(o)
		h.origins[n] = true
	}
	var err error
	if h.sealer, err = newSealer(cfg.SessionKey, cfg.PreviousSessionKeys); err != nil {
		return nil, err
	}
	if h.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	pub, _ := url.Parse(cfg.PublicURL)
	h.cookieSecure = pub.Scheme == "https"
	h.cookiePath = strings.TrimRight(pub.EscapedPath(), "/") + "/callback"
	h.fanout = newFanout(h)
	if _, err := h.provider(ctx); err != nil {
		h.log.WarnContext(ctx, "openid provider discovery failed; will retry on demand",
			slog.String("issuer", cfg.IssuerURL), slog.String("error", err.Error()))
	}
	return h, nil
}

// Mount registers the routes on r (see the package documentation).
func (h *Handler) Mount(r *mux.Router) {
	r.HandleFunc("/login", h.handleLogin).Methods(http.MethodGet)
	r.HandleFunc("/callback", h.handleCallback).Methods(http.MethodGet)
	r.HandleFunc("/backchannel-logout", h.handleBackchannelLogout).Methods(http.MethodPost)
	r.HandleFunc(postLogoutPath, h.handlePostLogout).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/authdelegate.js", h.handleScript).Methods(http.MethodGet, http.MethodHead)
	api := func(path string, fn http.HandlerFunc, method string) {
		r.Handle(path, h.cors(fn)).Methods(method, http.MethodOptions)
	}
	api("/session/exchange", h.handleExchange, http.MethodPost)
	api("/token", h.handleToken, http.MethodPost)
	api("/logout", h.handleLogout, http.MethodPost)
	api("/events", h.handleEvents, http.MethodGet)
}

// Close ends every open event stream of this Handler. It does not close the
// store. Safe to call more than once.
func (h *Handler) Close() error {
	h.closeOnce.Do(func() { close(h.closed) })
	return nil
}

// allowedOrigin reports whether the serialized origin o is configured.
func (h *Handler) allowedOrigin(o string) bool {
	n, err := normalizeOrigin(o)
	return err == nil && h.origins[n]
}

// cors answers preflights and adds CORS headers for allowed origins. It never
// allows credentials: the API authenticates with a bearer header only. A
// request from a browser page on any other origin is refused outright.
func (h *Handler) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !h.allowedOrigin(origin) {
				writeError(w, errForbiddenOrigin)
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", "Content-Type")
		}
		if r.Method == http.MethodOptions {
			if origin == "" {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// apiError is an error with its HTTP answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return "authdelegate: " + e.code + ": " + e.message }

var (
	errForbiddenOrigin = &apiError{http.StatusForbidden, "origin_not_allowed", "this origin may not use the gateway"}
	errUnauthorized    = &apiError{http.StatusUnauthorized, "unauthorized", "a valid session credential is required"}
	errSessionEnded    = &apiError{http.StatusUnauthorized, "session_ended", "the session has ended"}
	errBadRequest      = &apiError{http.StatusBadRequest, "bad_request", "the request is malformed"}
	errUnavailable     = &apiError{http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable"}
)

// writeError maps err onto one JSON error answer; unknown errors become 500
// with a generic message (the cause is logged by the caller).
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		if ae.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		httpbase.WriteError(w, ae.status, ae.code, ae.message)
		return
	}
	if errors.Is(err, errProviderUnavailable) {
		httpbase.WriteError(w, http.StatusBadGateway, "provider_unavailable", "the sign-in provider did not answer")
		return
	}
	httpbase.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// bearer extracts the credential of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	cred, ok := httpbase.BearerToken(r)
	if !ok || !credentialShape.MatchString(cred) {
		return "", false
	}
	return cred, true
}

// errorf logs an internal failure with the request's context.
func (h *Handler) errorf(ctx context.Context, msg string, err error, attrs ...slog.Attr) {
	args := []any{slog.String("error", err.Error())}
	for _, a := range attrs {
		args = append(args, a)
	}
	h.log.ErrorContext(ctx, fmt.Sprintf("authdelegate: %s", msg), args...)
}
