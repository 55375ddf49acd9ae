package hub

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/internal/drain"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/txbatch"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
	"github.com/ssogate/ssogate/web"
)

// Handler is the hub: its HTTP endpoints and its pull worker.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	store    Store
	networks map[string]*network
	// names lists the networks in config order (the users page's tabs).
	names []string
	// cors is the app origins' policy for the auth, comment and update
	// APIs: other origins are served without CORS headers, their
	// preflights refused.
	cors    *httpbase.CORS
	metrics *metrics
	// strict refuses private targets; permissive (for networks that allow
	// them) does not. Both share guard's test hook.
	strict, permissive *http.Client
	guard              *dialGuard
	// retryAfter carries a pull's Retry-After from Work to NextRetry, keyed
	// by job id; both run in this process one after the other.
	retryAfter sync.Map
	// jitter returns a number in [0, 1) that spreads retry delays
	// (retryDelay): rand.Float64; tests fix it.
	jitter     func() float64
	pages      *template.Template
	authJS     []byte
	commentsJS []byte
	// admin guards the users routes; nil without an admin token.
	admin *httpbase.Admin
	// streams counts the open update streams per client address.
	streams streamCounter

	// pulls is the fast path of pulls (pull_drain.go).
	pulls *drain.Drainer[pullItem, pullOutcome]
	// pingTx commits concurrent pings together (group commit, runPings).
	pingTx *txbatch.Group[store.Tx, *pingReq]
	// pullURLs are the registrations pings read (pull_urls.go).
	pullURLs pullURLs
	// errs is the one place that maps errors to HTTP answers.
	errs httpbase.ErrorWriter
}

// network is one configured network with its token codec.
type network struct {
	name  string
	short string
	codec *tokens.Codec
	// session mints and verifies the hub's own app-session tokens
	// (app_session.go).
	session      *tokens.Codec
	allowPrivate bool
}

// New builds the hub from cfg (WithDefaults is applied). It registers the
// hub's metrics on cfg.Registerer.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:      cfg,
		log:      cfg.Logger,
		store:    cfg.Store,
		networks: map[string]*network{},
	}
	var errs []error
	for _, nc := range cfg.Networks {
		codec, err := tokens.New(tokens.Config{
			Network:           nc.Name,
			Key:               nc.Key,
			PreviousKeys:      nc.PreviousKeys,
			JavaKeyTruncation: nc.JavaKeyTruncation,
			Now:               cfg.Now,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", nc.Name, err))
			continue
		}
		session, err := newSessionCodec(nc, cfg.Now)
		if err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", nc.Name, err))
			continue
		}
		short, _, _ := strings.Cut(nc.Name, ".")
		h.networks[nc.Name] = &network{
			name:         nc.Name,
			short:        short,
			codec:        codec,
			session:      session,
			allowPrivate: nc.AllowPrivateTargets || cfg.AllowPrivateTargets,
		}
		h.names = append(h.names, nc.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hub: invalid config: %w", err)
	}
	h.cors = httpbase.NewCORS(httpbase.CORSConfig{
		Origins: cfg.AppOrigins,
		Methods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		Headers: []string{"Authorization", "Content-Type"},
		MaxAge:  10 * time.Minute,
		Mode:    httpbase.CORSServe,
		Refusal: "this origin is not an app origin of the hub",
	})
	h.errs = httpbase.ErrorWriter{Logger: cfg.Logger, Prefix: "hub"}
	h.jitter = rand.Float64
	h.guard = &dialGuard{}
	h.strict, h.permissive = newPullClients(cfg.HTTPClient, h.guard, cfg.PullFollowCrossHostRedirects)

	var err error
	if h.pages, err = template.New("").Funcs(pageFuncs).ParseFS(web.Hub, "hub/*.html"); err != nil {
		return nil, fmt.Errorf("hub: parse templates: %w", err)
	}
	if h.commentsJS, err = web.Hub.ReadFile("hub/comments.js"); err != nil {
		return nil, fmt.Errorf("hub: read comments.js: %w", err)
	}
	if h.authJS, err = web.Hub.ReadFile("hub/auth.js"); err != nil {
		return nil, fmt.Errorf("hub: read auth.js: %w", err)
	}
	if h.metrics, err = newMetrics(cfg.Registerer, cfg.Store, cfg.Now); err != nil {
		return nil, err
	}
	if cfg.AdminToken != "" {
		if h.admin, err = httpbase.NewAdmin(httpbase.AdminConfig{Token: cfg.AdminToken, Realm: "ssogate hub admin: any user name, the admin_token as password"}); err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
	}
	h.streams.open = map[string]int{}
	h.pulls = h.newPullDrain()
	h.pingTx = txbatch.NewGroup(txbatch.GroupConfig[store.Tx, *pingReq]{
		InTx:     h.store.InTx,
		Run:      h.runPings,
		MaxBatch: pingTxBatch,
		Observe:  func(n int) { h.metrics.pingTxBatch.Observe(float64(n)) },
	})
	return h, nil
}

// Mount adds the hub's routes to r:
//
//	POST /                                   register a pull URL (Livefyre quill)
//	POST /api/v3_0/user/{id}/refresh         ping (also /api/v3.0/…)
//	POST /api/v3_0/user/{id}/logout          end the user's app sessions (also /api/v3.0/…)
//	GET  /api/v3.0/auth/                     auth API, JSON or JSONP (also v3_0, no slash)
//	GET  /auth.js                            the Livefyre.js-compatible auth module
//	GET  /avatar/default.svg                 the default avatar (hub.default_avatar_url unset)
//	POST /api/v3.0/site/{siteId}/collection/{create|update}/  Livefyre's collection API (also v3_0)
//
// with an admin token (Config.AdminToken), behind httpbase.Admin:
//
//	PUT|DELETE /api/networks/{network}/collections/{id}/moderators/{user}  collection moderators
//	GET  /users                              users page
//	GET  /users/{network}/{id}               one user's page: remote profile and pull history
//	GET  /api/networks/{network}/users/{id}  one remote profile as JSON
//
// and with Config.DemoApp:
//
//	GET  /comments.js                        the demo app: a comment stream
//	GET  /api/networks/{network}/updates     remote profiles changed by pulls (server-sent events)
//	GET  /api/comments, POST /api/comments   the demo app's comments
func (h *Handler) Mount(r httpbase.Routes) {
	r.Handle("/", http.HandlerFunc(h.handleRegister), http.MethodPost)
	for _, v := range livefyre.APIVersions {
		r.Handle(livefyre.UserActionRoute(v, livefyre.ActionRefresh), http.HandlerFunc(h.handlePing), http.MethodPost)
		r.Handle(livefyre.UserActionRoute(v, livefyre.ActionLogout), http.HandlerFunc(h.handleLogout), http.MethodPost)
		for _, p := range []string{"/api/" + v + "/auth/", "/api/" + v + "/auth"} {
			r.Handle(p, http.HandlerFunc(h.handleAuth), http.MethodGet, http.MethodOptions)
		}
		r.Handle("/api/"+v+"/site/{siteId}/collection/{action}/", http.HandlerFunc(h.handleCollection), http.MethodPost)
		r.Handle("/api/"+v+"/site/{siteId}/collection/{action}", http.HandlerFunc(h.handleCollection), http.MethodPost)
	}
	r.Handle("/auth.js", http.HandlerFunc(h.handleScript("auth.js", h.authJS)), http.MethodGet, http.MethodHead)
	r.Handle(defaultAvatarPath, http.HandlerFunc(h.handleDefaultAvatar), http.MethodGet, http.MethodHead)
	if h.admin != nil {
		r.Handle("/users", h.admin.Middleware(http.HandlerFunc(h.handleUsersPage)), http.MethodGet)
		r.Handle("/users/{network}/{id}", h.admin.Middleware(http.HandlerFunc(h.handleUserPage)), http.MethodGet)
		r.Handle("/api/networks/{network}/users/{id}", h.admin.Middleware(http.HandlerFunc(h.handleUserJSON)), http.MethodGet)
		r.Handle("/api/networks/{network}/collections/{id}/moderators/{user}",
			h.admin.Middleware(http.HandlerFunc(h.handleCollectionModerator)), http.MethodPut, http.MethodDelete)
	}
	if h.cfg.DemoApp {
		r.Handle("/comments.js", http.HandlerFunc(h.handleScript("comments.js", h.commentsJS)), http.MethodGet, http.MethodHead)
		r.Handle("/api/networks/{network}/updates", http.HandlerFunc(h.handleUpdates), http.MethodGet, http.MethodOptions)
		r.Handle("/api/comments", http.HandlerFunc(h.handleComments), http.MethodGet, http.MethodPost, http.MethodOptions)
	}
}

// AddWorkers registers the pull worker (queue "pull") on workers.
func (h *Handler) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, &pullWorker{h: h})
}

// Token problems, shared by every endpoint.
var (
	errTokenMissing = httpbase.Errorf(http.StatusForbidden, "token_missing", "a token is required")
	errTokenInvalid = httpbase.Errorf(http.StatusForbidden, "token_invalid", "the token is invalid or expired")
	errNotSystem    = httpbase.Errorf(http.StatusForbidden, "token_not_system", "a system token of the network is required")
	errWrongNetwork = httpbase.Errorf(http.StatusForbidden, "wrong_network", "the token is for another network than the host names")
	errNoNetwork    = httpbase.Errorf(http.StatusForbidden, "unknown_network", "the token's domain is not a network of this hub")
)

// networkOf picks the network of a request from the token's domain (read
// unverified, only to choose the key) and checks that the Host, when it
// names a network, names the same one. The caller verifies the token with
// the network's codec.
func (h *Handler) networkOf(r *http.Request, token string) (*network, error) {
	if token == "" {
		return nil, errTokenMissing
	}
	domain, err := tokens.PeekDomain(token)
	if err != nil {
		return nil, errTokenInvalid
	}
	n := h.networks[domain]
	if n == nil {
		return nil, errNoNetwork
	}
	if hn := h.hostNetwork(r.Host); hn != nil && hn != n {
		return nil, errWrongNetwork
	}
	return n, nil
}

// hostNetwork returns the network the Host header names, in any of the
// forms Livefyre's libraries use (spec §1): {short}.quill.fyre.co,
// quill.{short}.fyre.co, the network name itself, {short}.admin.fyre.co.
// Nil when the host names none (the usual case for a self-hosted hub).
func (h *Handler) hostNetwork(host string) *network {
	if hostOnly, _, err := net.SplitHostPort(host); err == nil {
		host = hostOnly
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, name := range h.names {
		n := h.networks[name]
		switch host {
		case n.name, n.short + ".quill.fyre.co", "quill." + n.short + ".fyre.co", n.short + ".admin.fyre.co":
			return n
		}
		if n.name == "livefyre.com" && host == "admin.livefyre.com" {
			return n
		}
	}
	return nil
}

// verifySystem checks a system token and returns its network.
func (h *Handler) verifySystem(r *http.Request, token string) (*network, error) {
	n, err := h.networkOf(r, token)
	if err != nil {
		return nil, err
	}
	if _, err := n.codec.VerifySystem(token); err != nil {
		if errors.Is(err, tokens.ErrNotSystem) {
			return nil, errNotSystem
		}
		return nil, errTokenInvalid
	}
	return n, nil
}

// verifyUser checks a user token (any user) and returns its network and
// claims.
func (h *Handler) verifyUser(r *http.Request, token string) (*network, *tokens.Claims, error) {
	n, err := h.networkOf(r, token)
	if err != nil {
		return nil, nil, err
	}
	claims, err := n.codec.Verify(token)
	if err != nil {
		return nil, nil, errTokenInvalid
	}
	return n, claims, nil
}

// publicCORS is the policy of the hub's public resources (its scripts, the
// default avatar): any page may read them.
var publicCORS = httpbase.NewCORS(httpbase.CORSConfig{Wildcard: true})
