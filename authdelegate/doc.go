// Package authdelegate is the browser side of the ssogate gateway: OpenID
// Connect login against the site's provider, gateway sessions, Livefyre
// userAuthTokens for the app, live events that make every open tab log in
// again silently after a profile change, back-channel logout, and the
// embeddable script authdelegate.js that turns all of this into a Livefyre
// authDelegate.
//
// # Routes
//
// Mount registers, relative to the router it is given:
//
//	GET  /login               start a login (popup or redirect mode)
//	GET  /callback            the provider's redirect target
//	POST /session/exchange    redirect mode: one-time code -> session
//	POST /token               a fresh userAuthToken for the session
//	POST /logout              end the session; returns the provider's end-session URL
//	GET  /events              server-sent events of the session (profile, logout)
//	POST /backchannel-logout  OpenID Connect Back-Channel Logout 1.0 (exp optional)
//	GET  /logged-out          post-logout page: forwards to the site page in state
//	GET  /authdelegate.js     the embeddable script
//
// # Browser binding without third-party cookies
//
// The only cookie is a short-lived HttpOnly SameSite=Lax cookie on the
// gateway's own origin that binds a login flow (state, nonce, PKCE verifier)
// to the browser that started it; the popup and the provider redirect are
// top-level navigations, so the cookie is first-party there. After login the
// site page holds an opaque session credential (256 random bits) in its own
// localStorage and sends it as "Authorization: Bearer". The store keeps only
// the SHA-256 of the credential. CORS answers only configured site origins
// and never allows credentials (cookies), so every state-changing call is
// CSRF-safe: a cross-site page cannot attach the bearer header.
//
// # User ids
//
// The Livefyre user id is taken from the claim named by ClaimMapping.UserID
// (default "sub"). A value that is a valid Livefyre user id
// (^[a-zA-Z0-9_.-]+$, at most 128 bytes), does not start with "s_" and is
// not "system" in any letter case (the network owner's reserved identity) is
// used unchanged. Any other value v is encoded as
//
//	"s_" + lowercase hex(SHA-256(v))[:40]
//
// which is stable, valid, and cannot collide with an unchanged id because
// unchanged ids never start with "s_". See UserIDFromSubject.
//
// # Profiles from claims
//
// A login (and every provider refresh) writes the mapped claims
// (ClaimMapping; ID token and userinfo) into the user's profile through
// CanonicalProfileFunc and the store's ProfileUpsert; a new version calls
// ProfileChangedFunc (the ping) and notifies ChannelProfileChanged in the
// same transaction. Fields the claims do not carry keep the values the
// backend's webhook wrote. The newer change wins: claims with the provider's
// updated_at overwrite unless the stored profile is newer; claims without
// updated_at only create a new user's profile and fill missing fields. When
// CanonicalProfileFunc refuses the document, the login retries with the
// display name alone rather than locking the user out.
//
// # Session end and the hub
//
// Every session end but expiry (logout, back-channel logout, a refused
// refresh token) calls SessionEndedFunc once per user, in the transaction
// that ends the sessions; cmd wires pingpull's hub logout job, which makes
// the hub refuse the app-session tokens it issued to the user before then.
// Expiry needs no call: the session's last userAuthToken was minted before
// it expired, and the hub's app sessions end with the token that granted
// them.
//
// # Live events
//
// GET /events is a server-sent event stream per session. Events:
//
//	event: profile  id: N  data: {"version":N}
//	event: logout          data: {"reason":"logout"|"backchannel"|"refresh_refused"|"expired"}
//
// A profile event for version N is sent when the hub pulled version N (the
// store's ChannelProfileReady), or ProfileReadyTimeout after the change
// (ChannelProfileChanged) when no pull came. Event ids are profile versions;
// a client reconnecting with Last-Event-ID: N gets at once whatever became
// ready after N, because the stream compares with the stored profile on
// connect. Every replica listens on the store's channels and serves its own
// streams, so any replica can serve any session.
//
// On HTTP/1.x a stream is taken over from net/http once its headers are
// out (httpbase.EventStream.Detach): it is then a small struct and its
// connection, written by a few writer goroutines the fan-out wakes, and one
// sweeper marks keep-alives, session rechecks and absolute expiry for every
// stream. http.Server.Shutdown does not see those connections; Close ends
// them. HTTP/2 streams stay with the handler that opened them.
package authdelegate
