package httpbase

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// Route names of the probes (also used to keep them out of the info log).
const (
	routeHealthz = "healthz"
	routeReadyz  = "readyz"
	routeMetrics = "metrics"
)

// RouterConfig configures NewRouter.
type RouterConfig struct {
	// Logger receives access lines and panics. Default: discard.
	Logger *slog.Logger
	// Registry holds the process's metrics and is served on /metrics.
	// Default: NewRegistry().
	Registry *prometheus.Registry
	// ReadyChecks decide /readyz (usually DatabaseChecks(store)). Default:
	// none, so ready whenever the server is not shutting down.
	ReadyChecks []Check
}

// WithDefaults returns cfg with defaults filled in.
func (cfg RouterConfig) WithDefaults() RouterConfig {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = NewRegistry()
	}
	return cfg
}

// Router is a process's one gorilla/mux router with the base around it:
// request ids, access logs, metrics, panic recovery, JSON 404 and 405, and
// /healthz, /readyz and /metrics. Domain handlers mount their routes on it
// (it implements Routes).
type Router struct {
	mux      *mux.Router
	handler  http.Handler
	registry *prometheus.Registry
}

// NewRouter builds the router.
func NewRouter(cfg RouterConfig) (*Router, error) {
	cfg = cfg.WithDefaults()
	metrics, err := NewHTTPMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	m := newMux()
	m.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", "no such page")
	})
	m.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" not allowed here")
	})
	m.Use(recordRoute)
	m.HandleFunc("/healthz", Healthz).Methods(http.MethodGet, http.MethodHead).Name(routeHealthz)
	m.Handle("/readyz", Readyz(cfg.Logger, cfg.ReadyChecks)).Methods(http.MethodGet, http.MethodHead).Name(routeReadyz)
	m.Handle("/metrics", MetricsHandler(cfg.Registry)).Methods(http.MethodGet, http.MethodHead).Name(routeMetrics)

	return &Router{
		mux:      m,
		handler:  AssignRequestID(Observe(cfg.Logger, metrics)(Recover(cfg.Logger)(FrameHeaders(m)))),
		registry: cfg.Registry,
	}, nil
}

var _ Routes = (*Router)(nil)

// Handle implements Routes.
func (r *Router) Handle(path string, h http.Handler, methods ...string) {
	muxRoutes{r: r.mux}.Handle(path, h, methods...)
}

// HandlePrefix implements Routes.
func (r *Router) HandlePrefix(prefix string, h http.Handler, methods ...string) {
	muxRoutes{r: r.mux}.HandlePrefix(prefix, h, methods...)
}

// Group implements Routes.
func (r *Router) Group(prefix string, middleware ...func(http.Handler) http.Handler) Routes {
	return muxRoutes{r: r.mux}.Group(prefix, middleware...)
}

// Registry is the process's metrics registry, to pass as the
// prometheus.Registerer of domain packages.
func (r *Router) Registry() *prometheus.Registry { return r.registry }

// ServeHTTP serves through the middleware.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.handler.ServeHTTP(w, req) }
