package devidp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLoginForm feeds arbitrary login form posts and login page queries to
// the provider: outside input must never cause a 5xx or a panic.
func FuzzLoginForm(f *testing.F) {
	cfg := validConfig()
	p, err := New(cfg)
	require.NoError(f, err)

	f.Add("id=x&username=alice&password=alice-password&action=login", "id=x")
	f.Add("action=cancel&id=", "")
	f.Add("id=%zz&username=%", "id=%zz")
	f.Add(strings.Repeat("a=b&", 100), "id="+strings.Repeat("x", 1000))
	f.Fuzz(func(t *testing.T, body, query string) {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, req)
		require.Less(t, rec.Code, 500, rec.Body.String())

		req = httptest.NewRequest(http.MethodGet, "/login", nil)
		req.URL.RawQuery = query
		rec = httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, req)
		require.Less(t, rec.Code, 500, rec.Body.String())
	})
}
