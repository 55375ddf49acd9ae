package pingpull

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ssogate/ssogate/internal/drain"
	"github.com/ssogate/ssogate/store"
)

// The fast path of pings. A webhook that changes a profile writes the
// user's ping_outbox entry in its transaction, leased to this process for
// PingLease, and offers it to the drain right after the commit: the ping
// goes out at once, with no job row to insert, fetch or complete. Outcomes
// are recorded in batches (one transaction for many pings): delivered
// entries are deleted (unless a newer change came meanwhile), failed ones
// become River ping jobs, which retry on the schedule, dead-letter with a
// reason and can be replayed, as every ping did before. An entry this
// process never delivers (it died, or the drain was full) is claimed by the
// sweeper of any gateway once its lease ends.

// pingFinishLinger is how long a ping outcome waits for others to share its
// transaction.
const pingFinishLinger = 20 * time.Millisecond

// pingItem is one user's pending ping up to a profile version (0: a resync
// entry, "ping once").
type pingItem struct {
	UserID  string
	Version int64
}

// pingDelivery is the outcome of one fast-path ping.
type pingDelivery struct {
	res     pingResult
	latency time.Duration
	at      time.Time
}

// newPingDrain builds the drain of the fast path.
func (h *Handler) newPingDrain() *drain.Drainer[pingItem, pingDelivery] {
	return drain.New(drain.Config[pingItem, pingDelivery]{
		Key:        func(it pingItem) string { return it.UserID },
		Supersedes: func(a, b pingItem) bool { return a.Version >= b.Version },
		Deliver:    h.deliverPing,
		Finish:     h.finishPings,
		Claim:      h.claimPings,
		Workers:    h.cfg.PingWorkers,
		// Recording a ping's outcome gates nothing the user sees (the hub
		// pulls on the ping itself), so outcomes wait a little longer for
		// company: fewer transactions per change.
		Linger: pingFinishLinger,
		Logger: h.log,
		Name:   "pingpull: ping drain",
	})
}

// instanceID names this process in the outbox's owner column (for people
// reading the table; leases, not owners, decide who may claim).
func instanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "/" + strconv.Itoa(os.Getpid()) + "/" + hex.EncodeToString(b[:])
}

// Run delivers pings until ctx ends (the supervised service of the fast
// path), then records the outcomes of the pings under way. Beside it runs
// the hub's return (hub_return.go).
func (h *Handler) Run(ctx context.Context) error {
	back, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.runHubReturn(back)
	}()
	err := h.pings.Run(ctx)
	cancel()
	<-done
	return err
}

// offerPing hands a committed outbox entry to the drain.
func (h *Handler) offerPing(userID string, version int64) {
	if !h.pings.Offer(pingItem{UserID: userID, Version: version}) {
		h.metrics.pings.WithLabelValues("deferred").Inc()
	}
}

// pingEntry is the user's outbox entry, leased to this process.
func (h *Handler) pingEntry(userID string, version int64) *store.PingOutboxPutParams {
	return &store.PingOutboxPutParams{
		UserID: userID, Version: version, Owner: h.instance, LeaseUntil: h.cfg.Now().Add(h.cfg.PingLease),
	}
}

func (h *Handler) deliverPing(ctx context.Context, it pingItem) pingDelivery {
	start := time.Now()
	res := h.sendPing(ctx, it.UserID)
	return pingDelivery{res: res, latency: time.Since(start), at: h.cfg.Now()}
}

// claimPings takes outbox entries whose lease ended.
func (h *Handler) claimPings(ctx context.Context, limit int) ([]pingItem, error) {
	now := h.cfg.Now()
	entries, err := h.store.PingOutboxClaim(ctx, store.PingOutboxClaimParams{
		Owner: h.instance, Now: now, LeaseUntil: now.Add(h.cfg.PingLease), Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	items := make([]pingItem, len(entries))
	for i, e := range entries {
		items[i] = pingItem(e)
	}
	return items, nil
}

// finishPings records a batch of outcomes in one transaction: the
// timeline, the outbox entries delivered, a River job for each failure,
// and one "profile changed" notification for the batch's versions (the
// event streams' fallback timers start from it: the tabs re-login when the
// pull is served, or after the timeout when none comes).
func (h *Handler) finishPings(ctx context.Context, done []drain.Done[pingItem, pingDelivery]) error {
	var delivered, failed []store.PingOutboxEntry
	var events []store.ProfileEvent
	err := h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		delivered, failed, events = delivered[:0], failed[:0], events[:0]
		timeline := make([]*store.TimelineEvent, 0, len(done))
		for _, d := range done {
			it, res := d.Item, d.Result.res
			detail := map[string]any{
				"attempt":    1,
				"version":    it.Version,
				"latency_ms": float64(d.Result.latency.Microseconds()) / 1000,
			}
			if res.status != 0 {
				detail["status"] = res.status
			}
			if res.reason != "" {
				detail["error"] = res.reason
			}
			entry := store.PingOutboxEntry{UserID: it.UserID, Version: it.Version}
			if it.Version > 0 {
				// Pinged or not, the tabs' fallback timer starts now.
				events = append(events, store.ProfileEvent{UserID: it.UserID, Version: it.Version})
			}
			if res.outcome == pingOK {
				detail["result"] = "ok"
				delivered = append(delivered, entry)
			} else {
				// River takes it from here: the retry schedule, the dead
				// letter and its replay.
				detail["result"] = "retry"
				if res.outcome == pingPermanent {
					detail["result"] = "dead_letter_pending"
				}
				failed = append(failed, entry)
				var at time.Time
				if res.retryAfter > 0 {
					detail["retry_after_s"] = res.retryAfter.Seconds()
					at = d.Result.at.Add(res.retryAfter)
				}
				if err := h.enqueuePingTx(ctx, tx, it.UserID, at); err != nil {
					return err
				}
			}
			timeline = append(timeline, timelineEvent(it.UserID, "ping.attempt", detail, d.Result.at))
		}
		if err := tx.TimelineAppendMany(ctx, timeline); err != nil {
			return err
		}
		if _, err := tx.PingOutboxDelete(ctx, append(delivered, failed...)); err != nil {
			return err
		}
		for _, payload := range store.EncodeProfileEvents(events) {
			if err := tx.Notify(ctx, store.ChannelProfileChanged, payload); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pingpull: record pings: %w", err)
	}
	for _, d := range done {
		res := d.Result.res
		h.metrics.pingLatency.Observe(d.Result.latency.Seconds())
		switch res.outcome {
		case pingOK:
			h.metrics.pings.WithLabelValues("ok").Inc()
			h.hubAnswered()
		default:
			if res.retryAfter > 0 {
				h.hubQuietUntil(d.Result.at.Add(res.retryAfter))
			}
			h.metrics.pings.WithLabelValues("retry").Inc()
			h.log.WarnContext(ctx, "pingpull: ping failed; a job retries it", "user_id", d.Item.UserID,
				"status", res.status, "reason", res.reason)
		}
	}
	return nil
}
