package pingpull

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ssogate/ssogate/store"
)

// When the hub comes back. Pings (and logouts) that failed wait on River's
// retry schedule, which grows to hours: after an outage of a few minutes,
// changes would reach the hub only at their next retry. So when the hub
// answers again, the jobs waiting on a retry run at once
// (store.JobsBringForward), except those a Retry-After of the hub still
// holds (the job's metadata keeps its end) and those whose last attempt was
// itself brought forward (they wait for their schedule once, so that a hub
// failing one user's ping while it serves the others does not use up that
// ping's attempts in seconds). Each job keeps its attempt count, its
// coalescing (one per user) and its version check: bringing a job forward
// only moves when it runs.
//
// "The hub answers again" is any ping or logout it answers 2xx, on the fast
// path or in a job, on any replica; and, so that no traffic is needed, a
// probe: every hubProbeInterval, when a ping job waits on a retry that is
// further away than that, this process pings its user directly (a ping is
// idempotent: the hub pulls the current profile) without spending one of
// the job's attempts. Every ping job of the database goes to the one hub of
// HubURL (every replica is configured with the same), so "the pings of that
// hub" are all of them.

// Defaults of the hub's return.
const (
	// hubProbeInterval is how often a probe may be sent.
	hubProbeInterval = 5 * time.Second
	// hubBringForwardGap is the least time between two bring-forwards of
	// this process: successes in a burst share one.
	hubBringForwardGap = 500 * time.Millisecond
	// hubProbeCandidates is how many waiting ping jobs a probe looks at.
	hubProbeCandidates = 20
)

// hubKinds are the job kinds that call the hub.
var hubKinds = []string{pingKind, logoutKind}

// hubReturn is the state of the hub's return.
type hubReturn struct {
	// answered is signalled (without blocking) when the hub answered.
	answered chan struct{}
	// quietUntil is the end of the latest Retry-After the hub sent (Unix
	// milliseconds on cfg.Now): no probe before it.
	quietUntil atomic.Int64
	// probeInterval and gap are the defaults above; tests shorten them.
	probeInterval time.Duration
	gap           time.Duration

	broughtForward prometheus.Counter
	probes         *prometheus.CounterVec
}

func newHubReturn(reg prometheus.Registerer) (*hubReturn, error) {
	r := &hubReturn{
		answered:      make(chan struct{}, 1),
		probeInterval: hubProbeInterval,
		gap:           hubBringForwardGap,
		broughtForward: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ssogate_gateway_hub_jobs_brought_forward_total",
			Help: "Ping and logout jobs waiting on a retry that were made to run at once because the hub answered again.",
		}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_gateway_hub_probes_total",
			Help: "Pings sent to the hub for a user whose ping job waits on a retry, to learn whether the hub answers again, by result (ok, failed).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{r.broughtForward, r.probes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("pingpull: register metrics: %w", err)
		}
	}
	return r, nil
}

// hubAnswered tells the hub's return that the hub answered a request.
func (h *Handler) hubAnswered() {
	select {
	case h.back.answered <- struct{}{}:
	default:
	}
}

// holdRetryAfter records a hub's Retry-After for a failed job: for
// NextRetry (through retryAfter, as before), in the job's metadata (so that
// no replica brings the job forward before at), and as the end of probes.
// It must be called from the job's Work.
func (h *Handler) holdRetryAfter(ctx context.Context, retryAfter *sync.Map, jobID int64, at time.Time) {
	retryAfter.Store(jobID, at)
	if err := river.MetadataSet(ctx, store.JobMetaNotBefore, at.UnixMilli()); err != nil {
		h.log.WarnContext(ctx, "pingpull: cannot record the hub's Retry-After on the job", "job_id", jobID, "error", err)
	}
	h.hubQuietUntil(at)
}

// hubQuietUntil moves the end of probes to at when that is later.
func (h *Handler) hubQuietUntil(at time.Time) {
	ms := at.UnixMilli()
	for {
		cur := h.back.quietUntil.Load()
		if cur >= ms || h.back.quietUntil.CompareAndSwap(cur, ms) {
			return
		}
	}
}

// runHubReturn brings waiting jobs forward when the hub answered, and
// probes, until ctx ends.
func (h *Handler) runHubReturn(ctx context.Context) {
	probe := time.NewTicker(h.back.probeInterval)
	defer probe.Stop()
	for {
		var via string
		select {
		case <-ctx.Done():
			return
		case <-h.back.answered:
			via = "answer"
		case <-probe.C:
			if !h.probeHub(ctx) {
				continue
			}
			via = "probe"
		}
		h.bringForward(ctx, via)
		gap := time.NewTimer(h.back.gap)
		select {
		case <-ctx.Done():
			gap.Stop()
			return
		case <-gap.C:
		}
	}
}

// bringForward makes the hub's waiting jobs run now, in batches.
func (h *Handler) bringForward(ctx context.Context, via string) {
	total := 0
	for {
		n, err := h.store.JobsBringForward(ctx, store.JobsBringForwardParams{Kinds: hubKinds, Now: h.cfg.Now()})
		if err != nil {
			if ctx.Err() == nil {
				h.log.WarnContext(ctx, "pingpull: cannot bring waiting pings forward; they keep their retry schedule", "error", err)
			}
			break
		}
		total += n
		if n < store.JobsBringForwardDefaultLimit {
			break
		}
	}
	if total > 0 {
		h.back.broughtForward.Add(float64(total))
		h.log.InfoContext(ctx, "pingpull: the hub answers again; jobs waiting on a retry run now", "count", total, "via", via)
	}
}

// probeHub pings the user of one waiting ping job whose retry is more than
// a probe interval away, unless a Retry-After holds the hub, and reports
// whether the hub answered 2xx.
func (h *Handler) probeHub(ctx context.Context) bool {
	now := h.cfg.Now()
	if now.UnixMilli() < h.back.quietUntil.Load() {
		return false
	}
	// The newest first: after an outage, the latest change.
	res, err := h.store.Jobs().JobList(ctx, river.NewJobListParams().Kinds(pingKind).States(rivertype.JobStateRetryable).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(hubProbeCandidates))
	if err != nil {
		if ctx.Err() == nil {
			h.log.WarnContext(ctx, "pingpull: hub probe: list waiting pings", "error", err)
		}
		return false
	}
	var userID string
	for _, row := range res.Jobs {
		if row.ScheduledAt.After(now.Add(h.back.probeInterval)) && bringForwardable(row, now) {
			var args PingArgs
			if json.Unmarshal(row.EncodedArgs, &args) == nil && validUserID(args.UserID) {
				userID = args.UserID
				break
			}
		}
	}
	if userID == "" {
		return false
	}
	pr := h.sendPing(ctx, userID)
	if pr.outcome != pingOK {
		h.back.probes.WithLabelValues("failed").Inc()
		if pr.retryAfter > 0 {
			h.hubQuietUntil(h.cfg.Now().Add(pr.retryAfter))
		}
		h.log.DebugContext(ctx, "pingpull: hub probe failed", "user_id", userID, "status", pr.status, "reason", pr.reason)
		return false
	}
	h.back.probes.WithLabelValues("ok").Inc()
	return true
}

// bringForwardable is store.JobsBringForward's rule for one job, read from
// its metadata: no Retry-After running, last attempt not brought forward.
func bringForwardable(row *rivertype.JobRow, now time.Time) bool {
	var meta map[string]any
	if len(row.Metadata) > 0 && json.Unmarshal(row.Metadata, &meta) != nil {
		return false
	}
	if v, ok := meta[store.JobMetaNotBefore].(float64); ok && int64(v) > now.UnixMilli() {
		return false
	}
	if v, ok := meta[store.JobMetaBroughtForward].(float64); ok && int(v) == row.Attempt-1 {
		return false
	}
	return true
}
