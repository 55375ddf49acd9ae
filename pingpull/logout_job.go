package pingpull

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// logoutKind is the River job kind of hub logouts.
const logoutKind = "pingpull_logout"

// LogoutArgs are the arguments of a hub logout job: a gateway session of
// the user ended, so the hub must stop honouring the app sessions it issued
// to the user. Jobs are not deduplicated: the hub takes its own clock at
// receipt, so a logout folded into one already in flight could leave a
// session issued in between alive, and logouts are rare.
type LogoutArgs struct {
	UserID string `json:"user_id"`
}

// Kind is the River job kind.
func (LogoutArgs) Kind() string { return logoutKind }

// EnqueueLogoutTx queues a hub logout for userID in tx, the transaction
// that ends the user's gateway session (authdelegate's SessionEndedFunc),
// so that a crash cannot end the session and lose the logout. The job
// POSTs {hub}/api/v3_0/user/{id}/logout with a system lftoken, the shape of
// the ping; it is ssogate's extension, and a hub without it (404, 405) is
// logged once per job and left alone.
func (h *Handler) EnqueueLogoutTx(ctx context.Context, tx store.Tx, userID string) error {
	if !validUserID(userID) {
		return fmt.Errorf("pingpull: enqueue logout: %w", &livefyre.FieldError{Field: "user_id", Message: "must match ^[a-zA-Z0-9_.-]+$ and not be system"})
	}
	opts := &river.InsertOpts{Queue: PingQueue, MaxAttempts: h.cfg.PingMaxAttempts}
	if _, err := tx.JobInsert(ctx, LogoutArgs{UserID: userID}, opts); err != nil {
		return fmt.Errorf("pingpull: enqueue logout: %w", err)
	}
	return nil
}

// logoutWorker works hub logout jobs.
type logoutWorker struct {
	river.WorkerDefaults[LogoutArgs]
	h          *Handler
	retryAfter sync.Map // job ID → earliest next attempt, as for pings
}

// Timeout leaves room for the request.
func (w *logoutWorker) Timeout(*river.Job[LogoutArgs]) time.Duration {
	return w.h.cfg.PingTimeout + 30*time.Second
}

// NextRetry follows the ping's schedule and the hub's Retry-After.
func (w *logoutWorker) NextRetry(job *river.Job[LogoutArgs]) time.Time {
	return w.h.nextRetry(&w.retryAfter, job.ID, job.Attempt)
}

// Work sends the logout.
func (w *logoutWorker) Work(ctx context.Context, job *river.Job[LogoutArgs]) error {
	h := w.h
	userID := job.Args.UserID
	res := h.postToHub(ctx, userID, livefyre.ActionLogout)
	if res.outcome != pingOK && ctx.Err() != nil {
		return fmt.Errorf("pingpull: hub logout %s: %w", userID, ctx.Err())
	}
	detail := map[string]any{"job_id": job.ID, "attempt": job.Attempt}
	if res.status != 0 {
		detail["status"] = res.status
	}
	if res.reason != "" {
		detail["error"] = res.reason
	}
	unsupported := res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed
	switch {
	case res.outcome == pingOK:
		detail["result"] = "ok"
		h.hubAnswered()
		h.timeline(ctx, userID, "hub_logout.attempt", detail)
		h.metrics.logouts.WithLabelValues("ok").Inc()
		return nil
	case unsupported:
		// A Livefyre hub (or an older ssogate) has no logout: its app
		// sessions then end with the userAuthToken that granted them.
		detail["result"] = "unsupported"
		h.timeline(ctx, userID, "hub_logout.attempt", detail)
		h.metrics.logouts.WithLabelValues("unsupported").Inc()
		h.log.WarnContext(ctx, "pingpull: the hub has no logout endpoint; its app sessions end when their tokens expire",
			"user_id", userID, "status", res.status)
		return nil
	case res.outcome == pingPermanent || job.Attempt >= job.MaxAttempts:
		w.retryAfter.Delete(job.ID)
		detail["result"] = "dead_letter"
		h.timeline(ctx, userID, "hub_logout.attempt", detail)
		h.metrics.logouts.WithLabelValues("dead_letter").Inc()
		h.log.ErrorContext(ctx, "pingpull: hub logout given up; the user's app sessions live until their tokens expire",
			"user_id", userID, "job_id", job.ID, "attempt", job.Attempt, "reason", res.reason)
		return river.JobCancel(fmt.Errorf("pingpull: hub logout %s: %s", userID, res.reason))
	default:
		detail["result"] = "retry"
		if res.retryAfter > 0 {
			h.holdRetryAfter(ctx, &w.retryAfter, job.ID, h.cfg.Now().Add(res.retryAfter))
		}
		h.timeline(ctx, userID, "hub_logout.attempt", detail)
		h.metrics.logouts.WithLabelValues("retry").Inc()
		h.log.WarnContext(ctx, "pingpull: hub logout failed; will retry", "user_id", userID, "job_id", job.ID,
			"attempt", job.Attempt, "status", res.status, "reason", res.reason)
		return fmt.Errorf("pingpull: hub logout %s: %s", userID, res.reason)
	}
}
