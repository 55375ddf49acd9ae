package authdelegate

import (
	"sync"
	"time"
)

// stream is one open /events response. The fan-out never blocks on it: it
// records what is due (the highest profile version, a logout) and pokes the
// stream's goroutine, which writes. Offers coalesce, so a slow client gets
// the newest version once instead of a backlog. Keep-alives, session
// rechecks and the absolute expiry are due by the clock: the sweeper marks
// them for every stream, so a stream holds no timer of its own.
type stream struct {
	sessionID string
	userID    string
	wake      chan struct{} // capacity 1

	mu      sync.Mutex
	sent    int64  // highest profile version the tab has (Last-Event-ID or delivered)
	pending int64  // a version > sent that is due
	logout  string // non-empty: send logout with this reason, then end
	// keepAlive, recheck and expired are set by the sweeper.
	keepAlive, recheck, expired bool
	// quietSince is when the stream last wrote (or was last given a
	// keep-alive); recheckAt and expiresAt are the next session recheck and
	// the session's absolute expiry, on the monotonic clock.
	quietSince, recheckAt, expiresAt time.Time
}

// due is what a stream has to write next.
type due struct {
	version                     int64
	logout                      string
	keepAlive, recheck, expired bool
}

func newStream(sessionID, userID string, sent int64) *stream {
	return &stream{sessionID: sessionID, userID: userID, sent: sent, wake: make(chan struct{}, 1)}
}

// schedule sets the stream's clock: the first recheck after recheck, the
// absolute expiry after expiresIn (both from now).
func (s *stream) schedule(now time.Time, recheck, expiresIn time.Duration) {
	s.mu.Lock()
	s.quietSince, s.recheckAt, s.expiresAt = now, now.Add(recheck), now.Add(max(expiresIn, 0))
	s.mu.Unlock()
}

func (s *stream) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// offerProfile makes version v due unless the tab has it already.
func (s *stream) offerProfile(v int64) {
	s.mu.Lock()
	due := v > s.sent && v > s.pending
	if due {
		s.pending = v
	}
	s.mu.Unlock()
	if due {
		s.poke()
	}
}

func (s *stream) offerLogout(reason string) {
	s.mu.Lock()
	due := s.logout == ""
	if due {
		s.logout = reason
	}
	s.mu.Unlock()
	if due {
		s.poke()
	}
}

// sweep marks what the clock made due at now: a keep-alive after
// keepAlive of quiet, the recheck (the next one recheck later) and the
// absolute expiry.
func (s *stream) sweep(now time.Time, keepAlive, recheck time.Duration) {
	s.mu.Lock()
	poke := false
	if !s.keepAlive && now.Sub(s.quietSince) >= keepAlive {
		s.keepAlive, s.quietSince, poke = true, now, true
	}
	if !now.Before(s.recheckAt) {
		s.recheck, s.recheckAt, poke = true, now.Add(recheck), true
	}
	if !s.expired && !now.Before(s.expiresAt) {
		s.expired, poke = true, true
	}
	s.mu.Unlock()
	if poke {
		s.poke()
	}
}

// takeDue returns what is due and marks it delivered.
func (s *stream) takeDue() due {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := due{logout: s.logout, keepAlive: s.keepAlive, recheck: s.recheck, expired: s.expired}
	if s.pending > s.sent {
		d.version = s.pending
		s.sent = s.pending
		s.quietSince = time.Now()
	}
	s.keepAlive, s.recheck = false, false
	return d
}

// take returns the profile version and the logout that are due and marks
// them delivered.
func (s *stream) take() (version int64, logout string) {
	d := s.takeDue()
	return d.version, d.logout
}
