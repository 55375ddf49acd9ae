package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeJoinsServicesBeforeReturning: serve returns only after every
// service has returned, so a loop still working at shutdown finds the store
// open (the caller closes it after serve), and a failing service is logged
// without stopping the others.
func TestServeJoinsServicesBeforeReturning(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(nil, mapEnv(map[string]string{
		"SSOGATE_DATA_DIR": filepath.Join(t.TempDir(), "data"),
		"SSOGATE_LISTEN":   "127.0.0.1:0",
	}), requirements{})
	require.NoError(t, err)
	logs := newLogWatcher()
	a, err := newApp(t.Context(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	require.NoError(t, err)
	defer a.close()

	started, release := make(chan struct{}), make(chan struct{})
	var pingAfterStop error
	stopped := false
	a.addService("slow", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		// Work after the stop was asked for, as a loop that finishes its
		// batch does: it ends when the test releases it.
		<-release
		pingAfterStop = a.store.Ping(context.Background())
		stopped = true
		return nil
	})
	a.addService("failing", func(context.Context) error { return errors.New("boom") })

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the service did not start")
	}
	cancel()
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) while a service was still running", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return")
	}
	require.True(t, stopped, "serve returned before the service did")
	require.NoError(t, pingAfterStop, "the store was closed under a running service")
	require.Contains(t, logs.String(), `"msg":"failing stopped","error":"boom"`)
}
