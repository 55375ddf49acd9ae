package authdelegate

import (
	"sync"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
)

// maxStreamWriters bounds the writer goroutines. A write to a client that
// stopped reading holds one writer for up to streamWriteTimeout; the
// others go on.
const maxStreamWriters = 32

// streamEndTimeout bounds the last write of a stream that ends (the end
// of the chunked response), and of all of them together on Close.
const streamEndTimeout = time.Second

// streamWriters write the detached streams. A stream with something due is
// queued once; a writer takes it and writes until nothing is due. Writers
// start when streams are queued (up to maxStreamWriters, no more than the
// queue is long) and stop when the queue is empty; Close waits for them.
type streamWriters struct {
	h *Handler

	mu      sync.Mutex
	queue   []*stream
	running int
	closed  bool
}

func (p *streamWriters) push(s *stream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return // Close ends every detached stream
	}
	p.queue = append(p.queue, s)
	if p.running < maxStreamWriters && p.running < len(p.queue) {
		p.running++
		p.h.bg.Go(p.run)
	}
}

func (p *streamWriters) run() {
	for {
		p.mu.Lock()
		if p.closed || len(p.queue) == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		s := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		p.h.writeDetached(s)
	}
}

// close stops the writers from taking more streams.
func (p *streamWriters) close() {
	p.mu.Lock()
	p.closed = true
	p.queue = nil
	p.mu.Unlock()
}

// writeDetached writes what is due on s until nothing is; a logout or a
// failed write ends it.
func (h *Handler) writeDetached(s *stream) {
	write := func(raw string) bool { return s.out.Write(raw) == nil }
	for {
		s.mu.Lock()
		if s.done || !s.dueLocked() {
			s.queued = false
			s.mu.Unlock()
			return
		}
		d := s.takeDueLocked()
		s.mu.Unlock()
		// A client that is gone is found by its next keep-alive, not the
		// one after (a write into a connection the peer closed succeeds
		// once).
		if d.keepAlive && s.out.PeerClosed() {
			h.endDetached(s, time.Now())
			return
		}
		if !h.serveDue(h.ctx, s, d, write) {
			h.endDetached(s, time.Now().Add(streamEndTimeout))
			return
		}
	}
}

// endDetached closes a detached stream's connection (ending the response
// by deadline) and removes it from the fan-out, once.
func (h *Handler) endDetached(s *stream, deadline time.Time) {
	s.mu.Lock()
	done := s.done
	s.done = true
	s.mu.Unlock()
	if done {
		return
	}
	_ = s.out.Close(deadline)
	s.unregister()
}

// detach hands s over to the writers, on out; unregister removes it from
// the fan-out when it ends. It reports false when the Handler is closing
// (the caller still owns out).
func (b *fanout) detach(s *stream, out *httpbase.DetachedEventStream, unregister func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	s.mu.Lock()
	s.out, s.writers, s.unregister = out, &b.h.writers, unregister
	// What was offered while the handler still held the stream.
	s.unlockAndWake(s.dueLocked())
	return true
}

// closeStreams ends every stream of the Handler (Close): attached ones
// return (h.closed is closed), detached ones are interrupted, their writers
// waited for, and their connections closed.
func (h *Handler) closeStreams() {
	b := h.fanout
	b.mu.Lock()
	b.closed = true
	var detached []*stream
	for _, ss := range b.bySession {
		for s := range ss {
			if s.out != nil {
				detached = append(detached, s)
			}
		}
	}
	b.mu.Unlock()
	h.writers.close()
	for _, s := range detached {
		s.out.Interrupt()
	}
	h.bg.Wait()
	deadline := time.Now().Add(streamEndTimeout)
	for _, s := range detached {
		h.endDetached(s, deadline)
	}
}
