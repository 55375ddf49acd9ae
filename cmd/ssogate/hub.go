package main

import "context"

// runHub runs the hub: the Livefyre-compatible receiver of registrations
// and pings, its pull jobs, the auth API and the users page.
func runHub(ctx context.Context, e *env, args []string) error {
	a, err := startServer(ctx, e, "hub", "hub", args)
	if err != nil {
		return err
	}
	defer a.close()

	if _, err := wireHub(a); err != nil {
		return err
	}
	return a.serve(ctx)
}
