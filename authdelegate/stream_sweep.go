package authdelegate

import (
	"time"
)

// sweepTick is how often the sweeper looks at every stream: a quarter of
// the shorter of the keep-alive and recheck intervals, between 10 ms and
// 1 s. A keep-alive, recheck or absolute expiry is late by at most one
// tick.
func sweepTick(keepAlive, recheck time.Duration) time.Duration {
	return min(max(min(keepAlive, recheck)/4, 10*time.Millisecond), time.Second)
}

// startSweeperLocked starts the sweeper unless it runs or the Handler is
// closed. b.mu is held.
func (b *fanout) startSweeperLocked() {
	if b.sweeping || b.closed {
		return
	}
	b.sweeping = true
	// Close waits for it (bg); it stops by itself once no stream is left.
	b.h.bg.Go(b.sweeper)
}

// sweeper marks the keep-alives, rechecks and expiries that came due on
// every stream, each tick, until the last stream is gone or the Handler is
// closed.
func (b *fanout) sweeper() {
	cfg := b.h.cfg
	t := time.NewTicker(sweepTick(cfg.KeepAliveInterval, cfg.StreamRecheckInterval))
	defer t.Stop()
	for {
		select {
		case <-b.h.closed:
			return
		case <-t.C:
		}
		now := time.Now()
		b.mu.Lock()
		if len(b.bySession) == 0 {
			b.sweeping = false
			b.mu.Unlock()
			return
		}
		for _, ss := range b.bySession {
			for s := range ss {
				s.sweep(now, cfg.KeepAliveInterval, cfg.StreamRecheckInterval)
			}
		}
		b.mu.Unlock()
	}
}
