package httpbase

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"
)

// Routes is what a domain package mounts its routes on (its Handler's
// Mount(r Routes)). The router underneath is gorilla/mux, so a path may hold
// {name} variables (read them with PathValue) and a path is matched as it
// was sent, without cleaning "." and ".." segments or doubled slashes.
type Routes interface {
	// Handle routes path to h; with methods, only for those methods (a
	// request for another gets 405).
	Handle(path string, h http.Handler, methods ...string)
	// HandlePrefix routes every path that starts with prefix to h; with
	// methods, only for those methods.
	HandlePrefix(prefix string, h http.Handler, methods ...string)
	// Group returns the Routes under prefix ("" for none) whose handlers
	// run behind middleware, the first outermost. The middleware runs only
	// for a request that one of the group's routes matches.
	Group(prefix string, middleware ...func(http.Handler) http.Handler) Routes
}

// PathValue is the path variable name of the route that matched r; "" when
// it has none.
func PathValue(r *http.Request, name string) string { return mux.Vars(r)[name] }

// muxRoutes implements Routes on a gorilla/mux router. A group is the same
// router with a path prefix and middleware that wraps each of its handlers,
// not a mux subrouter, so a group's route asked with another method gets
// 405 as every route does (a subrouter would answer 404).
type muxRoutes struct {
	r          *mux.Router
	prefix     string
	middleware []func(http.Handler) http.Handler
}

func (g muxRoutes) wrap(h http.Handler) http.Handler {
	for i := len(g.middleware) - 1; i >= 0; i-- {
		h = g.middleware[i](h)
	}
	return h
}

func (g muxRoutes) Handle(path string, h http.Handler, methods ...string) {
	route := g.r.Handle(g.prefix+path, g.wrap(h))
	if len(methods) > 0 {
		route.Methods(methods...)
	}
}

func (g muxRoutes) HandlePrefix(prefix string, h http.Handler, methods ...string) {
	route := g.r.PathPrefix(g.prefix + prefix).Handler(g.wrap(h))
	if len(methods) > 0 {
		route.Methods(methods...)
	}
}

func (g muxRoutes) Group(prefix string, middleware ...func(http.Handler) http.Handler) Routes {
	return muxRoutes{
		r:          g.r,
		prefix:     g.prefix + prefix,
		middleware: append(slices.Clip(g.middleware), middleware...),
	}
}

// newMux is gorilla/mux configured as every router of the process is.
func newMux() *mux.Router {
	// SkipClean: a path with "." or ".." segments or doubled slashes
	// reaches the routes as it was sent, so a bad id gets its JSON error;
	// cleaning would answer a bare 301 to another URL instead.
	return mux.NewRouter().SkipClean(true)
}

// Mux is a bare router: Routes and http.Handler with none of Router's
// middleware or probes (gorilla/mux's plain-text 404 and 405). Tests and
// side servers mount handlers on it.
type Mux struct{ muxRoutes }

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{muxRoutes{r: newMux()}} }

// ServeHTTP routes the request.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.r.ServeHTTP(w, r) }
