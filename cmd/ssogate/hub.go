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

	// Wiring point for pingpull/hub: built from a.cfg.HubNetworks(),
	// a.cfg.Hub (app origins, private targets), a.store, a.log and
	// a.router.Registry(), then a.mount(h) and a.addJobs(h) (queue "pull").
	return a.serve(ctx)
}
