package pingpull

import (
	"context"
	"sync"
	"time"

	"github.com/ssogate/ssogate/store"
)

// profileReads reads the profiles of concurrent pulls together: a pull
// that finds fewer than maxPullReadsInFlight reads running starts one with
// every pull waiting, itself included; the others wait for the next read to
// start. Every read starts after each of its pulls arrived, so a pull never
// answers with a version older than the store held when it arrived — the
// guarantee a ping from another replica needs, which a cache could not
// give — while under load one statement serves many pulls (one round trip
// to PostgreSQL instead of one per pull).
//
// Why no per-replica profile cache (issue 13; measured and weighed, not
// forgotten). A cached answer is only right if the replica can show it
// saw every change committed before the ping that caused the pull, and
// today it cannot:
//
//   - a webhook's change is announced ("profile changed") only when its
//     ping's outcome is recorded (finishPings), after the ping left and so
//     possibly after the hub already pulled: invalidating on it would serve
//     the version before the change to exactly the pull the ping asked for
//     (login claims do notify in their transaction);
//   - with SQLite the notifier is in-process: a second store handle on the
//     same file (another process) is never heard from;
//   - even with a notification in every committing transaction (webhook,
//     login claims, and any future writer), a replica learns that its
//     listener caught up only by a round trip started after the pull
//     arrived (a marker NOTIFY coming back: PostgreSQL delivers
//     notifications in commit order) — the very round trip the cache was
//     to save — unless pings are held back by a lease and the replicas
//     trust their clocks, a timing argument rather than a proof.
//
// So every pull reads the store. With one client on PostgreSQL that round
// trip is the floor: on the 2-core bench machine a prepared point SELECT
// costs 126 µs (pgbench -M prepared -c 1), the bare handler's whole
// request 45 µs, which caps a pull at about 27% of the bare handler's rate
// however little else it does.
type profileReads struct {
	getOne  func(ctx context.Context, userID string) (*store.Profile, error)
	getMany func(ctx context.Context, userIDs []string) (map[string]*store.Profile, error)

	mu      sync.Mutex
	pending []*profileRead
	running int
}

// profileRead is one pull's wait for its profile.
type profileRead struct {
	userID string
	done   chan profileReadResult
}

type profileReadResult struct {
	profile *store.Profile
	err     error
}

// maxPullReadsInFlight bounds the reads running at once (each holds one
// store connection); maxPullReadBatch bounds one read's users;
// pullReadTimeout bounds a read, which no single pull may cancel.
const (
	maxPullReadsInFlight = 2
	maxPullReadBatch     = 500
	pullReadTimeout      = 10 * time.Second
)

// get returns userID's profile, store.ErrNotFound when there is none.
func (r *profileReads) get(ctx context.Context, userID string) (*store.Profile, error) {
	read := &profileRead{userID: userID, done: make(chan profileReadResult, 1)}
	r.mu.Lock()
	r.pending = append(r.pending, read)
	batch := r.take()
	r.mu.Unlock()
	if batch != nil {
		// The common case without contention: this pull reads, on its own
		// goroutine, for itself and whoever joined.
		r.run(ctx, batch)
	}
	select {
	case res := <-read.done:
		return res.profile, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// take claims the pending pulls (at most maxPullReadBatch) for a new read
// when fewer than maxPullReadsInFlight run; nil otherwise. r.mu is held.
func (r *profileReads) take() []*profileRead {
	if len(r.pending) == 0 || r.running >= maxPullReadsInFlight {
		return nil
	}
	n := min(len(r.pending), maxPullReadBatch)
	batch := r.pending[:n:n]
	r.pending = r.pending[n:]
	if len(r.pending) == 0 {
		r.pending = nil
	}
	r.running++
	return batch
}

// run reads batch, answers each of its pulls, and hands the pulls that
// arrived meanwhile to a new read on a goroutine of its own, so the pull
// that ran this one answers without waiting for theirs.
func (r *profileReads) run(ctx context.Context, batch []*profileRead) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pullReadTimeout)
	if len(batch) == 1 {
		// Alone: the point lookup, cheaper than a set's.
		p, err := r.getOne(ctx, batch[0].userID)
		batch[0].done <- profileReadResult{profile: p, err: err}
	} else {
		ids := make([]string, len(batch))
		for i, read := range batch {
			ids[i] = read.userID
		}
		profiles, err := r.getMany(ctx, ids)
		for _, read := range batch {
			res := profileReadResult{err: err}
			if err == nil {
				res.profile = profiles[read.userID]
				if res.profile == nil {
					res.err = store.ErrNotFound
				}
			}
			read.done <- res
		}
	}
	cancel()
	r.mu.Lock()
	r.running--
	next := r.take()
	r.mu.Unlock()
	if next != nil {
		go r.run(ctx, next)
	}
}
