package authdelegate

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
)

//go:embed static/authdelegate.js
var staticFS embed.FS

// Script returns the embeddable authdelegate.js (for cmd's demo pages and
// tests).
func Script() []byte {
	b, err := staticFS.ReadFile("static/authdelegate.js")
	if err != nil {
		panic("authdelegate: embedded script missing: " + err.Error())
	}
	return b
}

var (
	scriptBody = Script()
	scriptETag = func() string {
		sum := sha256.Sum256(scriptBody)
		return `"` + hex.EncodeToString(sum[:12]) + `"`
	}()
)

// handleScript serves GET /authdelegate.js: plain JavaScript, cacheable and
// revalidated with an ETag. The URL is not versioned, so the max-age is
// short; revalidation is a cheap 304.
func (h *Handler) handleScript(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/javascript; charset=utf-8")
	hdr.Set("Cache-Control", "public, max-age=300, stale-while-revalidate=3600")
	hdr.Set("ETag", scriptETag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	// Sites that isolate themselves (COEP) may still load it.
	hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if etagMatch(r.Header.Get("If-None-Match"), scriptETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(scriptBody)
}

// etagMatch implements the weak comparison of If-None-Match.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
