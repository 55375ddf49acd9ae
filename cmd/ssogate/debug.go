package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// startDebug serves Go's profiles (net/http/pprof) on addr, a listener of
// its own so that they never share the public address, until ctx ends.
// contention also turns on the mutex and block profiles.
func startDebug(ctx context.Context, addr string, contention bool, log *slog.Logger) error {
	if contention {
		runtime.SetMutexProfileFraction(5)
		runtime.SetBlockProfileRate(int((100 * time.Microsecond).Nanoseconds()))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(ln) }()
	log.Info("debug listener serves /debug/pprof", slog.String("addr", ln.Addr().String()))
	return nil
}
