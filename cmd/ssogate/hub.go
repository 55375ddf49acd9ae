package main

import (
	"context"
	"flag"
)

// hubCommand runs the hub: the Livefyre-compatible receiver of registrations
// and pings, its pull jobs, the auth API and the users page.
func hubCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	return func(ctx context.Context, e *env, args []string) error {
		a, err := startServer(ctx, e, "hub", "hub", flags, args, requirements{hub: true})
		if err != nil {
			return err
		}
		defer a.close()

		if _, err := wireHub(a); err != nil {
			return err
		}
		return a.serve(ctx)
	}
}
