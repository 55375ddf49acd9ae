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
	"time"

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
	// cors is the browser API's cross-origin policy.
	cors    *httpbase.CORS
	sealer  *sealer
	metrics *metrics

	cookieSecure bool
	cookiePath   string

	prov    providerCache
	fanout  *fanout
	refresh singleflight.Group

	closeOnce sync.Once
	closed    chan struct{}
	// bg are the stream sweeper and writers; Close waits for them.
	bg      sync.WaitGroup
	writers streamWriters
	// ctx is the detached streams' context (their store reads); Close
	// cancels it.
	ctx    context.Context
	cancel context.CancelFunc
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
	h.writers.h = h
	h.ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, o := range cfg.AllowedOrigins {
		n, _ := httpbase.NormalizeOrigin(o)
		h.origins[n] = true
	}
	// A request from a browser page on another origin is refused outright.
	h.cors = httpbase.NewCORS(httpbase.CORSConfig{
		Origins:       cfg.AllowedOrigins,
		Methods:       []string{http.MethodGet, http.MethodPost},
		Headers:       []string{"Authorization", "Content-Type", "Last-Event-ID"},
		ExposeHeaders: []string{"Content-Type"},
		MaxAge:        10 * time.Minute,
		Mode:          httpbase.CORSRefuse,
		Refusal:       errForbiddenOrigin.Message,
	})
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
func (h *Handler) Mount(r httpbase.Routes) {
	r.Handle("/login", http.HandlerFunc(h.handleLogin), http.MethodGet)
	r.Handle("/callback", http.HandlerFunc(h.handleCallback), http.MethodGet)
	r.Handle("/backchannel-logout", http.HandlerFunc(h.handleBackchannelLogout), http.MethodPost)
	r.Handle(postLogoutPath, http.HandlerFunc(h.handlePostLogout), http.MethodGet, http.MethodHead)
	r.Handle("/authdelegate.js", http.HandlerFunc(h.handleScript), http.MethodGet, http.MethodHead)
	api := func(path string, fn http.HandlerFunc, method string) {
		r.Handle(path, h.cors.Handler(noStore(fn)), method, http.MethodOptions)
	}
	api("/session/exchange", h.handleExchange, http.MethodPost)
	api("/token", h.handleToken, http.MethodPost)
	api("/logout", h.handleLogout, http.MethodPost)
	api("/events", h.handleEvents, http.MethodGet)
}

// Close ends every open event stream of this Handler, the ones it took
// over from the server (which http.Server.Shutdown does not see) included,
// and waits for the goroutines that write them. It does not close the
// store. Safe to call more than once.
func (h *Handler) Close() error {
	h.closeOnce.Do(func() {
		close(h.closed)
		if h.cancel != nil {
			h.cancel()
		}
		h.closeStreams()
	})
	return nil
}

// noStore keeps the API's answers (tokens, credentials) out of caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

var (
	errForbiddenOrigin = &httpbase.Error{Status: http.StatusForbidden, Code: "origin_not_allowed", Message: "this origin may not use the gateway"}
	errUnauthorized    = &httpbase.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid session credential is required"}
	errSessionEnded    = &httpbase.Error{Status: http.StatusUnauthorized, Code: "session_ended", Message: "the session has ended"}
	errBadRequest      = &httpbase.Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "the request is malformed"}
	errUnavailable     = &httpbase.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the service is temporarily unavailable"}
)

// errorWriter maps errors onto JSON error answers for every Handler. It
// logs nothing: callers log unexpected errors with their context (apiFail).
var errorWriter = httpbase.ErrorWriter{Challenge: httpbase.BearerInvalidToken, Map: mapError}

// mapError is the package's one domain mapping: a provider that does not
// answer is a 502.
func mapError(err error) *httpbase.Error {
	if errors.Is(err, errProviderUnavailable) {
		return &httpbase.Error{Status: http.StatusBadGateway, Code: "provider_unavailable", Message: "the sign-in provider did not answer", Err: err}
	}
	return nil
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
