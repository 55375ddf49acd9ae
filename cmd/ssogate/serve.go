package main

import (
	"context"
	"flag"
)

// serveCommand runs the gateway: the Ping for Pull side (webhook, pings, pull
// endpoint) and the browser side (login, sessions, tokens, live events).
func serveCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	return func(ctx context.Context, e *env, args []string) error {
		a, err := startServer(ctx, e, "serve", "gateway", flags, args, requirements{gateway: true})
		if err != nil {
			return err
		}
		defer a.close()

		if _, err := wireGateway(ctx, a); err != nil {
			return err
		}
		return a.serve(ctx)
	}
}
