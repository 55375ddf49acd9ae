package pingpull

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// pingKind is the River job kind of pings.
const pingKind = "pingpull_ping"

// PingArgs are the arguments of a ping job: the user whose profile
// changed. The job is unique per user among unfinished jobs.
type PingArgs struct {
	UserID string `json:"user_id"`
}

// Kind is the River job kind.
func (PingArgs) Kind() string { return pingKind }

// pingUniqueStates are the unfinished states: a ping waiting or running
// absorbs new requests; a completed or dead one does not.
var pingUniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRunning,
	rivertype.JobStateRetryable,
	rivertype.JobStateScheduled,
}

func (h *Handler) pingInsertOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       PingQueue,
		MaxAttempts: h.cfg.PingMaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: pingUniqueStates},
	}
}

// AddWorkers registers the ping and hub logout workers on workers. It panics when called
// twice with the same workers (a wiring bug).
func (h *Handler) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, h.worker)
	river.AddWorker(workers, &logoutWorker{h: h})
}

// Queues returns the queue configuration the ping worker needs, to merge
// into store.JobsConfig.Queues.
func (h *Handler) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{PingQueue: {MaxWorkers: 20}}
}

// EnqueuePingTx queues a ping for userID in tx. Call it after the profile
// version was bumped in the same transaction (the coalescing rule): when
// a ping for the user is already waiting or running, no job is added and
// the waiting or running one carries the change.
func (h *Handler) EnqueuePingTx(ctx context.Context, tx store.Tx, userID string) error {
	return h.enqueuePingTx(ctx, tx, userID, time.Time{})
}

// enqueuePingTx is EnqueuePingTx with the job's first run not before at
// (a hub's Retry-After; zero: at once).
func (h *Handler) enqueuePingTx(ctx context.Context, tx store.Tx, userID string, at time.Time) error {
	if !validUserID(userID) {
		return fmt.Errorf("pingpull: enqueue ping: %w", &livefyre.FieldError{Field: "user_id", Message: tokens.UserIDRule})
	}
	opts := h.pingInsertOpts()
	opts.ScheduledAt = at
	if _, err := tx.JobInsert(ctx, PingArgs{UserID: userID}, opts); err != nil {
		return fmt.Errorf("pingpull: enqueue ping: %w", err)
	}
	return nil
}

// defaultEnqueueBatch is how many pings EnqueuePings inserts per
// transaction.
const defaultEnqueueBatch = 500

// EnqueuePings queues a ping for each user (ssogate ping: initial or
// repair sync). It checks every id first and queues nothing when one is
// invalid; then it commits in batches and returns how many users have a
// ping queued (a ping already waiting counts). On error, queued says how
// many were committed before it.
func (h *Handler) EnqueuePings(ctx context.Context, userIDs []string) (queued int, err error) {
	var bad []string
	for i, id := range userIDs {
		if !validUserID(id) {
			bad = append(bad, fmt.Sprintf("user_ids[%d] %q", i, id))
		}
	}
	if len(bad) > 0 {
		return 0, fmt.Errorf("pingpull: enqueue pings: invalid user ids (each "+tokens.UserIDRule+"): %s", strings.Join(bad, ", "))
	}
	for start := 0; start < len(userIDs); start += h.enqueueBatch {
		batch := userIDs[start:min(start+h.enqueueBatch, len(userIDs))]
		now := h.cfg.Now()
		entries := make([]store.PingOutboxEntry, len(batch))
		requested := make([]*store.TimelineEvent, len(batch))
		for i, id := range batch {
			// Version 0: "ping once"; an entry for a newer change keeps its
			// version.
			entries[i] = store.PingOutboxEntry{UserID: id}
			requested[i] = timelineEvent(id, "ping.requested", map[string]any{"source": "manual"}, now)
		}
		err := h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			// Claimable at once: the sweepers of the running gateways take
			// them, as fast as the hub answers.
			if err := tx.PingOutboxPutMany(ctx, entries, "", time.Time{}); err != nil {
				return err
			}
			// One statement for the batch's timeline (was one per user).
			return tx.TimelineAppendMany(ctx, requested)
		})
		if err != nil {
			return queued, fmt.Errorf("pingpull: enqueue pings: %w", err)
		}
		queued += len(batch)
		h.bulkQueued(ctx, len(batch))
	}
	return queued, nil
}

// analyzeFirst is how many entries EnqueuePings queues before the outbox's
// statistics are first refreshed; each later refresh comes once the count
// doubled, so a resync of n users analyzes about log2(n/analyzeFirst)
// times.
const analyzeFirst = 1000

// bulkQueue counts the entries EnqueuePings queued in this process.
type bulkQueue struct {
	mu          sync.Mutex
	queued      int
	nextAnalyze int
}

// bulkQueued counts n more queued entries and refreshes the outbox's
// planner statistics when the count reached the next threshold, as
// PostgreSQL's manual advises after a bulk load: the drain's statements
// were otherwise planned for the outbox as it was, often nearly empty (a
// full scan per batch of deliveries). A failure is logged, not returned:
// the pings are queued either way.
func (h *Handler) bulkQueued(ctx context.Context, n int) {
	b := &h.bulk
	b.mu.Lock()
	b.queued += n
	due := b.queued >= max(b.nextAnalyze, analyzeFirst)
	if due {
		b.nextAnalyze = 2 * b.queued
	}
	b.mu.Unlock()
	if !due {
		return
	}
	if err := h.store.PingOutboxAnalyze(ctx); err != nil && ctx.Err() == nil {
		h.log.WarnContext(ctx, "pingpull: refresh the outbox's statistics", slog.String("error", err.Error()))
	}
}

// pingWorker works ping jobs.
type pingWorker struct {
	river.WorkerDefaults[PingArgs]
	h *Handler
	// retryAfter hands a hub's Retry-After from Work to NextRetry, which
	// River calls right after Work returned an error (job ID → earliest
	// next attempt).
	retryAfter sync.Map
}

// Timeout leaves room for the ping and the completing transaction.
func (w *pingWorker) Timeout(*river.Job[PingArgs]) time.Duration {
	return w.h.cfg.PingTimeout + 30*time.Second
}

// NextRetry is the retry schedule plus jitter, or later when the hub asked
// for it with Retry-After.
func (w *pingWorker) NextRetry(job *river.Job[PingArgs]) time.Time {
	return w.h.nextRetry(&w.retryAfter, job.ID, job.Attempt)
}

// nextRetry is the ping schedule's delay after attempt plus jitter, or the
// Retry-After a hub asked for (stored in retryAfter under the job's ID by
// Work) when that is later. Pings and logouts share it.
func (h *Handler) nextRetry(retryAfter *sync.Map, jobID int64, attempt int) time.Time {
	next := h.cfg.Now().Add(livefyre.JitteredDelay(h.cfg.PingRetrySchedule, attempt, rand.Int64N))
	if v, ok := retryAfter.LoadAndDelete(jobID); ok {
		if at := v.(time.Time); at.After(next) {
			next = at
		}
	}
	return next
}

// pingOutcome classifies a ping's answer.
type pingOutcome int

const (
	pingOK pingOutcome = iota
	pingTransient
	pingPermanent
)

type pingResult struct {
	outcome    pingOutcome
	status     int // 0 when no answer
	retryAfter time.Duration
	// reason describes a failure; never holds the token.
	reason string
}

// Work sends the ping and completes the job following the coalescing rule
// (package doc).
func (w *pingWorker) Work(ctx context.Context, job *river.Job[PingArgs]) error {
	h := w.h
	userID := job.Args.UserID
	before, err := profileVersion(ctx, h.store, userID)
	if err != nil {
		return fmt.Errorf("pingpull: ping %s: read version: %w", userID, err)
	}
	start := time.Now()
	res := h.sendPing(ctx, userID)
	latency := time.Since(start)
	if res.outcome != pingOK && ctx.Err() != nil {
		// Shutdown or job timeout: River reschedules; nothing to record.
		return fmt.Errorf("pingpull: ping %s: %w", userID, ctx.Err())
	}
	h.metrics.pingLatency.Observe(latency.Seconds())
	detail := map[string]any{
		"job_id":     job.ID,
		"attempt":    job.Attempt,
		"version":    before,
		"latency_ms": float64(latency.Microseconds()) / 1000,
	}
	if res.status != 0 {
		detail["status"] = res.status
	}
	if res.reason != "" {
		detail["error"] = res.reason
	}
	now := h.cfg.Now()

	switch res.outcome {
	case pingOK:
		detail["result"] = "ok"
		moved := false
		err := h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			current, err := tx.ProfileVersionForUpdate(ctx, userID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if current != before {
				// Changed while the ping was in flight: the hub may have
				// pulled the old version, so ping again.
				moved = true
				detail["result"] = "coalesced"
				detail["next_version"] = current
				_, err := tx.TimelineAppend(ctx, timelineEvent(userID, "ping.attempt", detail, now))
				return err
			}
			if _, err := tx.TimelineAppend(ctx, timelineEvent(userID, "ping.attempt", detail, now)); err != nil {
				return err
			}
			return tx.JobComplete(ctx, job.JobRow)
		})
		if err != nil {
			// Pinged, but not recorded: pinging again is harmless.
			return fmt.Errorf("pingpull: ping %s: complete: %w", userID, err)
		}
		h.hubAnswered()
		if moved {
			h.metrics.pings.WithLabelValues("coalesced").Inc()
			return river.JobSnooze(0)
		}
		h.metrics.pings.WithLabelValues("ok").Inc()
		return nil

	case pingPermanent:
		return w.deadLetter(ctx, job, detail, res.reason)

	default:
		if job.Attempt >= job.MaxAttempts {
			return w.deadLetter(ctx, job, detail, fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, res.reason))
		}
		detail["result"] = "retry"
		if res.retryAfter > 0 {
			detail["retry_after_s"] = res.retryAfter.Seconds()
			h.holdRetryAfter(ctx, &w.retryAfter, job.ID, now.Add(res.retryAfter))
		}
		h.timeline(ctx, userID, "ping.attempt", detail)
		h.metrics.pings.WithLabelValues("retry").Inc()
		h.log.WarnContext(ctx, "pingpull: ping failed; will retry", "user_id", userID, "job_id", job.ID,
			"attempt", job.Attempt, "status", res.status, "reason", res.reason)
		return fmt.Errorf("pingpull: ping %s: %s", userID, res.reason)
	}
}

// deadLetter records the end of a job and cancels it (a dead letter the
// admin API lists and replays).
func (w *pingWorker) deadLetter(ctx context.Context, job *river.Job[PingArgs], detail map[string]any, reason string) error {
	h := w.h
	w.retryAfter.Delete(job.ID)
	detail["result"] = "dead_letter"
	h.timeline(ctx, job.Args.UserID, "ping.attempt", detail)
	h.timeline(ctx, job.Args.UserID, "ping.dead_letter", map[string]any{"job_id": job.ID, "attempt": job.Attempt, "reason": reason})
	h.metrics.pings.WithLabelValues("dead_letter").Inc()
	h.metrics.deadLetters.Inc()
	h.log.ErrorContext(ctx, "pingpull: ping dead-lettered", "user_id", job.Args.UserID, "job_id", job.ID,
		"attempt", job.Attempt, "reason", reason)
	return river.JobCancel(fmt.Errorf("pingpull: ping %s: %s", job.Args.UserID, reason))
}

// profileVersion is the user's profile version, 0 when there is none.
func profileVersion(ctx context.Context, q profileReader, userID string) (int64, error) {
	p, err := q.ProfileGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return p.Version, nil
}

// sendPing POSTs {hub}/api/v3_0/user/{id}/refresh with a fresh system
// token in the form body, as Livefyre's libraries do.
func (h *Handler) sendPing(ctx context.Context, userID string) pingResult {
	return h.postToHub(ctx, userID, livefyre.ActionRefresh)
}

// postToHub POSTs {hub}/api/v3_0/user/{id}/{action} with a fresh system
// token in the form body: the ping, and the logout (ssogate's extension)
// that has the same shape.
func (h *Handler) postToHub(ctx context.Context, userID, action string) pingResult {
	if !validUserID(userID) {
		// A job queued before the id rule refused "." and "..": no retry
		// can deliver it (the id is a path segment).
		return pingResult{outcome: pingPermanent, reason: "the user id " + tokens.UserIDRule}
	}
	token, err := h.tokens.MintSystem(h.cfg.SystemTokenTTL)
	if err != nil {
		return pingResult{outcome: pingTransient, reason: "mint system token: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PingTimeout)
	defer cancel()
	target := h.cfg.HubURL + livefyre.UserActionPath(userID, action)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(url.Values{livefyre.FieldLFToken: {token}}.Encode()))
	if err != nil {
		return pingResult{outcome: pingPermanent, reason: "build request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.client.Do(req)
	if err != nil {
		reason := "connection error: " + err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			reason = "timeout after " + h.cfg.PingTimeout.String()
		}
		return pingResult{outcome: pingTransient, reason: reason}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	res := pingResult{status: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		res.outcome = pingOK
	case code == http.StatusForbidden:
		res.outcome = pingPermanent
		res.reason = "hub refused the system token (403): check the network key and name"
	case code == http.StatusNotFound || code == http.StatusGone:
		res.outcome = pingPermanent
		res.reason = fmt.Sprintf("hub answered %d: check the hub URL", code)
	default:
		res.outcome = pingTransient
		res.reason = fmt.Sprintf("hub answered %d", code)
		res.retryAfter, _ = livefyre.ParseRetryAfter(resp.Header.Get("Retry-After"), h.cfg.Now())
	}
	return res
}

// pingJSON is a dead letter as the admin API shows it.
type pingJSON struct {
	JobID       int64           `json:"job_id"`
	UserID      string          `json:"user_id"`
	State       string          `json:"state"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	CreatedAt   time.Time       `json:"created_at"`
	FinalizedAt *time.Time      `json:"finalized_at,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	Args        json.RawMessage `json:"args"`
}

func pingJSONFromRow(row *rivertype.JobRow) pingJSON {
	var args PingArgs
	_ = json.Unmarshal(row.EncodedArgs, &args)
	out := pingJSON{
		JobID:       row.ID,
		UserID:      args.UserID,
		State:       string(row.State),
		Attempt:     row.Attempt,
		MaxAttempts: row.MaxAttempts,
		CreatedAt:   row.CreatedAt,
		FinalizedAt: row.FinalizedAt,
		Args:        row.EncodedArgs,
	}
	if n := len(row.Errors); n > 0 {
		out.LastError = row.Errors[n-1].Error
	}
	return out
}
