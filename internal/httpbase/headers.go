package httpbase

import (
	"net/http"
	"strings"
)

// FrameAncestorsNone is the CSP directive that forbids framing.
const FrameAncestorsNone = "frame-ancestors 'none'"

// FrameHeaders is middleware that keeps answers out of frames: when the
// handler writes its header, it adds X-Frame-Options: DENY (unless the
// handler set X-Frame-Options) and a Content-Security-Policy with
// frame-ancestors 'none' (or appends that directive to the handler's policy
// when it has no frame-ancestors of its own). Handlers that must be framed by
// known origins set their own frame-ancestors and X-Frame-Options and are
// left alone. It applies to every answer, not only HTML: the headers cost
// nothing elsewhere, and a page served without a Content-Type is covered
// too.
func FrameHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&frameWriter{ResponseWriter: w}, r)
	})
}

// frameWriter adds the frame headers just before the header is written.
type frameWriter struct {
	http.ResponseWriter
	done bool
}

func (f *frameWriter) set() {
	if f.done {
		return
	}
	f.done = true
	SetFrameHeaders(f.Header())
}

// SetFrameHeaders adds the headers of FrameHeaders to h: X-Frame-Options
// DENY when none is set, and frame-ancestors 'none' in the CSP when the
// policy has no frame-ancestors.
func SetFrameHeaders(h http.Header) {
	if h.Get("X-Frame-Options") == "" {
		h.Set("X-Frame-Options", "DENY")
	}
	csp := h.Values("Content-Security-Policy")
	for _, p := range csp {
		if hasFrameAncestors(p) {
			return
		}
	}
	if len(csp) == 0 {
		h.Set("Content-Security-Policy", FrameAncestorsNone)
		return
	}
	// Every policy given is enforced; one more that only forbids framing
	// restricts nothing else.
	h.Add("Content-Security-Policy", FrameAncestorsNone)
}

func hasFrameAncestors(policy string) bool {
	for d := range strings.SplitSeq(policy, ";") {
		name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
		if strings.EqualFold(name, "frame-ancestors") {
			return true
		}
	}
	return false
}

func (f *frameWriter) WriteHeader(status int) {
	// 1xx answers are informational; the final header comes later.
	if status >= 200 {
		f.set()
	}
	f.ResponseWriter.WriteHeader(status)
}

func (f *frameWriter) Write(b []byte) (int, error) {
	f.set()
	return f.ResponseWriter.Write(b)
}

// Flush lets event streams through the middleware flush.
func (f *frameWriter) Flush() {
	f.set()
	_ = http.NewResponseController(f.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the writer underneath.
func (f *frameWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }
