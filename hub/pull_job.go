package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// PullQueue is the River queue of pull jobs.
const PullQueue = "pull"

// pullTokenTTL is the lifetime of the system token sent with a pull: long
// enough for any clock skew, short enough to be worthless when leaked.
const pullTokenTTL = time.Hour

// pullMaxAttempts with retrySchedule spans about three days, like Standard
// Webhooks' schedule; then the job is discarded (a dead letter).
const pullMaxAttempts = 10

// retrySchedule is the delay after the n-th failed attempt (n from 1):
// livefyre.StandardWebhooksSchedule without its immediate first retry. A
// pull already answers a ping, so the endpoint that just failed gets five
// seconds before it is asked again.
var retrySchedule = livefyre.StandardWebhooksSchedule[1:]

// PullArgs is the pull job: pull one user's profile from the network's
// registered pull URL. Jobs for one user coalesce while one is waiting or
// running (see InsertOpts).
type PullArgs struct {
	Network string `json:"network"`
	UserID  string `json:"user_id"`
}

// Kind is the River job kind.
func (PullArgs) Kind() string { return "hub_pull" }

// InsertOpts puts pulls on the pull queue, unique per (network, user) among
// unfinished jobs: many pings before a pull runs make one pull, and the
// worker's PingSeq check makes a ping that arrives during a pull run
// another.
func (PullArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       PullQueue,
		MaxAttempts: pullMaxAttempts,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
				rivertype.JobStateRetryable, rivertype.JobStateScheduled,
			},
		},
	}
}

// The message of the dead letter of a refused pull; operators search for
// it.
const refusedMessage = "pull endpoint refused our token: check the network key"

// pullWorker works PullArgs.
type pullWorker struct {
	river.WorkerDefaults[PullArgs]
	h *Handler
}

// Timeout leaves room after the HTTP timeout for the database writes.
func (w *pullWorker) Timeout(*river.Job[PullArgs]) time.Duration {
	return w.h.cfg.PullTimeout + 30*time.Second
}

// NextRetry honours the Retry-After of the failed attempt, else follows
// retrySchedule with ±10% jitter, from the hub's clock (Config.Now).
func (w *pullWorker) NextRetry(job *river.Job[PullArgs]) time.Time {
	now := w.h.cfg.Now()
	if v, ok := w.h.retryAfter.LoadAndDelete(job.ID); ok {
		return now.Add(v.(time.Duration))
	}
	return now.Add(retryDelay(job.Attempt+fastPathAttempts(job.Metadata), w.h.jitter()))
}

// retryDelay is the delay after the attempt-th failure: retrySchedule's
// (livefyre.Backoff), moved by up to ±10% as r goes from 0 to 1 (0.5:
// none). The jitter is symmetric, unlike livefyre.JitteredDelay's, so that
// tests can pin the delay with r = 0.5 (Config's jitter source).
func retryDelay(attempt int, r float64) time.Duration {
	d := livefyre.Backoff(retrySchedule, attempt)
	return d + time.Duration((r*0.2-0.1)*float64(d))
}

// pullFailure is a failed pull: how it is recorded, whether it is final,
// and how long the endpoint asked us to wait.
type pullFailure struct {
	result     string // LastPullResult, and the metric's label after "error: "
	metric     string
	permanent  bool
	retryAfter time.Duration
	err        error
}

func (f *pullFailure) Error() string { return f.err.Error() }
func (f *pullFailure) Unwrap() error { return f.err }

// Work pulls the profile and records it. See the package doc for the
// coalescing rule.
func (w *pullWorker) Work(ctx context.Context, job *river.Job[PullArgs]) error {
	h := w.h
	n := h.networks[job.Args.Network]
	if n == nil {
		return river.JobCancel(fmt.Errorf("hub: network %q is no longer configured", job.Args.Network))
	}
	row, err := h.store.RemoteProfileGet(ctx, n.name, job.Args.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("hub: no remote profile %s@%s to pull", job.Args.UserID, n.name))
	}
	if err != nil {
		return fmt.Errorf("hub: read remote profile: %w", err)
	}
	if row.PulledSeq >= row.PingSeq && row.Status != store.RemoteProfilePending {
		// A fast-path pull (pull_drain.go) answered every ping meanwhile.
		return nil
	}
	seq := row.PingSeq
	reg, err := h.store.PullURLGet(ctx, n.name)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("hub: network %s has no pull URL", n.name))
	}
	if err != nil {
		return fmt.Errorf("hub: read pull URL: %w", err)
	}

	start := time.Now()
	doc, status, failure := h.fetch(ctx, n, reg.Template, job.Args.UserID)
	elapsed := time.Since(start)
	if failure != nil {
		h.metrics.observePull(failure.metric, elapsed)
		return h.fail(ctx, job, failure)
	}
	result, done, err := h.record(ctx, job, seq, status, doc)
	if err != nil {
		return err
	}
	h.metrics.observePull(result, elapsed)
	if !done {
		return river.JobSnooze(0)
	}
	return nil
}

// fetch makes the HTTP call and classifies its outcome.
func (h *Handler) fetch(ctx context.Context, n *network, template, userID string) (*livefyre.ReceivedProfile, store.RemoteProfileStatus, *pullFailure) {
	token, err := n.codec.MintSystem(pullTokenTTL)
	if err != nil {
		return nil, "", &pullFailure{result: "error: could not mint a token", metric: "error", err: fmt.Errorf("hub: mint system token: %w", err)}
	}
	target := livefyre.PullURL(template, userID, token)
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PullTimeout)
	defer cancel()
	resp, body, err := get(ctx, h.client(n), target, h.cfg.MaxPullBytes)
	if err != nil {
		return nil, "", classifyTransportError(ctx, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		doc, err := livefyre.DecodeReceived(body)
		if err != nil {
			return nil, "", &pullFailure{result: "error: malformed JSON", metric: "malformed", err: err}
		}
		if doc.ID != userID {
			return nil, "", &pullFailure{result: "error: id mismatch", metric: "id_mismatch",
				err: fmt.Errorf("hub: pull response id %q is not the requested %q", doc.ID, userID)}
		}
		return doc, store.RemoteProfileOK, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, store.RemoteProfileMissing, nil
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		return nil, "", &pullFailure{result: "refused", metric: "refused", permanent: true, err: errors.New(refusedMessage)}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return nil, "", &pullFailure{
			result: "error: status " + strconv.Itoa(resp.StatusCode), metric: "retry_status",
			retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), h.cfg.Now()),
			err:        fmt.Errorf("hub: pull endpoint answered %d", resp.StatusCode),
		}
	case resp.StatusCode >= 400:
		return nil, "", &pullFailure{result: "error: status " + strconv.Itoa(resp.StatusCode), metric: "rejected", permanent: true,
			err: fmt.Errorf("hub: pull endpoint answered %d: fix the pull endpoint or its registration, then retry this job", resp.StatusCode)}
	default: // 1xx, other 2xx, an unfollowed 3xx
		return nil, "", &pullFailure{result: "error: status " + strconv.Itoa(resp.StatusCode), metric: "unexpected_status",
			err: fmt.Errorf("hub: pull endpoint answered %d, want 200", resp.StatusCode)}
	}
}

// classifyTransportError sorts errors from the HTTP client: refused
// targets and bad redirects are permanent; timeouts, connection errors and
// a body over the limit are retried.
func classifyTransportError(ctx context.Context, err error) *pullFailure {
	switch {
	case errors.Is(err, ErrPrivateTarget):
		return &pullFailure{result: "error: private target refused", metric: "private_target", permanent: true,
			err: fmt.Errorf("%w: allow private targets for this network or register a public pull URL", err)}
	case errors.Is(err, errTooManyRedirects), errors.Is(err, errBadRedirect), errors.Is(err, errCrossHostRedirect):
		return &pullFailure{result: "error: bad redirect", metric: "redirect", permanent: true, err: err}
	case errors.Is(err, errTooLarge):
		return &pullFailure{result: "error: response too large", metric: "too_large", err: err}
	case ctx.Err() != nil || isTimeout(err):
		return &pullFailure{result: "error: timeout", metric: "timeout", err: fmt.Errorf("hub: pull timed out: %w", err)}
	default:
		return &pullFailure{result: "error: connection failed", metric: "connection", err: fmt.Errorf("hub: pull failed: %w", err)}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fail records a failed attempt and tells River what to do next.
func (h *Handler) fail(ctx context.Context, job *river.Job[PullArgs], f *pullFailure) error {
	at := h.cfg.Now()
	if err := h.store.RemoteProfileRecordPullError(ctx, job.Args.Network, job.Args.UserID, f.result, at); err != nil {
		h.log.ErrorContext(ctx, "hub: record pull error", "network", job.Args.Network, "user_id", job.Args.UserID, "error", err)
	}
	if f.permanent {
		h.log.ErrorContext(ctx, "hub: pull failed for good; dead letter", "network", job.Args.Network,
			"user_id", job.Args.UserID, "job_id", job.ID, "reason", f.err.Error())
		return river.JobCancel(f)
	}
	// River asks NextRetry only when attempts remain.
	if f.retryAfter > 0 && job.Attempt < job.MaxAttempts {
		h.retryAfter.Store(job.ID, f.retryAfter)
	}
	h.log.WarnContext(ctx, "hub: pull failed; will retry", "network", job.Args.Network,
		"user_id", job.Args.UserID, "attempt", job.Attempt, "reason", f.err.Error())
	return f
}

// record stores a River pull job's result (recordTx) and completes the
// job in the same transaction when the pull answered the latest ping, so
// that no ping can be coalesced into a job that is about to finish.
func (h *Handler) record(ctx context.Context, job *river.Job[PullArgs], seq int64, status store.RemoteProfileStatus, doc *livefyre.ReceivedProfile) (result string, done bool, err error) {
	now := h.cfg.Now()
	var pingAt time.Time
	err = h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		result, pingAt, done, err = h.recordTx(ctx, tx, job.Args.Network, job.Args.UserID, seq, status, doc, now)
		if err != nil || !done {
			return err
		}
		return tx.JobComplete(ctx, job.JobRow)
	})
	if err != nil {
		return "", false, err
	}
	if done && !pingAt.IsZero() && status == store.RemoteProfileOK {
		h.metrics.propagation.Observe(now.Sub(pingAt).Seconds())
	}
	return result, done, nil
}

// parseRetryAfter is livefyre.ParseRetryAfter, 0 when absent or
// unreadable, and at least a second otherwise: an endpoint that answers
// "Retry-After: 0" is asked again a second later, not at once.
func parseRetryAfter(v string, now time.Time) time.Duration {
	d, ok := livefyre.ParseRetryAfter(v, now)
	if !ok {
		return 0
	}
	return max(d, time.Second)
}
