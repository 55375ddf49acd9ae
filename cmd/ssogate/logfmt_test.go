package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJSONLogDurationsAsText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := newLogger(&Config{LogLevel: "info", LogFormat: "json"}, &buf)
	log.Info("done", "took", 1500*time.Millisecond, slog.Duration("retry_in", 2*time.Minute),
		slog.Group("job", slog.Duration("wait", 250*time.Microsecond)), "count", 3)

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	require.Equal(t, "1.5s", line["took"])
	require.Equal(t, "2m0s", line["retry_in"])
	require.Equal(t, map[string]any{"wait": "250µs"}, line["job"])
	require.Equal(t, 3.0, line["count"], "other values keep their JSON type")
}

func TestTextLogDurationsAsText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := newLogger(&Config{LogLevel: "info", LogFormat: "text"}, &buf)
	log.Info("done", "took", 1500*time.Millisecond)
	require.Contains(t, buf.String(), "took=1.5s")
}
