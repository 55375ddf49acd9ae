package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

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

// finishPulls records a batch of pulls in one transaction: the successes
// together (recordPullsTx: one locked read per network and one write for
// the batch, coalescing on PingSeq as the River worker does), every failure
// as a recorded error and a River job that takes the retries over.
func (h *Handler) finishPulls(ctx context.Context, done []drain.Done[pullItem, pullOutcome]) error {
	now := h.cfg.Now()
	results := make([]pullRecorded, len(done))
	err := h.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var ok []pullToRecord
		var okIdx []int
		for i, d := range done {
			it, out := d.Item, d.Result
			if out.failure == nil {
				ok = append(ok, pullToRecord{network: it.Network, userID: it.UserID, seq: it.Seq, status: out.status, doc: out.doc})
				okIdx = append(okIdx, i)
				continue
			}
			if err := tx.RemoteProfileRecordPullError(ctx, it.Network, it.UserID, out.failure.result, now); err != nil {
				return fmt.Errorf("hub: record pull error: %w", err)
			}
			if err := tx.RemoteProfileLeasePull(ctx, it.Network, it.UserID, parkedLease); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("hub: park pull: %w", err)
			}
			opts := h.fastPathRetryOpts(out.failure, now)
			if _, err := tx.JobInsert(ctx, PullArgs{Network: it.Network, UserID: it.UserID}, &opts); err != nil {
				return fmt.Errorf("hub: insert pull job: %w", err)
			}
			results[i] = pullRecorded{result: out.failure.metric}
		}
		recorded, err := h.recordPullsTx(ctx, tx, ok, now)
		if err != nil {
			return err
		}
		for k, i := range okIdx {
			results[i] = recorded[k]
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

// fastPathRetryOpts schedules the River job that takes over a failed
// fast-path pull: the fast path's attempt counts as the job's first (its
// metadata says so, and NextRetry adds it), so the job's first run waits as
// a retry after one failure would (or as long as Retry-After asked) instead
// of pulling again at once.
func (h *Handler) fastPathRetryOpts(f *pullFailure, now time.Time) river.InsertOpts {
	opts := PullArgs{}.InsertOpts()
	wait := retryDelay(1, h.jitter())
	if f.retryAfter > 0 {
		wait = f.retryAfter
	}
	opts.ScheduledAt = now.Add(wait)
	opts.Metadata = []byte(`{"` + fastPathAttemptsKey + `":1}`)
	return opts
}

// fastPathAttemptsKey is the pull job metadata key that counts the failed
// fast-path attempts before the job existed.
const fastPathAttemptsKey = "fast_path_attempts"

// fastPathAttempts reads fastPathAttemptsKey from a job's metadata (0 when
// absent or unreadable).
func fastPathAttempts(metadata []byte) int {
	var m struct {
		N int `json:"fast_path_attempts"`
	}
	if len(metadata) == 0 || json.Unmarshal(metadata, &m) != nil {
		return 0
	}
	return max(m.N, 0)
}

// pullToRecord is one successful pull to record: the PingSeq it answers and
// what it got.
type pullToRecord struct {
	network, userID string
	seq             int64
	status          store.RemoteProfileStatus
	doc             *livefyre.ReceivedProfile
}

// pullRecorded is how a recorded pull ended: its result (the metric's
// label), and, when it answered the latest ping, when that ping arrived.
type pullRecorded struct {
	result string
	pingAt time.Time
	done   bool
}

// recordPullsTx records successful pulls in tx as recordTx records one, in
// few statements: per network, one read that locks the rows in key order
// (the PingSeq each pull is compared with, the data it is diffed against),
// then one RemoteProfileRecordPulls for them all, then one notification
// per changed profile. A user twice in pulls (rare: the drain keeps one pull
// per user) is recorded in a later round, after the first.
func (h *Handler) recordPullsTx(ctx context.Context, tx store.Tx, pulls []pullToRecord, now time.Time) ([]pullRecorded, error) {
	out := make([]pullRecorded, len(pulls))
	pending := make([]int, len(pulls))
	for i := range pulls {
		pending[i] = i
	}
	for len(pending) > 0 {
		var round, later []int
		inRound := map[[2]string]bool{}
		for _, i := range pending {
			key := [2]string{pulls[i].network, pulls[i].userID}
			if inRound[key] {
				later = append(later, i)
				continue
			}
			inRound[key] = true
			round = append(round, i)
		}
		byNetwork := map[string][]string{}
		for _, i := range round {
			byNetwork[pulls[i].network] = append(byNetwork[pulls[i].network], pulls[i].userID)
		}
		before := map[[2]string]*store.RemoteProfile{}
		for network, users := range byNetwork {
			rows, err := tx.RemoteProfileGetManyForUpdate(ctx, network, users)
			if err != nil {
				return nil, fmt.Errorf("hub: lock remote profiles: %w", err)
			}
			for user, row := range rows {
				before[[2]string{network, user}] = row
			}
		}
		params := make([]store.RemoteProfilePullParams, 0, len(round))
		for _, i := range round {
			p := pulls[i]
			b := before[[2]string{p.network, p.userID}]
			if b == nil {
				return nil, fmt.Errorf("hub: lock remote profile %s@%s: %w", p.userID, p.network, store.ErrNotFound)
			}
			params = append(params, pullParams(b, p.network, p.userID, p.seq, p.status, p.doc, now))
		}
		recorded, err := tx.RemoteProfileRecordPulls(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("hub: record pulls: %w", err)
		}
		changed := map[[2]string]*store.RemoteProfile{}
		for _, r := range recorded {
			if r.Changed {
				changed[[2]string{r.Profile.Network, r.Profile.UserID}] = r.Profile
			}
		}
		for k, i := range round {
			p := pulls[i]
			key := [2]string{p.network, p.userID}
			b := before[key]
			if after := changed[key]; after != nil {
				if err := notifyUpdate(ctx, tx, pulledEvent(b, after, now)); err != nil {
					return nil, err
				}
			}
			out[i] = pullRecorded{result: params[k].Result}
			if b.PingSeq == p.seq {
				out[i].pingAt, out[i].done = b.PingReceivedAt, true
			}
		}
		pending = later
	}
	return out, nil
}

// pullParams is how a pull that answers seq and got (status, doc) is
// recorded over the row before it.
func pullParams(before *store.RemoteProfile, networkName, userID string, seq int64, status store.RemoteProfileStatus, doc *livefyre.ReceivedProfile, now time.Time) store.RemoteProfilePullParams {
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
	return params
}

// pulledEvent is the live event of a pull that changed the profile.
func pulledEvent(before, after *store.RemoteProfile, now time.Time) UpdateEvent {
	ev := UpdateEvent{Network: after.Network, UserID: after.UserID, DisplayName: after.DisplayName, Avatar: after.AvatarURL, PulledAt: now}
	if !before.PingReceivedAt.IsZero() {
		at := before.PingReceivedAt
		ev.PingReceivedAt = &at
	}
	return ev
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
	params := pullParams(before, networkName, userID, seq, status, doc, now)
	after, changed, err := tx.RemoteProfileRecordPull(ctx, params)
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("hub: record pull: %w", err)
	}
	if changed {
		if err := notifyUpdate(ctx, tx, pulledEvent(before, after, now)); err != nil {
			return "", time.Time{}, false, err
		}
	}
	if cur != seq {
		return params.Result, time.Time{}, false, nil
	}
	return params.Result, before.PingReceivedAt, true, nil
}
