package web

import "embed"

// Demo holds the demo website of `ssogate demo`: its pages (demo/*.html,
// html/template), script and style (demo/static/) and bundled avatars
// (demo/avatars/).
//
//go:embed all:demo
var Demo embed.FS
