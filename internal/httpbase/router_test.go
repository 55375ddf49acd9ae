package httpbase

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

type routerBundle struct {
	router *Router
	server *httptest.Server
	logs   *logBuffer
}

func setupRouter(t *testing.T, checks ...Check) *routerBundle {
	t.Helper()
	logs := &logBuffer{}
	router, err := NewRouter(RouterConfig{Logger: logs.logger(), ReadyChecks: checks})
	require.NoError(t, err)
	router.Handle("/things/{id}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}), http.MethodGet)
	router.Handle("/panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	server := httptest.NewServer(router)
	t.Cleanup(server.Close)
	return &routerBundle{router: router, server: server, logs: logs}
}

func (b *routerBundle) do(t *testing.T, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.server.URL+path, nil)
	require.NoError(t, err)
	resp, err := b.server.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestRouterErrors(t *testing.T) {
	t.Parallel()
	b := setupRouter(t)

	tests := []struct {
		name   string
		method string
		path   string
		status int
		code   string
	}{
		{name: "not found", method: http.MethodGet, path: "/nope", status: 404, code: "not_found"},
		{name: "method not allowed", method: http.MethodDelete, path: "/things/1", status: 405, code: "method_not_allowed"},
		{name: "panic", method: http.MethodGet, path: "/panic", status: 500, code: "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := b.do(t, tt.method, tt.path)
			require.Equal(t, tt.status, resp.StatusCode)
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			require.NotEmpty(t, resp.Header.Get(RequestIDHeader))
			var e ErrorBody
			require.NoError(t, json.Unmarshal([]byte(body), &e))
			require.Equal(t, tt.code, e.Error.Code)
			require.NotEmpty(t, e.Error.Message)
		})
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setupRouter(t)
	resp, body := b.do(t, http.MethodGet, "/healthz")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"status":"ok"}`, body)
	// Probes are logged at debug, not info.
	lines := b.logs.lines(t)
	require.Equal(t, "DEBUG", lines[len(lines)-1]["level"])
}

type fakeDatabase struct {
	pingErr    error
	current    bool
	currentErr error
}

func (d fakeDatabase) Ping(context.Context) error { return d.pingErr }
func (d fakeDatabase) MigrationsCurrent(context.Context) (bool, error) {
	return d.current, d.currentErr
}

func TestReadyz(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		db     fakeDatabase
		status int
		body   string
	}{
		{
			name:   "ready",
			db:     fakeDatabase{current: true},
			status: 200,
			body:   `{"status":"ready","checks":{"database":"ok","migrations":"ok"}}`,
		},
		{
			name:   "database down",
			db:     fakeDatabase{pingErr: errors.New("dial tcp: refused"), currentErr: errors.New("dial tcp: refused")},
			status: 503,
			body: `{"status":"not_ready","checks":{"database":"failed","migrations":"failed"},
				"error":{"code":"not_ready","message":"not ready: database, migrations"}}`,
		},
		{
			name:   "migrations pending",
			db:     fakeDatabase{current: false},
			status: 503,
			body: `{"status":"not_ready","checks":{"database":"ok","migrations":"failed"},
				"error":{"code":"not_ready","message":"not ready: migrations"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupRouter(t, DatabaseChecks(tt.db)...)
			resp, body := b.do(t, http.MethodGet, "/readyz")
			require.Equal(t, tt.status, resp.StatusCode)
			require.JSONEq(t, tt.body, body)
			require.NotContains(t, body, "refused", "internal error text must not reach the client")
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setupRouter(t)
	for range 3 {
		resp, _ := b.do(t, http.MethodGet, "/things/42")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	b.do(t, http.MethodGet, "/nope")
	b.do(t, "BREW", "/things/1")

	resp, body := b.do(t, http.MethodGet, "/metrics")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "go_goroutines ")
	require.Contains(t, body, "process_start_time_seconds ")
	require.Contains(t, body, `ssogate_http_requests_total{code="200",method="GET",route="/things/{id}"} 3`)
	require.Contains(t, body, `ssogate_http_requests_total{code="404",method="GET",route="unmatched"} 1`)
	require.Contains(t, body, `ssogate_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`)
	require.Contains(t, body, `ssogate_http_request_duration_seconds_count{method="GET",route="/things/{id}"} 3`)
	require.Contains(t, body, "ssogate_http_requests_in_flight 1") // this scrape
	require.NotContains(t, body, "/things/42")
}

func TestRoutersShareRegistry(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	first, err := NewRouter(RouterConfig{Registry: reg})
	require.NoError(t, err)
	second, err := NewRouter(RouterConfig{Registry: reg})
	require.NoError(t, err)

	rec := httptest.NewRecorder()
	first.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	second.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	families, err := reg.Gather()
	require.NoError(t, err)
	var total float64
	for _, f := range families {
		if f.GetName() == "ssogate_http_requests_total" {
			for _, m := range f.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	require.InDelta(t, 2, total, 0)
}

func TestNewHTTPMetricsConflict(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ssogate_http_requests_in_flight", Help: "a counter, not a gauge",
	}))
	_, err := NewHTTPMetrics(reg)
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "httpbase: "), err.Error())
}

func TestReadyzWhileDraining(t *testing.T) {
	t.Parallel()
	draining := make(chan struct{})
	close(draining)
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	req = req.WithContext(context.WithValue(req.Context(), drainingKey, draining))
	rec := httptest.NewRecorder()
	Readyz(nil, DatabaseChecks(fakeDatabase{current: false})).ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status":"not_ready","checks":{"database":"ok","migrations":"failed"},
		"error":{"code":"not_ready","message":"not ready: migrations, shutting down"}}`, rec.Body.String())
}
