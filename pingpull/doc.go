// Package pingpull is the gateway side of Livefyre's Ping for Pull
// (spec/livefyre-protocol.md §3–§4): the site's backend reports a profile
// change on a signed webhook, the gateway stores a new profile version and
// pings the hub, and the hub pulls the profile from the gateway.
//
// The parts:
//
//   - The pull-response schema is package livefyre's (livefyre.ParseProfile,
//     livefyre.Profile.Canonical), shared with the hub.
//   - POST /hooks/profile-changed: a Standard Webhooks endpoint. The version
//     bump, the webhook receipt, the timeline entry, the ping job and the
//     "profile changed" notification commit in one transaction.
//   - The ping job (River, queue "ping"): POST {hub}/api/v3_0/user/{id}/refresh
//     with a fresh system lftoken; retried on a schedule at least as long as
//     Standard Webhooks', honouring Retry-After; 403/404/410 make a dead
//     letter (a cancelled job) that the admin API lists and replays.
//   - The hub logout job (queue "ping", EnqueueLogoutTx, queued by
//     authdelegate's SessionEndedFunc as cmd wires it): POST
//     {hub}/api/v3_0/user/{id}/logout with a system lftoken, so the hub ends
//     the app sessions it issued to the user; retried like the ping.
//   - GET /pull?id=…&lftoken=…: the pull endpoint; it records the version
//     served and notifies "profile ready".
//   - Register: tells the hub the pull URL template.
//   - /admin/api/…: timeline and dead letters behind the admin token, and the
//     River UI at /admin/jobs.
//
// Coalescing: ping jobs are unique per user among unfinished jobs. Writers
// bump the profile version before inserting the job in the same
// transaction; the worker reads the version before its HTTP call and again,
// under a row lock, in the transaction that completes the job. When it moved
// the job runs again, so a change made while a ping is in flight is never
// folded into that ping.
package pingpull
