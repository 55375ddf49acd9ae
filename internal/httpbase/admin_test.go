package httpbase

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const adminTestToken = "admin-token-0123456789"

func newTestAdmin(t *testing.T, cfg AdminConfig) http.Handler {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = adminTestToken
	}
	a, err := NewAdmin(cfg)
	require.NoError(t, err)
	return a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}))
}

func errorCodeOf(t *testing.T, body []byte) string {
	t.Helper()
	var e ErrorBody
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	return e.Error.Code
}

func TestAdminConfig(t *testing.T) {
	t.Parallel()
	_, err := NewAdmin(AdminConfig{})
	require.Error(t, err, "no token, no guard: an empty token must never open admin routes")
	_, err = NewAdmin(AdminConfig{Token: adminTestToken, TrustedOrigins: []string{"https://ok.example", "not an origin/x"}})
	require.ErrorContains(t, err, "trusted origin")
}

func TestAdminCredentials(t *testing.T) {
	t.Parallel()
	h := newTestAdmin(t, AdminConfig{Realm: "test realm"})
	for _, tt := range []struct {
		name  string
		setup func(r *http.Request)
		want  int
	}{
		{"none", func(*http.Request) {}, http.StatusUnauthorized},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminTestToken) }, http.StatusOK},
		{"bearer, scheme in lower case", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+adminTestToken) }, http.StatusOK},
		{"bearer with spaces around", func(r *http.Request) { r.Header.Set("Authorization", "Bearer  "+adminTestToken+" ") }, http.StatusOK},
		{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, http.StatusUnauthorized},
		{"shorter", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminTestToken[:10]) }, http.StatusUnauthorized},
		{"longer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminTestToken+"0") }, http.StatusUnauthorized},
		{"same length, one byte off", func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+adminTestToken[:len(adminTestToken)-1]+"x")
		}, http.StatusUnauthorized},
		{"token without scheme", func(r *http.Request) { r.Header.Set("Authorization", adminTestToken) }, http.StatusUnauthorized},
		{"basic, any user", func(r *http.Request) { r.SetBasicAuth("whoever", adminTestToken) }, http.StatusOK},
		{"basic, empty user", func(r *http.Request) { r.SetBasicAuth("", adminTestToken) }, http.StatusOK},
		{"basic, token as user", func(r *http.Request) { r.SetBasicAuth(adminTestToken, "") }, http.StatusUnauthorized},
		{"basic, wrong password", func(r *http.Request) { r.SetBasicAuth("admin", "nope") }, http.StatusUnauthorized},
		{"basic, empty password", func(r *http.Request) { r.SetBasicAuth("admin", "") }, http.StatusUnauthorized},
		{"another scheme", func(r *http.Request) { r.Header.Set("Authorization", "Token "+adminTestToken) }, http.StatusUnauthorized},
	} {
		r := httptest.NewRequest(http.MethodGet, "/admin/x", nil)
		tt.setup(r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, tt.want, w.Code, tt.name)
		require.Equal(t, "DENY", w.Header().Get("X-Frame-Options"), tt.name)
		require.Equal(t, FrameAncestorsNone, w.Header().Get("Content-Security-Policy"), tt.name)
		if tt.want == http.StatusUnauthorized {
			require.Equal(t, "unauthorized", errorCodeOf(t, w.Body.Bytes()), tt.name)
			require.Equal(t, []string{`Bearer realm="test realm"`, `Basic realm="test realm", charset="UTF-8"`},
				w.Header().Values("WWW-Authenticate"), tt.name)
			require.NotContains(t, w.Body.String(), adminTestToken)
		}
	}
}

func TestAdminCrossOrigin(t *testing.T) {
	t.Parallel()
	h := newTestAdmin(t, AdminConfig{TrustedOrigins: []string{"https://sso.example.com"}})
	for _, tt := range []struct {
		name   string
		method string
		header map[string]string
		want   int
	}{
		{"same-origin post", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"user typed the URL", http.MethodGet, map[string]string{"Sec-Fetch-Site": "none"}, http.StatusOK},
		{"no browser headers (curl)", http.MethodPost, nil, http.StatusOK},
		{"cross-site post", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site post", http.MethodDelete, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"own origin without fetch metadata", http.MethodPost, map[string]string{"Origin": "http://admin.test"}, http.StatusOK},
		{"own host, other scheme", http.MethodPost, map[string]string{"Origin": "https://admin.test"}, http.StatusOK},
		{"foreign origin without fetch metadata", http.MethodPost, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"null origin", http.MethodPut, map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"trusted origin (public URL behind a proxy)", http.MethodPost, map[string]string{"Origin": "https://sso.example.com", "Sec-Fetch-Site": "cross-site"}, http.StatusOK},
		{"cross-site image", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, http.StatusForbidden},
		{"cross-site script", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}, http.StatusForbidden},
		{"same-site fetch", http.MethodGet, map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, http.StatusForbidden},
		{"cross-site frame", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}, http.StatusForbidden},
		{"cross-site navigation by POST", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, http.StatusForbidden},
		{"followed link", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, http.StatusOK},
	} {
		r := httptest.NewRequest(tt.method, "http://admin.test/admin/x", strings.NewReader("{}"))
		r.Header.Set("Authorization", "Bearer "+adminTestToken)
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, tt.want, w.Code, tt.name)
		require.Equal(t, "DENY", w.Header().Get("X-Frame-Options"), tt.name)
		if tt.want == http.StatusForbidden {
			require.Equal(t, "cross_origin", errorCodeOf(t, w.Body.Bytes()), tt.name)
		}
	}
	// Refused before the credentials are looked at.
	r := httptest.NewRequest(http.MethodPost, "http://admin.test/admin/x", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusForbidden, w.Code)
}

func TestRequireJSON(t *testing.T) {
	t.Parallel()
	h := RequireJSON(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, tt := range []struct {
		method, ctype string
		want          int
	}{
		{http.MethodGet, "", http.StatusNoContent},
		{http.MethodHead, "text/plain", http.StatusNoContent},
		{http.MethodOptions, "", http.StatusNoContent},
		{http.MethodPost, "application/json", http.StatusNoContent},
		{http.MethodPost, "application/json; charset=utf-8", http.StatusNoContent},
		{http.MethodPatch, "APPLICATION/JSON", http.StatusNoContent},
		{http.MethodPost, "", http.StatusUnsupportedMediaType},
		{http.MethodPost, "text/plain", http.StatusUnsupportedMediaType},
		{http.MethodPost, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{http.MethodPost, "multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{http.MethodDelete, "text/plain; x=application/json", http.StatusUnsupportedMediaType},
		{http.MethodPut, "application/json;;", http.StatusUnsupportedMediaType},
		{http.MethodPost, "application/merge-patch+json", http.StatusUnsupportedMediaType},
	} {
		r := httptest.NewRequest(tt.method, "/", nil)
		if tt.ctype != "" {
			r.Header.Set("Content-Type", tt.ctype)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, tt.want, w.Code, "%s %q", tt.method, tt.ctype)
		if tt.want == http.StatusUnsupportedMediaType {
			require.Equal(t, "unsupported_media_type", errorCodeOf(t, w.Body.Bytes()))
		}
	}
}
