// Package docs holds the documents the servers serve: the OpenAPI
// description of every HTTP endpoint of the gateway and the hub.
package docs

import (
	_ "embed"
	"net/http"
	"strconv"
)

// OpenAPI is docs/openapi.yaml, OpenAPI 3.1.
//
//go:embed openapi.yaml
var OpenAPI []byte

// OpenAPIHandler serves OpenAPI at GET /openapi.yaml.
func OpenAPIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/yaml; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(OpenAPI)))
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(OpenAPI)
	})
}
