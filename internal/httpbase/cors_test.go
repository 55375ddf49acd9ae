package httpbase

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://App.Example", "https://app.example", true},
		{"https://app.example:443", "https://app.example", true},
		{"http://app.example:80/", "http://app.example", true},
		{"http://app.example:8080", "http://app.example:8080", true},
		{"http://[::1]:3000", "http://[::1]:3000", true},
		{"https://app.example/path", "", false},
		{"https://user@app.example", "", false},
		{"ftp://app.example", "", false},
		{"app.example", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, err := NormalizeOrigin(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	base := CORSConfig{
		Origins:       []string{"https://App.example:443", "not an origin"},
		Methods:       []string{http.MethodGet, http.MethodPost},
		Headers:       []string{"Authorization", "Content-Type"},
		ExposeHeaders: []string{"Content-Type"},
		MaxAge:        10 * time.Minute,
		Refusal:       "go away",
	}
	refuse, serve, anyOrigin, public := base, base, base, CORSConfig{Wildcard: true}
	serve.Mode = CORSServe
	serve.ExposeHeaders = nil
	anyOrigin.Origins = []string{"*"}
	const app, evil = "https://app.example", "https://evil.example"
	tests := []struct {
		name         string
		cfg          CORSConfig
		method       string
		origin       string
		status       int
		allowOrigin  string
		allowMethods string
		expose       string
		served, vary bool
		refusalCode  bool
		refusalText  string
		maxAge       string
		allowHeaders string
	}{
		{name: "refuse: allowed origin served", cfg: refuse, method: "POST", origin: app, status: 200,
			allowOrigin: app, expose: "Content-Type", served: true, vary: true},
		{name: "refuse: normalised origin matches", cfg: refuse, method: "GET", origin: "https://APP.example", status: 200,
			allowOrigin: "https://APP.example", expose: "Content-Type", served: true, vary: true},
		{name: "refuse: other origin refused", cfg: refuse, method: "POST", origin: evil, status: 403, vary: true,
			refusalCode: true, refusalText: "go away"},
		{name: "refuse: no origin served", cfg: refuse, method: "POST", status: 200, served: true, vary: true},
		{name: "refuse: preflight allowed", cfg: refuse, method: "OPTIONS", origin: app, status: 204, allowOrigin: app,
			allowMethods: "GET, POST", allowHeaders: "Authorization, Content-Type", maxAge: "600", expose: "Content-Type", vary: true},
		{name: "refuse: preflight other origin", cfg: refuse, method: "OPTIONS", origin: evil, status: 403, vary: true,
			refusalCode: true, refusalText: "go away"},
		{name: "refuse: OPTIONS without origin", cfg: refuse, method: "OPTIONS", status: 204, vary: true},
		{name: "serve: allowed origin", cfg: serve, method: "GET", origin: app, status: 200, allowOrigin: app, served: true, vary: true},
		{name: "serve: other origin served without headers", cfg: serve, method: "POST", origin: evil, status: 200, served: true, vary: true},
		{name: "serve: preflight other origin", cfg: serve, method: "OPTIONS", origin: evil, status: 403, vary: true,
			refusalCode: true, refusalText: "go away"},
		{name: "serve: preflight without origin", cfg: serve, method: "OPTIONS", status: 403, vary: true,
			refusalCode: true, refusalText: "go away"},
		{name: "any origin echoes", cfg: anyOrigin, method: "GET", origin: evil, status: 200, allowOrigin: evil,
			expose: "Content-Type", served: true, vary: true},
		{name: "public wildcard", cfg: public, method: "GET", origin: evil, status: 200, allowOrigin: "*", served: true},
		{name: "public wildcard without origin", cfg: public, method: "GET", status: 200, allowOrigin: "*", served: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			served := false
			h := NewCORS(tc.cfg).Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				served = true
				_, _ = io.WriteString(w, "ok")
			}))
			req := httptest.NewRequest(tc.method, "/api", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			require.Equal(t, tc.status, w.Code)
			require.Equal(t, tc.served, served)
			require.Equal(t, tc.allowOrigin, w.Header().Get("Access-Control-Allow-Origin"))
			require.Equal(t, tc.allowMethods, w.Header().Get("Access-Control-Allow-Methods"))
			require.Equal(t, tc.allowHeaders, w.Header().Get("Access-Control-Allow-Headers"))
			require.Equal(t, tc.maxAge, w.Header().Get("Access-Control-Max-Age"))
			require.Equal(t, tc.expose, w.Header().Get("Access-Control-Expose-Headers"))
			require.Empty(t, w.Header().Get("Access-Control-Allow-Credentials"))
			if tc.vary {
				require.Equal(t, "Origin", w.Header().Get("Vary"))
			} else {
				require.Empty(t, w.Header().Get("Vary"))
			}
			if tc.refusalCode {
				require.JSONEq(t, `{"error":{"code":"origin_not_allowed","message":"`+tc.refusalText+`"}}`, w.Body.String())
			}
		})
	}
}

func TestCORSApplyReports(t *testing.T) {
	t.Parallel()
	c := NewCORS(CORSConfig{Origins: []string{"https://app.example"}, Mode: CORSServe})
	for origin, want := range map[string]bool{"https://app.example": true, "https://evil.example": false, "": false, "null": false} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		require.Equal(t, want, c.Apply(httptest.NewRecorder(), req), origin)
	}
}
