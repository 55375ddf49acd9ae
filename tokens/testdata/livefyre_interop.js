// Interop driver for tokens/interop_test.go: runs Livefyre's official Node
// library (npm livefyre@2.0.9) against tokens minted by ssogate, and mints
// tokens with it for ssogate to verify.
//
// LIVEFYRE_NODE_MODULES names a folder holding node_modules/livefyre. The
// request comes as JSON on stdin, the answer goes as JSON to stdout:
//
//   in:  {network, key, system: {name: token}, user: {name: token},
//         mint: {name: {userId, displayName, expires}}}
//   out: {versions: {livefyre, jsonwebtoken},
//         system: {name: {valid} | {error}},     validateLivefyreToken
//         user:   {name: {payload} | {error}},   jsonwebtoken.verify
//         minted: {name: token, system: token}}
'use strict';

const path = require('path');

const root = process.env.LIVEFYRE_NODE_MODULES;
if (!root) {
  process.stderr.write('LIVEFYRE_NODE_MODULES is not set\n');
  process.exit(2);
}
const lfDir = path.join(root, 'node_modules', 'livefyre');
const livefyre = require(lfDir);
// The jsonwebtoken the package itself resolves (nested or hoisted).
const jwtPath = require.resolve('jsonwebtoken', { paths: [lfDir] });
const jwt = require(jwtPath);

function errorText(e) {
  return (e && e.name ? e.name + ': ' : '') + (e && e.message ? e.message : String(e));
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const network = livefyre.getNetwork(req.network, req.key);
  const out = {
    versions: {
      livefyre: require(path.join(lfDir, 'package.json')).version,
      jsonwebtoken: require(path.join(path.dirname(jwtPath), 'package.json')).version,
    },
    system: {},
    user: {},
    minted: {},
  };

  for (const [name, token] of Object.entries(req.system || {})) {
    try {
      out.system[name] = { valid: network.validateLivefyreToken(token) };
    } catch (e) {
      out.system[name] = { error: errorText(e) };
    }
  }
  for (const [name, token] of Object.entries(req.user || {})) {
    try {
      out.user[name] = { payload: jwt.verify(token, req.key) };
    } catch (e) {
      out.user[name] = { error: errorText(e) };
    }
  }
  for (const [name, m] of Object.entries(req.mint || {})) {
    // An absent displayName stays undefined, which JSON.stringify drops:
    // the shape of tokens without display_name.
    out.minted[name] = network.buildUserAuthToken(m.userId, m.displayName, m.expires);
  }
  out.minted.system = network.buildLivefyreToken();

  process.stdout.write(JSON.stringify(out) + '\n');
});
