//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package httpbase

// PeerClosed reports false: this platform cannot look without reading; a
// client that is gone is found when a write to it fails.
func (d *DetachedEventStream) PeerClosed() bool { return false }
