package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAdminCheck guards the hub's users page with the admin token, as a
// bearer token or a Basic password, and leaves it open without one.
func TestAdminCheck(t *testing.T) {
	t.Parallel()
	require.Nil(t, adminCheck(""), "no admin token: open (the demo)")

	check := adminCheck("admin-token-0123456789")
	for _, tt := range []struct {
		name  string
		setup func(r *http.Request)
		want  bool
	}{
		{"none", func(*http.Request) {}, false},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer admin-token-0123456789") }, true},
		{"bearer lower case", func(r *http.Request) { r.Header.Set("Authorization", "bearer admin-token-0123456789") }, true},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer admin-token-012345678") }, false},
		{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, false},
		{"basic", func(r *http.Request) { r.SetBasicAuth("admin", "admin-token-0123456789") }, true},
		{"wrong basic", func(r *http.Request) { r.SetBasicAuth("admin", "nope") }, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/users", nil)
		tt.setup(r)
		w := httptest.NewRecorder()
		require.Equal(t, tt.want, check(w, r), tt.name)
		if !tt.want {
			require.Equal(t, http.StatusUnauthorized, w.Code, tt.name)
			require.Contains(t, w.Body.String(), `"code":"unauthorized"`, tt.name)
		}
	}
}
