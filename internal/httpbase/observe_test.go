package httpbase

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// logBuffer is a concurrency-safe log sink that parses JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader([]byte(b.String())))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
		lines = append(lines, line)
	}
	return lines
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestObserveAccessLog(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	h := AssignRequestID(Observe(logs.logger(), nil)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("12345"))
	})))
	req := httptest.NewRequest(http.MethodPost, "/pull?id=u1&lftoken=SECRET-TOKEN", nil)
	req.Header.Set(RequestIDHeader, "rid-7")
	req.RemoteAddr = "192.0.2.1:4321"
	h.ServeHTTP(httptest.NewRecorder(), req)

	require.NotContains(t, logs.String(), "SECRET-TOKEN")
	require.NotContains(t, logs.String(), "lftoken")
	lines := logs.lines(t)
	require.Len(t, lines, 1)
	line := lines[0]
	require.Equal(t, "http request", line["msg"])
	require.Equal(t, "INFO", line["level"])
	require.Equal(t, "POST", line["method"])
	require.Equal(t, "/pull", line["path"])
	require.Equal(t, "unmatched", line["route"])
	require.EqualValues(t, http.StatusTeapot, line["status"])
	require.EqualValues(t, 5, line["bytes"])
	require.Equal(t, "rid-7", line["request_id"])
	require.Equal(t, "192.0.2.1", line["remote"])
	require.Contains(t, line, "duration_ms")
}

func TestObserveImplicitStatus(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	h := Observe(logs.logger(), nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	require.EqualValues(t, http.StatusOK, logs.lines(t)[0]["status"])
}

func TestRecover(t *testing.T) {
	t.Parallel()

	t.Run("before writing", func(t *testing.T) {
		t.Parallel()
		var logs logBuffer
		h := Observe(logs.logger(), nil)(Recover(logs.logger())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("boom")
		})))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p", nil))

		require.Equal(t, http.StatusInternalServerError, rec.Code)
		require.JSONEq(t, `{"error":{"code":"internal","message":"internal error"}}`, rec.Body.String())
		lines := logs.lines(t)
		require.Len(t, lines, 2)
		require.Equal(t, "panic in handler", lines[0]["msg"])
		require.Equal(t, "boom", lines[0]["panic"])
		require.Contains(t, lines[0]["stack"], "TestRecover")
		require.EqualValues(t, 500, lines[1]["status"])
	})

	t.Run("after writing", func(t *testing.T) {
		t.Parallel()
		var logs logBuffer
		h := Recover(logs.logger())(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("partial"))
			panic("late")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "partial", rec.Body.String())
		require.Contains(t, logs.String(), "late")
	})

	t.Run("abort handler passes through", func(t *testing.T) {
		t.Parallel()
		var logs logBuffer
		h := Recover(logs.logger())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(http.ErrAbortHandler)
		}))
		require.PanicsWithValue(t, http.ErrAbortHandler, func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		})
		require.Empty(t, logs.String())
	})
}

func TestStatusWriterUnwrapsAndFlushes(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	sw := &statusWriter{ResponseWriter: rec}
	rc := http.NewResponseController(sw)
	require.NoError(t, rc.Flush())
	require.True(t, rec.Flushed)
	require.Equal(t, http.StatusOK, sw.statusCode())
}
