package httpbase

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAssignRequestID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{name: "none", incoming: "", keep: false},
		{name: "sane", incoming: "abc-123_X.y:z", keep: true},
		{name: "max length", incoming: strings.Repeat("a", 128), keep: true},
		{name: "too long", incoming: strings.Repeat("a", 129), keep: false},
		{name: "space", incoming: "a b", keep: false},
		{name: "newline", incoming: "a\nb", keep: false},
		{name: "quote", incoming: `a"b`, keep: false},
		{name: "non-ascii", incoming: "é", keep: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var seen string
			h := AssignRequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				seen = RequestID(r.Context())
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.incoming != "" {
				req.Header[RequestIDHeader] = []string{tt.incoming}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			got := rec.Header().Get(RequestIDHeader)
			require.Equal(t, seen, got)
			if tt.keep {
				require.Equal(t, tt.incoming, got)
			} else {
				require.Regexp(t, `^[0-9a-f]{32}$`, got)
			}
		})
	}
}

func TestAssignRequestIDUnique(t *testing.T) {
	t.Parallel()
	h := AssignRequestID(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := map[string]bool{}
	for range 100 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		id := rec.Header().Get(RequestIDHeader)
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
}

func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "a b", strings.Repeat("x", 129), "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !validRequestID(id) {
			return
		}
		require.LessOrEqual(t, len(id), 128)
		require.NotContains(t, id, " ")
		require.Regexp(t, `^[A-Za-z0-9._:-]+$`, id)
	})
}

func TestLogHandlerAddsRequestID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	h := AssignRequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "inside")
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(RequestIDHeader, "req-1")
	h.ServeHTTP(httptest.NewRecorder(), req)

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "req-1", line["request_id"])
	require.Equal(t, "test", line["component"])
}
