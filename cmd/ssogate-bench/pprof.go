package main

// The floor children (ssogate-bench floor-gateway|floor-hub) serve
// net/http/pprof on a private loopback listener when SSOGATE_DEBUG_LISTEN
// is set: the same variables ssogate itself reads (debug_listen,
// debug_contention), so the harness profiles every child alike.

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"
)

// benchPprofAddrEnv names the host:port of the profiling listener;
// benchPprofContentionEnv, when "1", also records mutex and block profiles.
const (
	benchPprofAddrEnv       = "SSOGATE_DEBUG_LISTEN"
	benchPprofContentionEnv = "SSOGATE_DEBUG_CONTENTION"
)

func init() {
	addr := os.Getenv(benchPprofAddrEnv)
	if addr == "" {
		return
	}
	if v := os.Getenv(benchPprofContentionEnv); v == "1" || v == "true" {
		runtime.SetMutexProfileFraction(5)
		runtime.SetBlockProfileRate(int((100 * time.Microsecond).Nanoseconds()))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.Stderr.WriteString("ssogate bench profiling: listen " + addr + ": " + err.Error() + "\n")
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
}
