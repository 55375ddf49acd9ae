package httpbase

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"
)

// routeInfo is filled by the router (recordRoute) and read by Observe, which
// runs outside the router and so cannot see mux's route.
type routeInfo struct {
	template string
	name     string
}

// recordRoute is a mux middleware that tells Observe which route matched.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := r.Context().Value(routeInfoKey).(*routeInfo); ok {
			if route := mux.CurrentRoute(r); route != nil {
				info.name = route.GetName()
				if tpl, err := route.GetPathTemplate(); err == nil {
					info.template = tpl
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// quietRoutes are logged at debug level: probes and scrapes would drown the
// access log.
var quietRoutes = map[string]bool{routeHealthz: true, routeReadyz: true, routeMetrics: true}

// maxLoggedPath bounds the path in an access log line.
const maxLoggedPath = 512

// Observe logs one JSON access line per request with slog (method, path
// without the query string, which may hold an lftoken; route, status, bytes,
// duration, request_id, remote) and records metrics (nil for none).
func Observe(logger *slog.Logger, metrics *HTTPMetrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			info := &routeInfo{}
			r = r.WithContext(context.WithValue(r.Context(), routeInfoKey, info))
			sw := &statusWriter{ResponseWriter: w}
			if metrics != nil {
				metrics.inFlight.Inc()
				defer metrics.inFlight.Dec()
			}
			defer func() {
				// A panic other than ErrAbortHandler was turned into a 500 by
				// Recover; ErrAbortHandler still passes through here.
				status := sw.statusCode()
				elapsed := time.Since(start)
				route := info.template
				if route == "" {
					route = "unmatched"
				}
				if metrics != nil {
					metrics.observe(r.Method, route, status, elapsed)
				}
				level := slog.LevelInfo
				if quietRoutes[info.name] {
					level = slog.LevelDebug
				}
				path := r.URL.Path
				if len(path) > maxLoggedPath {
					path = path[:maxLoggedPath] + "…"
				}
				// Not r.Context(): LogHandler would add request_id a second time.
				logger.LogAttrs(context.Background(), level, "http request",
					slog.String("method", r.Method),
					slog.String("path", path),
					slog.String("route", route),
					slog.Int("status", status),
					slog.Int64("bytes", sw.bytes),
					slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
					slog.String("request_id", RequestID(r.Context())),
					slog.String("remote", remoteHost(r.RemoteAddr)),
				)
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// Recover turns a handler panic into a JSON 500 (when nothing was written
// yet) and logs it with its stack. http.ErrAbortHandler is re-panicked, as
// net/http expects.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw, ok := w.(*statusWriter)
			if !ok {
				sw = &statusWriter{ResponseWriter: w}
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic in handler",
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
				)
				if !sw.wroteHeader {
					WriteError(sw, http.StatusInternalServerError, "internal", "internal error")
				} else {
					sw.status = http.StatusInternalServerError // for the access log
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// statusWriter records the status and size of a response. It unwraps for
// http.ResponseController (a streaming handler clears the write deadline
// with it) and flushes.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
