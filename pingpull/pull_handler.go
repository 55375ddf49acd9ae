package pingpull

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// servePull is GET /pull?id={id}&lftoken={system token} (spec §3.5): 403
// with an empty body unless lftoken is a valid system token of the
// network, then 404 for an unknown user, else the canonical profile. The
// pull is recorded (version served, timeline, "profile ready") by the
// group-committing servedRecorder, a few milliseconds later.
func (h *Handler) servePull(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	query := r.URL.Query()
	w.Header().Set("Cache-Control", "no-store")
	token := query.Get("lftoken")
	if token == "" {
		h.metrics.pulls.WithLabelValues("forbidden").Inc()
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if err := h.verifyPullToken(token); err != nil {
		h.metrics.pulls.WithLabelValues("forbidden").Inc()
		// The error names the check that failed, never the token.
		h.log.WarnContext(ctx, "pingpull: pull refused", "reason", err.Error(), "remote_addr", r.RemoteAddr)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	userID := query.Get("id")
	if userID == "" || len(userID) > tokens.MaxUserIDLength || !validUserID(userID) {
		h.metrics.pulls.WithLabelValues("bad_request").Inc()
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field",
			Message: "id: must match ^[a-zA-Z0-9_.-]+$"})
		return
	}
	p, err := h.reads.get(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		h.metrics.pulls.WithLabelValues("not_found").Inc()
		h.timeline(ctx, userID, "pull.not_found", map[string]any{})
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such user"})
		return
	}
	if err != nil {
		h.metrics.pulls.WithLabelValues("error").Inc()
		h.errs.Write(w, r, err)
		return
	}
	h.metrics.pulls.WithLabelValues("served").Inc()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.Data)
	h.recordServed(ctx, servedRecord{userID: userID, version: p.Version, first: p.ServedVersion < p.Version, at: h.cfg.Now()})
}

// servedRecord is one pull served, to be recorded.
type servedRecord struct {
	userID  string
	version int64
	// first: the version had not been served when the profile was read.
	first bool
	at    time.Time
}

// servedRecorder group-commits served records: a pull appends its record
// and returns; one goroutine at a time (started when records are pending,
// gone when none are) writes everything pending in one transaction, then
// the next batch. A transaction per pull would cap pulls at the store's
// write rate; a batch costs about one transaction. Flush is its stop: it
// cuts the linger short and waits until the goroutine is gone.
type servedRecorder struct {
	mu       sync.Mutex
	pending  []servedRecord
	flushing bool
	// idle is closed and replaced when a flush goroutine exits (Flush waits
	// on it); taken when a batch is taken (full queues wait on it).
	idle  chan struct{}
	taken chan struct{}
	// hurry is closed and replaced by Flush: the batch being gathered is
	// written without waiting out servedLinger.
	hurry chan struct{}
}

// maxServedBatch bounds one transaction; maxServedPending bounds the
// queue; servedLinger is how long a batch waits for more pulls before it is
// written.
const (
	maxServedBatch   = 1000
	maxServedPending = 4 * maxServedBatch
	servedLinger     = 10 * time.Millisecond
)

// recordServed queues rec and starts a flush when none is running.
// When maxServedPending records wait already, it waits for the writer to
// take a batch (or ctx to end, dropping the record): pulls then go no
// faster than the store records them, and memory stays bounded.
func (h *Handler) recordServed(ctx context.Context, rec servedRecord) {
	r := &h.served
	r.mu.Lock()
	for len(r.pending) >= maxServedPending {
		taken := r.taken
		r.mu.Unlock()
		select {
		case <-taken:
		case <-ctx.Done():
			h.log.WarnContext(ctx, "pingpull: pull served but not recorded: the recorder is behind", "user_id", rec.userID, "version", rec.version)
			return
		}
		r.mu.Lock()
	}
	r.pending = append(r.pending, rec)
	start := !r.flushing
	r.flushing = true
	r.mu.Unlock()
	if start {
		go h.flushServed()
	}
}

func (h *Handler) flushServed() {
	r := &h.served
	for {
		// Let a few more pulls join the batch: under load one transaction
		// then records many pulls, and repeated pulls of a version fold.
		r.mu.Lock()
		hurry := r.hurry
		r.mu.Unlock()
		linger := time.NewTimer(servedLinger)
		select {
		case <-linger.C:
		case <-hurry:
			linger.Stop()
		}
		r.mu.Lock()
		n := min(len(r.pending), maxServedBatch)
		if n == 0 {
			r.flushing = false
			close(r.idle)
			r.idle = make(chan struct{})
			r.mu.Unlock()
			return
		}
		batch := r.pending[:n:n]
		r.pending = r.pending[n:]
		if len(r.pending) == 0 {
			r.pending = nil
		}
		close(r.taken)
		r.taken = make(chan struct{})
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := h.writeServed(ctx, batch); err != nil {
			// The record is not worth failing pulls for; the browser side
			// falls back to a timeout when no "profile ready" comes.
			h.log.WarnContext(ctx, "pingpull: record pulls served failed", "count", len(batch), "error", err)
		}
		cancel()
	}
}

// writeServed stores a batch in one transaction. Pulls of the same user
// and version are folded into one timeline entry with their count; a
// version served for the first time is marked served and announced
// ("profile ready").
func (h *Handler) writeServed(ctx context.Context, batch []servedRecord) error {
	type key struct {
		userID  string
		version int64
	}
	type group struct {
		servedRecord
		count int
	}
	var groups []*group
	index := make(map[key]*group)
	for _, rec := range batch {
		k := key{rec.userID, rec.version}
		if g := index[k]; g != nil {
			g.count++
			g.first = g.first || rec.first
			continue
		}
		g := &group{servedRecord: rec, count: 1}
		index[k] = g
		groups = append(groups, g)
	}
	var (
		ready    []store.ProfileEvent
		served   []store.ProfileServed
		timeline = make([]*store.TimelineEvent, 0, len(groups))
	)
	for _, g := range groups {
		if g.first {
			served = append(served, store.ProfileServed{UserID: g.userID, Version: g.version, At: g.at})
			ready = append(ready, store.ProfileEvent{UserID: g.userID, Version: g.version})
		}
		detail := map[string]any{"version": g.version, "first": g.first, "count": g.count}
		timeline = append(timeline, timelineEvent(g.userID, "pull.served", detail, g.at))
	}
	return h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ProfileMarkServedMany(ctx, served); err != nil {
			return err
		}
		if err := tx.TimelineAppendMany(ctx, timeline); err != nil {
			return err
		}
		// One notification for the batch ("profile ready" for every
		// version served first), not one per pull.
		for _, payload := range store.EncodeProfileEvents(ready) {
			if err := tx.Notify(ctx, store.ChannelProfileReady, payload); err != nil {
				return err
			}
		}
		return nil
	})
}

// Flush writes the pulls served so far without waiting out the linger, and
// waits until they are recorded and the recorder's goroutine is gone (or
// ctx ends). Call it at shutdown, after the HTTP server stopped.
func (h *Handler) Flush(ctx context.Context) error {
	r := &h.served
	for {
		r.mu.Lock()
		if !r.flushing {
			r.mu.Unlock()
			return nil
		}
		idle := r.idle
		close(r.hurry)
		r.hurry = make(chan struct{})
		r.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("pingpull: flush served pulls: %w", ctx.Err())
		}
	}
}

// pullTokenCacheSize bounds the verified-token cache; it is cleared when
// full. A hub reuses a token for many pulls, or sends a fresh one each
// time (then the cache only costs a hash and a map insert). Only tokens
// that verified are inserted, so refused requests cannot flush it.
const pullTokenCacheSize = 256

// verifyPullToken checks a system token, remembering tokens that verified
// until they expire. It answers exactly what h.tokens.VerifySystem would:
//
//   - a given token string's signature, network and user never change, and
//     the codec's keys are fixed for the Handler's life (a key rotation or
//     revocation is a new Codec, so a new Handler with an empty cache);
//   - a hit is trusted only strictly before the token's Expires, which is
//     never later than when the codec starts refusing it (Expires plus its
//     leeway); from Expires on the token is verified again, so the answer
//     in the leeway is the codec's, cached or not;
//   - entries are keyed by the SHA-256 of the token, not the token: the map
//     compares digests, so its timing says nothing about the bytes of a
//     valid token, and no token is kept in memory.
func (h *Handler) verifyPullToken(token string) error {
	now := h.cfg.Now()
	key := sha256.Sum256([]byte(token))
	h.tokenMu.Lock()
	expires, ok := h.tokenCache[key]
	h.tokenMu.Unlock()
	if ok && now.Before(expires) {
		return nil
	}
	claims, err := h.tokens.VerifySystem(token)
	if err != nil {
		return err
	}
	h.tokenMu.Lock()
	if len(h.tokenCache) >= pullTokenCacheSize {
		clear(h.tokenCache)
	}
	h.tokenCache[key] = claims.Expires
	h.tokenMu.Unlock()
	return nil
}
