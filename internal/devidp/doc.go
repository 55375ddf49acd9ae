// Package devidp is ssogate's development OpenID provider: a small,
// in-memory OpenID Connect provider built on zitadel's certified op library
// (github.com/zitadel/oidc/v3/pkg/op), used by `ssogate demo` and by tests
// that need a real provider. It is never meant for production.
//
// It offers the authorization code flow with PKCE (S256, required for
// public clients), the scopes openid, profile, email and offline_access,
// ID tokens with a sid claim and the nonce echoed, refresh tokens with
// rotation and reuse detection, userinfo, introspection and revocation,
// RP-initiated logout (end-session) and OpenID Connect Back-Channel Logout
// 1.0. Users sign in on a plain login page that lists the configured
// accounts with their passwords; a Cancel button answers access_denied.
//
// The user store doubles as the demo's "user management system":
// UpdateUser edits a profile and OnUserChange reports it.
//
// Routes below the issuer: op's endpoints (/.well-known/openid-configuration,
// /authorize, /oauth/token, /userinfo, /end_session, /keys, /revoke,
// /oauth/introspect, /healthz, /ready) plus /login and /logged-out.
package devidp
