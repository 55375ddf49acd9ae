package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/internal/drain"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// The fast path of pulls. A ping bumps the user's PingSeq in its
// transaction and leases the pull to this process for Config.PullLease;
// right after the commit the pull is offered to the drain, which makes it at
// once, many at a time, and records the results in batches (one
// transaction for many pulls). A failed pull becomes a River pull job,
// which retries on the schedule, dead-letters with a reason and can be
// replayed, as every pull did before. A pull this process never makes (it
// died, or the drain was full) is claimed by the sweeper of any hub once its
// lease ends: a remote profile with PingSeq > PulledSeq is its outbox row.

// pullItem is one user's pending pull: the PingSeq it answers and the pull
// URL template read with it.
type pullItem struct {
	Network, UserID string
	Seq             int64
	Template        string
}

// pullOutcome is one fast-path pull's result.
type pullOutcome struct {
	doc     *livefyre.ReceivedProfile
	status  store.RemoteProfileStatus
	failure *pullFailure
	elapsed time.Duration
}

// parkedLease is the pull lease of a row whose retries belong to a River
// job: the sweepers leave it alone (a new ping leases it again).
var parkedLease = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func (h *Handler) newPullDrain() *drain.Drainer[pullItem, pullOutcome] {
	return drain.New(drain.Config[pullItem, pullOutcome]{
		Key:        func(it pullItem) string { return it.Network + "\x00" + it.UserID },
		Supersedes: func(a, b pullItem) bool { return a.Seq >= b.Seq },
		Deliver:    h.deliverPull,
		Finish:     h.finishPulls,
		Claim:      h.claimPulls,
		Workers:    h.cfg.PullWorkers,
		Logger:     h.log,
		Name:       "hub: pull drain",
	})
}

// Run makes pulls until ctx ends (the supervised service of the fast
// path), then records the pulls under way.
func (h *Handler) Run(ctx context.Context) error { return h.pulls.Run(ctx) }

func (h *Handler) deliverPull(ctx context.Context, it pullItem) pullOutcome {
	n := h.networks[it.Network]
	if n == nil {
		return pullOutcome{failure: &pullFailure{result: "error: unknown network", metric: "error", permanent: true,
			err: fmt.Errorf("hub: network %q is no longer configured", it.Network)}}
	}
	start := time.Now()
	doc, status, failure := h.fetch(ctx, n, it.Template, it.UserID)
	return pullOutcome{doc: doc, status: status, failure: failure, elapsed: time.Since(start)}
}

// claimPulls takes remote profiles whose pull lease ended, with their
// network's pull URL.
func (h *Handler) claimPulls(ctx context.Context, limit int) ([]pullItem, error) {
	now := h.cfg.Now()
	claims, err := h.store.RemoteProfileClaimPulls(ctx, store.RemoteProfileClaimParams{
		Now: now, LeaseUntil: now.Add(h.cfg.PullLease), Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	templates := map[string]string{}
	items := make([]pullItem, 0, len(claims))
	for _, c := range claims {
		tpl, ok := templates[c.Network]
		if !ok {
			reg, err := h.store.PullURLGet(ctx, c.Network)
			switch {
			case errors.Is(err, store.ErrNotFound):
				// Nothing to pull from: a registration brings it back
				// (the next ping leases it again).
			case err != nil:
				return items, err
			default:
				tpl = reg.Template
			}
			templates[c.Network] = tpl
		}
		if tpl == "" {
			// Parked like a pull without a pull URL always was: the next
			// ping after a registration leases it again.
			if err := h.store.RemoteProfileLeasePull(ctx, c.Network, c.UserID, parkedLease); err != nil && !errors.Is(err, store.ErrNotFound) {
				return items, err
			}
			continue
		}
		items = append(items, pullItem{Network: c.Network, UserID: c.UserID, Seq: c.PingSeq, Template: tpl})
	}
	return items, nil
}

// finishPulls records a batch of pulls in one transaction: every success as
// the River worker records it (coalescing on PingSeq), every failure as a
// recorded error and a River job that takes the retries over.
func (h *Handler) finishPulls(ctx context.Context, done []drain.Done[pullItem, pullOutcome]) error {
	now := h.cfg.Now()
	type observed struct {
		result string
		pingAt time.Time
	}
	results := make([]observed, len(done))
	err := h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i, d := range done {
			it, out := d.Item, d.Result
			if out.failure != nil {
				if err := tx.RemoteProfileRecordPullError(ctx, it.Network, it.UserID, out.failure.result, now); err != nil {
					return fmt.Errorf("hub: record pull error: %w", err)
				}
				if err := tx.RemoteProfileLeasePull(ctx, it.Network, it.UserID, parkedLease); err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("hub: park pull: %w", err)
				}
				opts := PullArgs{}.InsertOpts()
				if out.failure.retryAfter > 0 {
					opts.ScheduledAt = now.Add(out.failure.retryAfter)
				}
				if _, err := tx.JobInsert(ctx, PullArgs{Network: it.Network, UserID: it.UserID}, &opts); err != nil {
					return fmt.Errorf("hub: insert pull job: %w", err)
				}
				results[i] = observed{result: out.failure.metric}
				continue
			}
			result, pingAt, _, err := h.recordTx(ctx, tx, it.Network, it.UserID, it.Seq, out.status, out.doc, now)
			if err != nil {
				return err
			}
			results[i] = observed{result: result, pingAt: pingAt}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: record pulls: %w", err)
	}
	for i, d := range done {
		h.metrics.observePull(results[i].result, d.Result.elapsed)
		if f := d.Result.failure; f != nil {
			h.log.WarnContext(ctx, "hub: pull failed; a job retries it", "network", d.Item.Network,
				"user_id", d.Item.UserID, "reason", f.err.Error())
			continue
		}
		if !results[i].pingAt.IsZero() && d.Result.status == store.RemoteProfileOK {
			h.metrics.propagation.Observe(now.Sub(results[i].pingAt).Seconds())
		}
	}
	return nil
}

// recordTx stores a pull's result in tx, coalescing on PingSeq: it locks
// the user's PingSeq and compares it with seq, the value the pull answers.
// done reports whether the pull answered the latest ping (otherwise a ping
// came during the pull and another pull follows it). pingAt is when the
// answered ping arrived, when done.
func (h *Handler) recordTx(ctx context.Context, tx store.Tx, networkName, userID string, seq int64, status store.RemoteProfileStatus, doc *livefyre.ReceivedProfile, now time.Time) (result string, pingAt time.Time, done bool, err error) {
	cur, err := tx.RemoteProfilePingSeqForUpdate(ctx, networkName, userID)
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("hub: lock remote profile: %w", err)
	}
	before, err := tx.RemoteProfileGet(ctx, networkName, userID)
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("hub: read remote profile: %w", err)
	}
	params := store.RemoteProfilePullParams{
		Network: networkName, UserID: userID, Seq: seq, At: now, Status: status, Result: "missing",
	}
	if status == store.RemoteProfileOK {
		params.Data = doc.Canonical()
		params.DisplayName = doc.DisplayName
		params.AvatarURL = doc.ImageURL
		params.Result = "unchanged"
		if !bytes.Equal(before.Data, params.Data) {
			params.Changed = changedFields(before.Data, params.Data)
			params.Result = "ok"
		}
	}
	after, changed, err := tx.RemoteProfileRecordPull(ctx, params)
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("hub: record pull: %w", err)
	}
	if changed {
		ev := UpdateEvent{Network: after.Network, UserID: after.UserID, DisplayName: after.DisplayName, Avatar: after.AvatarURL, PulledAt: now}
		if !before.PingReceivedAt.IsZero() {
			ev.PingReceivedAt = &before.PingReceivedAt
		}
		if err := notifyUpdate(ctx, tx, ev); err != nil {
			return "", time.Time{}, false, err
		}
	}
	if cur != seq {
		return params.Result, time.Time{}, false, nil
	}
	return params.Result, before.PingReceivedAt, true, nil
}
