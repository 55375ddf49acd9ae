package main

// This file is compiled into ssogate-bench and, with --profile, into the
// ssogate binary the harness builds (go build -overlay adds it to
// cmd/ssogate as zz_bench_pprof.go; nothing in cmd/ssogate changes). It
// serves net/http/pprof on a private loopback listener when
// SSOGATE_BENCH_PPROF_ADDR is set, so the harness can take CPU profiles of
// its children during a step. Its names start with benchPprof so they
// cannot collide with the package it is compiled into.

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
	benchPprofAddrEnv       = "SSOGATE_BENCH_PPROF_ADDR"
	benchPprofContentionEnv = "SSOGATE_BENCH_PPROF_CONTENTION"
)

func init() {
	addr := os.Getenv(benchPprofAddrEnv)
	if addr == "" {
		return
	}
	if os.Getenv(benchPprofContentionEnv) == "1" {
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
