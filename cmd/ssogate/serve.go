package main

import "context"

// runServe runs the gateway: the Ping for Pull side (webhook, pings, pull
// endpoint) and the browser side (login, sessions, tokens, live events).
func runServe(ctx context.Context, e *env, args []string) error {
	a, err := startServer(ctx, e, "serve", "gateway", args)
	if err != nil {
		return err
	}
	defer a.close()

	// Wiring point for the gateway's domain packages. Each is built from
	// a.cfg (Gateway, Auth, Network, AdminToken), a.store, a.log and
	// a.router.Registry(), then:
	//
	//	a.mount(handler)     // routes on the one router
	//	a.addJobs(handler)   // River workers and queues (pingpull: queue "ping")
	//	a.onShutdown = append(a.onShutdown, hook)
	//
	// and background loops (registration at the hub) started with ctx.
	return a.serve(ctx)
}
