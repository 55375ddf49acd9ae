package authdelegate

import (
	"sync"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
)

// stream is one open /events response. The fan-out never blocks on it: it
// records what is due (the highest profile version, a logout) and pokes the
// stream's goroutine (attached: the handler still serves it, as on HTTP/2),
// or queues the stream for the writers (detached: the connection was taken
// over from the server and the stream is this struct alone). Offers coalesce, so a slow client gets
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

	// Detached streams: out is the connection (set once, with b.mu held
	// as well), writers write it, unregister removes the stream from the
	// fan-out. queued: on the writers' queue or being written; done: ended.
	out          *httpbase.DetachedEventStream
	writers      *streamWriters
	unregister   func()
	queued, done bool
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

// wakeLocked tells whoever writes s that something is due: it pokes an
// attached stream's goroutine, or reports true when a detached stream must
// be queued for the writers (it was not queued yet). s.mu is held.
func (s *stream) wakeLocked() bool {
	if s.out == nil {
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return false
	}
	if s.queued || s.done {
		return false
	}
	s.queued = true
	return true
}

// unlockAndWake releases s.mu, waking s when due is set.
func (s *stream) unlockAndWake(due bool) {
	push := due && s.wakeLocked()
	s.mu.Unlock()
	if push {
		s.writers.push(s)
	}
}

// dueLocked reports whether anything is due. s.mu is held.
func (s *stream) dueLocked() bool {
	return s.pending > s.sent || s.logout != "" || s.keepAlive || s.recheck || s.expired
}

// offerProfile makes version v due unless the tab has it already.
func (s *stream) offerProfile(v int64) {
	s.mu.Lock()
	due := v > s.sent && v > s.pending
	if due {
		s.pending = v
	}
	s.unlockAndWake(due)
}

func (s *stream) offerLogout(reason string) {
	s.mu.Lock()
	due := s.logout == ""
	if due {
		s.logout = reason
	}
	s.unlockAndWake(due)
}

// sweep marks what the clock made due at now: a keep-alive after
// keepAlive of quiet, the recheck (the next one about recheck later) and
// the absolute expiry.
func (s *stream) sweep(now time.Time, keepAlive, recheck time.Duration) {
	s.mu.Lock()
	poke := false
	if !s.keepAlive && now.Sub(s.quietSince) >= keepAlive {
		s.keepAlive, s.quietSince, poke = true, now, true
	}
	if !now.Before(s.recheckAt) {
		s.recheck, s.recheckAt, poke = true, now.Add(jitter(recheck)), true
	}
	if !s.expired && !now.Before(s.expiresAt) {
		s.expired, poke = true, true
	}
	s.unlockAndWake(poke)
}

// takeDue returns what is due and marks it delivered.
func (s *stream) takeDue() due {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeDueLocked()
}

func (s *stream) takeDueLocked() due {
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
