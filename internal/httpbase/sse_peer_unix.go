//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package httpbase

import "syscall"

// PeerClosed reports whether the client closed its side of the connection
// (it is gone: an event stream's client sends nothing after its request).
// It looks without reading or blocking; false when it cannot tell.
func (d *DetachedEventStream) PeerClosed() bool {
	sc, ok := d.conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// End of stream, or the connection was reset.
		closed = (n == 0 && rerr == nil) || (rerr != nil && rerr != syscall.EAGAIN && rerr != syscall.EINTR)
		return true // never wait for data
	})
	return err == nil && closed
}
