// Package hub is the app side of Livefyre's identity protocol: a
// self-hostable, wire-compatible stand-in for Livefyre's servers (spec
// §1, §3–§5). It
//
//   - registers pull URLs (POST /, Livefyre's setUserSyncUrl),
//   - takes pings (POST /api/v3_0/user/{id}/refresh, Livefyre's syncUser),
//   - pulls profiles with River jobs on queue "pull" and keeps them as
//     remote profiles,
//   - answers the app's auth call (GET /api/v3.0/auth/, JSON or JSONP) with
//     an app-session token of its own (app_session.go) and serves auth.js, a
//     Livefyre.js-compatible auth module,
//   - ends a user's app sessions when the gateway says the user logged out
//     (POST /api/v3_0/user/{id}/logout, ssogate's extension),
//   - with an admin token, shows the remote profiles (GET /users and a JSON
//     API) behind httpbase.Admin,
//   - with Config.DemoApp (ssogate demo), serves the demo app: a small
//     comment API and a stream of pulled changes, capped per client.
//
// The network of a request is the one named by its token's domain claim
// (read unverified only to pick the key, then verified with that network's
// key); a Host such as labs.quill.fyre.co must name the same network.
//
// # Coalescing pulls
//
// A ping bumps the remote profile's PingSeq and inserts a pull job in one
// transaction; pull jobs are unique per (network, user) among unfinished
// jobs, so many pings before a pull runs make one pull. The worker reads
// PingSeq before the HTTP call and, after it, locks and re-reads it in the
// transaction that records the result: unchanged, the job completes in that
// transaction; moved on (a ping arrived during the pull), the job snoozes
// and pulls again. No ping is lost to deduplication.
//
// # Pull failures
//
// 404 marks the profile missing and keeps its data. 403 (and 401) cancel
// the job: a dead letter "pull endpoint refused our token: check the
// network key". Timeouts, connection errors, 408, 429 and 5xx are retried
// on a schedule of about three days, honouring Retry-After; so are
// malformed bodies, bodies over the size limit and an id that is not the
// requested one, which a fix at the pull endpoint cures. Other 4xx, bad
// redirects and private targets are dead letters at once. Dead letters are
// River jobs in state cancelled or discarded; replay them with JobRetry.
//
// Pulls never reach loopback, private, link-local, metadata or other
// non-public addresses unless the network allows it: the check runs in the
// dialer on the resolved address, so DNS names and redirects are covered.
package hub
