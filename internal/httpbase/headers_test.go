package httpbase

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFrameHeaders(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
		wantXFO string
		wantCSP []string
	}{
		{"html page without headers", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<!doctype html><p>hi"))
		}, "DENY", []string{FrameAncestorsNone}},
		{"status only", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}, "DENY", []string{FrameAncestorsNone}},
		{"json error", func(w http.ResponseWriter, _ *http.Request) {
			WriteError(w, http.StatusNotFound, "not_found", "no")
		}, "DENY", []string{FrameAncestorsNone}},
		{"policy without frame-ancestors keeps its policy and gets another", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			w.WriteHeader(http.StatusOK)
		}, "DENY", []string{"default-src 'self'", FrameAncestorsNone}},
		{"policy with its own frame-ancestors is left alone", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; Frame-Ancestors https://site.example")
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
			w.WriteHeader(http.StatusOK)
		}, "SAMEORIGIN", []string{"default-src 'none'; Frame-Ancestors https://site.example"}},
	} {
		w := httptest.NewRecorder()
		FrameHeaders(tt.handler).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		require.Equal(t, tt.wantXFO, w.Header().Get("X-Frame-Options"), tt.name)
		require.Equal(t, tt.wantCSP, w.Header().Values("Content-Security-Policy"), tt.name)
	}
}

// TestFrameHeadersEventStream: streams flush through the middleware (and
// the server's write deadline can still be lifted underneath).
func TestFrameHeadersEventStream(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(FrameHeaders(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s, ok := StartEventStream(w, time.Minute, time.Second, "test")
		if ok {
			s.Write("event: x\ndata: {}\n\n")
		}
		<-release
	})))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	// The event arrives while the handler still runs: it was flushed.
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "event: x" {
			break
		}
	}
	require.Contains(t, strings.Join(lines, "\n"), "event: x")
}
