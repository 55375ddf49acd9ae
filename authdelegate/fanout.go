package authdelegate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ssogate/ssogate/store"
)

// userStreams are the streams of one user on this replica and the user's
// readiness state, kept only while streams exist.
type userStreams struct {
	streams map[*stream]struct{}
	// ready is the highest version seen ready (pulled) while streams exist.
	ready int64
	// waiting is a changed version not yet ready; timer delivers it after
	// ProfileReadyTimeout.
	waiting int64
	timer   *time.Timer
}

// fanout fans the store's notifications out to this replica's streams.
type fanout struct {
	h *Handler

	mu        sync.Mutex
	byUser    map[string]*userStreams
	bySession map[string]map[*stream]struct{}

	resyncMu      sync.Mutex
	resyncRunning bool
	resyncAgain   bool
	// A pass that could not read everything (the store is down) runs
	// again after retryFirst, doubling up to retryMax, or at once when
	// another pass is asked for (resyncWake, capacity 1): the channel that
	// asked is back, and so, likely, is the store.
	retryFirst, retryMax time.Duration
	resyncWake           chan struct{}
	// workers are the resync passes; Run waits for them.
	workers sync.WaitGroup

	// sweeping: the sweeper runs. closed: Close has begun; no sweeper
	// starts any more.
	sweeping, closed bool

	// Run subscribes to the store's channels only while this replica has
	// streams: a listening PostgreSQL backend reads every notification of
	// its database in a transaction of its own, which a replica with no
	// tab open would pay for nothing. streamsWake (capacity 1) tells Run
	// that a stream registered; emptySince is when the last one left;
	// after listenIdle without streams Run unsubscribes.
	streamsWake chan struct{}
	emptySince  time.Time
	listenIdle  time.Duration
}

func newFanout(h *Handler) *fanout {
	return &fanout{
		h: h, byUser: map[string]*userStreams{}, bySession: map[string]map[*stream]struct{}{},
		retryFirst: resyncRetryFirst, retryMax: resyncRetryMax, resyncWake: make(chan struct{}, 1),
		streamsWake: make(chan struct{}, 1), listenIdle: listenIdle,
	}
}

// listenIdle is how long Run stays subscribed after the last stream left,
// so that a tab that reloads does not cost a new subscription.
const listenIdle = time.Minute

// The retry schedule of a resync pass that failed to read the store.
const (
	resyncRetryFirst = 500 * time.Millisecond
	resyncRetryMax   = 30 * time.Second
)

// register adds s; the returned function removes it.
func (b *fanout) register(s *stream) func() {
	b.mu.Lock()
	us := b.byUser[s.userID]
	if us == nil {
		us = &userStreams{streams: map[*stream]struct{}{}}
		b.byUser[s.userID] = us
	}
	us.streams[s] = struct{}{}
	ss := b.bySession[s.sessionID]
	if ss == nil {
		ss = map[*stream]struct{}{}
		b.bySession[s.sessionID] = ss
		b.h.metrics.liveSessions.Inc()
	}
	ss[s] = struct{}{}
	b.emptySince = time.Time{}
	b.startSweeperLocked()
	b.mu.Unlock()
	select {
	case b.streamsWake <- struct{}{}:
	default:
	}
	b.h.metrics.liveStreams.Inc()
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if us := b.byUser[s.userID]; us != nil {
			delete(us.streams, s)
			if len(us.streams) == 0 {
				if us.timer != nil {
					us.timer.Stop()
				}
				delete(b.byUser, s.userID)
			}
		}
		if ss := b.bySession[s.sessionID]; ss != nil {
			delete(ss, s)
			if len(ss) == 0 {
				delete(b.bySession, s.sessionID)
				b.h.metrics.liveSessions.Dec()
				if len(b.bySession) == 0 {
					b.emptySince = time.Now()
				}
			}
		}
		b.h.metrics.liveStreams.Dec()
	}
}

// profileChanged: version v of user is committed; deliver it when it is
// pulled, or after delay at the latest.
func (b *fanout) profileChanged(userID string, v int64, delay time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	us := b.byUser[userID]
	if us == nil || v <= us.ready {
		return
	}
	if delay <= 0 {
		b.deliverLocked(us, v)
		return
	}
	if v > us.waiting {
		us.waiting = v
	}
	// The first pending change sets the deadline; later ones ride along, so a
	// burst of changes cannot postpone the tabs forever.
	if us.timer == nil {
		us.timer = time.AfterFunc(delay, func() { b.readyTimeout(userID, us) })
	}
}

func (b *fanout) readyTimeout(userID string, us *userStreams) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byUser[userID] != us {
		return // the user's streams all left meanwhile
	}
	v := us.waiting
	us.waiting, us.timer = 0, nil
	if v > us.ready {
		b.deliverLocked(us, v)
	}
}

// profileReady: the hub pulled version v of user.
func (b *fanout) profileReady(userID string, v int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	us := b.byUser[userID]
	if us == nil {
		return
	}
	if v > us.ready {
		us.ready = v
	}
	b.deliverLocked(us, v)
	if us.waiting != 0 && us.waiting <= v {
		us.waiting = 0
		if us.timer != nil {
			us.timer.Stop()
			us.timer = nil
		}
	}
}

func (b *fanout) deliverLocked(us *userStreams, v int64) {
	for s := range us.streams {
		s.offerProfile(v)
	}
}

// sessionsEnded sends logout to every stream of the sessions.
func (b *fanout) sessionsEnded(ids []string, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		for s := range b.bySession[id] {
			s.offerLogout(reason)
		}
	}
}

// catchUp compares a stream with the stored profile: what is ready (served
// to a pull, or changed longer than ProfileReadyTimeout ago) is due now; a
// newer version waits for its pull or the rest of the timeout.
func (b *fanout) catchUp(s *stream, p *store.Profile) {
	if p == nil {
		return
	}
	now := b.h.cfg.Now()
	timeout := b.h.cfg.ProfileReadyTimeout
	if p.ServedVersion >= p.Version || !now.Before(p.ModifiedAt.Add(timeout)) {
		s.offerProfile(p.Version)
		return
	}
	if p.ServedVersion > 0 {
		s.offerProfile(p.ServedVersion)
		b.profileReady(p.UserID, p.ServedVersion)
	}
	b.profileChanged(p.UserID, p.Version, p.ModifiedAt.Add(timeout).Sub(now))
}

// awaitStreams returns true once this replica has a stream, false when ctx
// ends first.
func (b *fanout) awaitStreams(ctx context.Context) bool {
	for {
		b.mu.Lock()
		n := len(b.bySession)
		b.mu.Unlock()
		if n > 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-b.streamsWake:
		}
	}
}

// idle reports whether this replica has had no stream for listenIdle.
func (b *fanout) idle(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.bySession) == 0 && !now.Before(b.emptySince.Add(b.listenIdle))
}

// resync re-reads the state of every local stream from the store, after the
// notification channel lagged or was re-established. Concurrent requests
// coalesce into one more pass. A pass that failed to read the store (it is
// down, or still coming back) is run again on the retry schedule until one
// reads everything or ctx ends: its notifications are gone, so the store
// is the only place that still has what the streams missed.
func (b *fanout) resync(ctx context.Context) {
	b.resyncMu.Lock()
	if b.resyncRunning {
		b.resyncAgain = true
		b.resyncMu.Unlock()
		select {
		case b.resyncWake <- struct{}{}:
		default:
		}
		return
	}
	b.resyncRunning = true
	b.resyncMu.Unlock()
	// Run waits for the pass (workers) before it returns.
	b.workers.Go(func() {
		retry := b.retryFirst
		for {
			// A request from before this pass is answered by it.
			select {
			case <-b.resyncWake:
			default:
			}
			err := b.resyncOnce(ctx)
			b.resyncMu.Lock()
			if ctx.Err() != nil || (err == nil && !b.resyncAgain) {
				b.resyncRunning = false
				b.resyncMu.Unlock()
				return
			}
			b.resyncAgain = false
			b.resyncMu.Unlock()
			if err == nil {
				retry = b.retryFirst
				continue
			}
			b.h.log.WarnContext(ctx, "authdelegate: resync incomplete; retrying",
				slog.String("error", err.Error()), slog.Duration("retry", retry))
			select {
			case <-ctx.Done():
			case <-b.resyncWake:
			case <-time.After(retry):
			}
			retry = min(2*retry, b.retryMax)
		}
	})
}

// resyncOnce compares every local stream with the store. It reads them all
// even when some reads fail and reports the first failure with their count.
func (b *fanout) resyncOnce(ctx context.Context) error {
	b.mu.Lock()
	users := make(map[string][]*stream, len(b.byUser))
	for u, us := range b.byUser {
		for s := range us.streams {
			users[u] = append(users[u], s)
		}
	}
	sessions := make(map[string][]*stream, len(b.bySession))
	for id, ss := range b.bySession {
		for s := range ss {
			sessions[id] = append(sessions[id], s)
		}
	}
	b.mu.Unlock()
	var first error
	failed := 0
	fail := func(what string, err error) {
		if first == nil {
			first = fmt.Errorf("authdelegate: resync %s: %w", what, err)
		}
		failed++
	}
	now := b.h.cfg.Now()
	for id, streams := range sessions {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sess, err := b.h.store.SessionGet(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			for _, s := range streams {
				s.offerLogout(reasonExpired)
			}
		case err != nil:
			fail("session", err)
		case !sess.Active(now):
			reason := sess.EndReason
			if reason == "" {
				reason = reasonExpired
			}
			for _, s := range streams {
				s.offerLogout(reason)
			}
		}
	}
	for u, streams := range users {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := b.h.store.ProfileGet(ctx, u)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				fail("profile", err)
			}
			continue
		}
		for _, s := range streams {
			b.catchUp(s, p)
		}
	}
	if first != nil {
		return fmt.Errorf("%w (%d of %d reads failed)", first, failed, len(sessions)+len(users))
	}
	return nil
}

// cleanup ends sessions that expired unnoticed (revoking their refresh
// tokens) and deletes spent one-time values and old ended sessions every
// CleanupInterval until ctx ends. Every replica does it; the deletes are
// idempotent.
func (h *Handler) cleanup(ctx context.Context) {
	t := time.NewTicker(h.cfg.CleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := h.cfg.Now()
		// End (and revoke) the sessions that expired unnoticed before the
		// retention below deletes them.
		if _, err := h.endExpired(ctx); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "authdelegate: end expired sessions", slog.String("error", err.Error()))
		}
		if _, err := h.store.OneTimeDeleteExpired(ctx, now); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "authdelegate: delete expired one-time values", slog.String("error", err.Error()))
		}
		if _, err := h.store.SessionDeleteEnded(ctx, now.Add(-h.cfg.EndedSessionRetention)); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "authdelegate: delete ended sessions", slog.String("error", err.Error()))
		}
	}
}

// Run forwards the store's notifications (profile changed, profile ready,
// session ended) to this replica's event streams until ctx ends or Close is
// called. It is subscribed only while the replica has streams, and for
// listenIdle after the last one closed. When the notification channel lags
// or is (re-)opened, every stream is compared with the store again, so
// nothing is missed. Run also
// deletes expired login flows, codes and jtis and old ended sessions every
// CleanupInterval. Run returns nil on a clean stop, once every goroutine
// it started (cleanup, resync passes) has returned.
func (h *Handler) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	// Deferred calls run last first: cancel, then the joins.
	defer h.fanout.workers.Wait()
	var loops sync.WaitGroup
	defer loops.Wait()
	defer cancel()
	loops.Go(func() {
		select {
		case <-h.closed:
			cancel()
		case <-ctx.Done():
		}
	})
	loops.Go(func() { h.cleanup(ctx) })
	backoff := time.Second
	for {
		if !h.fanout.awaitStreams(ctx) {
			return nil
		}
		started := time.Now()
		err := h.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errListenIdle) {
			backoff = time.Second
			continue
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		h.log.WarnContext(ctx, "authdelegate: notification channel lost; re-subscribing",
			slog.String("error", fmt.Sprint(err)), slog.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// errListenIdle ends listen when this replica has had no stream for
// listenIdle.
var errListenIdle = errors.New("authdelegate: no stream open; unsubscribed")

// listen subscribes to the three channels and dispatches until one of them
// ends, or until this replica has had no stream for listenIdle. Once the
// subscriptions are up it compares every stream with the store: they were
// down, or not yet up when the streams registered.
func (h *Handler) listen(ctx context.Context) error {
	var subs []store.Subscription
	defer func() {
		for _, s := range subs {
			_ = s.Close()
		}
		h.metrics.liveSubscribed.Set(0)
	}()
	for _, ch := range []string{store.ChannelProfileChanged, store.ChannelProfileReady, store.ChannelSessionEnded} {
		// The subscriptions are closed by the deferred Close when this loop
		// ends; not tying them to ctx as well keeps one owner (and avoids a
		// close racing Listen's return in the in-process notifier).
		sub, err := h.store.Listen(context.WithoutCancel(ctx), ch)
		if err != nil {
			return fmt.Errorf("authdelegate: listen %s: %w", ch, err)
		}
		subs = append(subs, sub)
	}
	h.metrics.liveSubscribed.Set(1)
	h.fanout.resync(ctx)
	idleCheck := time.NewTicker(h.fanout.listenIdle)
	defer idleCheck.Stop()
	changed, ready, ended := subs[0], subs[1], subs[2]
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-idleCheck.C:
			if h.fanout.idle(now) {
				return errListenIdle
			}
		case payload, ok := <-changed.C():
			if !ok {
				return errors.New("authdelegate: profile_changed subscription ended")
			}
			for _, ev := range store.DecodeProfileEvents(payload) {
				h.fanout.profileChanged(ev.UserID, ev.Version, h.cfg.ProfileReadyTimeout)
			}
		case payload, ok := <-ready.C():
			if !ok {
				return errors.New("authdelegate: profile_ready subscription ended")
			}
			for _, ev := range store.DecodeProfileEvents(payload) {
				h.fanout.profileReady(ev.UserID, ev.Version)
			}
		case payload, ok := <-ended.C():
			if !ok {
				return errors.New("authdelegate: session_ended subscription ended")
			}
			var ev store.SessionEvent
			if json.Unmarshal(payload, &ev) == nil {
				reason := ev.Reason
				if reason == "" {
					reason = reasonLogout
				}
				h.fanout.sessionsEnded(ev.SessionIDs, reason)
			}
		case <-changed.Lagged():
			h.fanout.resync(ctx)
		case <-ready.Lagged():
			h.fanout.resync(ctx)
		case <-ended.Lagged():
			h.fanout.resync(ctx)
		}
	}
}
