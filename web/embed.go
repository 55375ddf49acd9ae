// Package web holds the browser assets that ssogate serves, embedded in the
// binary: the hub's auth.js and users page (hub/), the gateway's
// authdelegate.js (authdelegate/) and the demo website (demo/). No build
// step: what is in these folders is what browsers get.
package web

import "embed"

// FS holds the hub's assets: hub/auth.js (the Livefyre.js-compatible auth
// module) and hub/*.html (html/template pages). Other asset folders may be
// added to the embed line below.
//
//go:embed all:hub
var FS embed.FS
