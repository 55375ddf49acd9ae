// Command ssogate runs the gateway (serve) or the hub (hub) of ssogate, and
// holds the operator tools (migrate, token, config, version).
//
// This package is the only one that reads flags, environment variables and
// files, and the only importer of the store backends: it turns them into the
// domain packages' Configs, builds the one router per process and handles
// signals.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A second signal kills at once: the handler is reset on the first.
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}
