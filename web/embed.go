// Package web holds browser assets that ssogate serves, embedded in the
// binary: the hub's scripts and pages (hub/) and the demo website (demo/).
// No build step: what is in these folders is what browsers get. (The
// gateway's authdelegate.js lives with its package, authdelegate/static.)
package web

import "embed"

// Hub holds the hub's assets: hub/auth.js (the Livefyre.js-compatible auth
// module), hub/comments.js (the demo app) and hub/*.html (html/template
// pages).
//
//go:embed all:hub
var Hub embed.FS

// Root is root.html, the html/template of the page each server answers at
// "/": what the server is and links to what it serves.
//
//go:embed root.html
var Root string
