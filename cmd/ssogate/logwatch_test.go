package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// logWatcher collects a process's JSON log lines and reports the address of
// the "listening" line as soon as it is written.
type logWatcher struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	partial   []byte
	listening chan string
	once      sync.Once
}

func newLogWatcher() *logWatcher {
	return &logWatcher{listening: make(chan string, 1)}
}

func (w *logWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(w.partial[:i], &line) == nil && line.Msg == "listening" {
			w.once.Do(func() { w.listening <- line.Addr })
		}
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// lines returns every JSON log line.
func (w *logWatcher) lines(t *testing.T) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader([]byte(w.String())))
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
		lines = append(lines, line)
	}
	return lines
}

// waitListening returns the listening address, failing when the process
// ends first (exited receives its exit code) or after a minute.
func (w *logWatcher) waitListening(t *testing.T, exited <-chan int) string {
	t.Helper()
	select {
	case addr := <-w.listening:
		return addr
	case code := <-exited:
		t.Fatalf("exited with code %d before listening:\n%s", code, w.String())
	case <-time.After(time.Minute):
		t.Fatalf("not listening after a minute:\n%s", w.String())
	}
	return ""
}
