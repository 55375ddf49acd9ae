// Collection driver for hub/collection_interop_test.go: Livefyre's
// official Node library (npm livefyre@2.0.9) creates or updates a
// collection on the hub, as a site's server would.
//
// LIVEFYRE_NODE_MODULES names a folder holding node_modules/livefyre. The
// request comes as JSON on stdin, the answer goes as JSON to stdout:
//
//   in:  {hub, network, networkKey, siteId, siteKey, title, articleId, url, tags?}
//   out: {collectionId, collectionMeta, checksum} | {error}
//
// The library posts to https://{network}.quill.fyre.co; its Domain.quill is
// pointed at the hub instead (the one line a test changes in it).
'use strict';

const path = require('path');

const root = process.env.LIVEFYRE_NODE_MODULES;
if (!root) {
  process.stderr.write('LIVEFYRE_NODE_MODULES is not set\n');
  process.exit(2);
}
const lib = path.join(root, 'node_modules', 'livefyre');
const livefyre = require(lib);
const Domain = require(path.join(lib, 'lib', 'api', 'domain'));

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  Domain.quill = () => req.hub;
  const network = livefyre.getNetwork(req.network, req.networkKey);
  const site = network.getSite(req.siteId, req.siteKey);
  const collection = site.buildCommentsCollection(req.title, req.articleId, req.url);
  if (req.tags) {
    collection.data.tags = req.tags;
  }
  const collectionMeta = collection.buildCollectionMetaToken();
  const checksum = collection.buildChecksum();
  collection.createOrUpdate((err, c) => {
    if (err) {
      process.stdout.write(JSON.stringify({error: err.message}));
      return;
    }
    process.stdout.write(JSON.stringify({collectionId: String(c.data.id), collectionMeta, checksum}));
  });
});
