// A certified OpenID provider (npm oidc-provider 9.x, by panva) configured
// for ssogate's end-to-end tests: one confidential client (the gateway)
// with refresh-token rotation, revocation, introspection, RP-initiated
// and back-channel logout. Any login name signs in (the package's
// development interactions) and consent is pre-granted, as for a
// first-party client.
//
//   OIDC_PROVIDER_NODE_MODULES=/path/holding/node_modules \
//     node provider.mjs '{"clientId":"gateway","clientSecret":"…","gatewayURL":"http://127.0.0.1:1234",
//                         "postLogoutRedirectURIs":["http://localhost:5678/"],"accessTokenTTL":300}'
//
// It listens on 127.0.0.1 on a free port and prints one JSON line,
// {"issuer":"http://127.0.0.1:PORT"}, when it is ready. It stops on
// SIGTERM or when stdin closes (the test process died).
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const modules = process.env.OIDC_PROVIDER_NODE_MODULES;
if (!modules) {
  console.error('OIDC_PROVIDER_NODE_MODULES must name the folder holding node_modules/oidc-provider');
  process.exit(2);
}
const { default: Provider } = await import(pathToFileURL(path.join(modules, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href);

const cfg = JSON.parse(process.argv[2] || '{}');
for (const k of ['clientId', 'clientSecret', 'gatewayURL']) {
  if (!cfg[k]) {
    console.error(`config: ${k} is required`);
    process.exit(2);
  }
}

// The users: any login works; these two have full profiles.
const people = {
  alice: { name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.com' },
  bob: { name: 'Bob Example', given_name: 'Bob', family_name: 'Example', email: 'bob@example.com' },
};

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: cfg.clientId,
    client_secret: cfg.clientSecret,
    redirect_uris: [`${cfg.gatewayURL}/callback`],
    post_logout_redirect_uris: cfg.postLogoutRedirectURIs || [],
    backchannel_logout_uri: `${cfg.gatewayURL}/backchannel-logout`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(_ctx, id) {
    const p = people[id] || { name: id };
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email_verified: true, ...p };
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // A refresh token for the gateway without prompt=consent (which the
  // specification asks for offline_access, and the gateway does not send).
  async issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: true,
  // First-party client: every scope is granted without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid offline_access profile email');
    await grant.save();
    return grant;
  },
  pkce: { required: () => true },
  // The package refuses outgoing requests (back-channel logout) to
  // special-use addresses, as a provider on the internet should; the
  // gateway under test is on loopback, so this test provider lets them
  // through.
  fetch: (url, options) => {
    const { dispatcher: _ssrfGuard, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  ttl: {
    AccessToken: cfg.accessTokenTTL || 300,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Session: 24 * 3600,
    Interaction: 600,
    AuthorizationCode: 60,
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
provider.on('backchannel.error', (_client, err) => console.error('backchannel.error', err.message, err.cause ? String(err.cause) : ''));
server.on('request', provider.callback());

process.stdout.write(JSON.stringify({ issuer }) + '\n');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
