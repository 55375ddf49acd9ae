package httpbase

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// say answers 200 with text and the path variables id and rest.
func say(text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, text+" id="+PathValue(r, "id")+" via="+r.Header.Get("X-Via"))
	})
}

// tag is middleware that records its name in X-Via, outermost first.
func tag(name string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("X-Via", r.Header.Get("X-Via")+name)
			next.ServeHTTP(w, r)
		})
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	mount := func(r Routes) {
		r.Handle("/things/{id}", say("thing"), http.MethodGet)
		r.Handle("/any", say("any"))
		r.HandlePrefix("/files/", say("files"), http.MethodGet)
		r.HandlePrefix("/open/", say("open"))
		g := r.Group("/admin", tag("a"), tag("b"))
		g.Handle("/users/{id}", say("user"), http.MethodGet, http.MethodPost)
		inner := g.Group("/deep", tag("c"))
		inner.Handle("/x", say("deep"))
		bare := r.Group("", tag("z"))
		bare.Handle("/plain/{id}", say("plain"), http.MethodPut)
	}
	tests := []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"path variable", "GET", "/things/42", 200, "thing id=42 via="},
		{"method not allowed", "POST", "/things/42", 405, ""},
		{"no methods: any", "DELETE", "/any", 200, "any id= via="},
		{"prefix", "GET", "/files/a/b.txt", 200, "files id= via="},
		{"prefix, wrong method", "POST", "/files/a", 405, ""},
		{"prefix, any method", "PATCH", "/open/x", 200, "open id= via="},
		{"group middleware in order", "POST", "/admin/users/7", 200, "user id=7 via=ab"},
		{"group, method not allowed", "DELETE", "/admin/users/7", 405, ""},
		{"nested group", "GET", "/admin/deep/x", 200, "deep id= via=abc"},
		{"group without prefix", "PUT", "/plain/9", 200, "plain id=9 via=z"},
		{"group middleware only on its routes", "GET", "/things/1", 200, "thing id=1 via="},
		{"not found", "GET", "/nothing", 404, ""},
		{"no path cleaning", "GET", "/things/..", 200, "thing id=.. via="},
	}
	routers := map[string]func(t *testing.T) http.Handler{
		"Mux": func(*testing.T) http.Handler { m := NewMux(); mount(m); return m },
		"Router": func(t *testing.T) http.Handler {
			r, err := NewRouter(RouterConfig{})
			require.NoError(t, err)
			mount(r)
			return r
		},
	}
	for rname, newRouter := range routers {
		for _, tc := range tests {
			t.Run(rname+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				h := newRouter(t)
				req := httptest.NewRequest(tc.method, "http://example.test/", nil)
				req.URL.Path = tc.path
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				require.Equal(t, tc.status, w.Code, w.Body.String())
				if tc.body != "" {
					require.Equal(t, tc.body, strings.TrimSpace(w.Body.String()))
				}
			})
		}
	}
}

func TestPathValueWithoutRoute(t *testing.T) {
	t.Parallel()
	require.Empty(t, PathValue(httptest.NewRequest(http.MethodGet, "/", nil), "id"))
}
