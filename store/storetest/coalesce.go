package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// coalesceArgs is a ping-like job keyed only by the user.
type coalesceArgs struct {
	UserID string `json:"user_id"`
}

func (coalesceArgs) Kind() string { return "storetest_coalesce" }

// coalesceUniqueOpts are the unique options of the architecture's
// coalescing pattern: one job per key in every state but completed (and the
// dead-letter states), so a change committed after the job completed always
// gets a new job.
func coalesceUniqueOpts() river.UniqueOpts {
	return river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}
}

// coalesceHarness plays a gateway whose ping jobs follow the coalescing
// pattern, and a hub that remembers the highest version each user's ping
// carried.
type coalesceHarness struct {
	s store.Store

	// callFunc, when set, runs during the simulated HTTP call.
	callFunc func(ctx context.Context, userID string, version int64)

	mu      sync.Mutex
	hubSeen map[string]int64
	runs    atomic.Int32
	snoozes atomic.Int32
}

func newCoalesceHarness(s store.Store) *coalesceHarness {
	return &coalesceHarness{s: s, hubSeen: map[string]int64{}}
}

// Work is the coalescing worker: read the counter, call, then lock the
// counter and complete in one transaction, or snooze when it moved on.
func (h *coalesceHarness) Work(ctx context.Context, job *river.Job[coalesceArgs]) error {
	h.runs.Add(1)
	p, err := h.s.ProfileGet(ctx, job.Args.UserID)
	if err != nil {
		return err
	}
	start := p.Version

	if h.callFunc != nil {
		h.callFunc(ctx, job.Args.UserID, start)
	}
	h.mu.Lock()
	h.hubSeen[job.Args.UserID] = max(h.hubSeen[job.Args.UserID], start)
	h.mu.Unlock()

	moved := false
	err = h.s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		v, err := tx.ProfileVersionForUpdate(ctx, job.Args.UserID)
		if err != nil {
			return err
		}
		if v != start {
			moved = true
			return nil
		}
		return tx.JobComplete(ctx, job.JobRow)
	})
	if err != nil {
		return err
	}
	if moved {
		h.snoozes.Add(1)
		return river.JobSnooze(0)
	}
	return nil
}

func (h *coalesceHarness) seen(userID string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hubSeen[userID]
}

// write is the webhook: bump the version, then insert the job, in one
// transaction.
func (h *coalesceHarness) write(ctx context.Context, userID string, n int) (*store.Profile, *rivertype.JobInsertResult, error) {
	var (
		p   *store.Profile
		res *rivertype.JobInsertResult
	)
	err := h.s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		p, _, err = tx.ProfileUpsert(ctx, store.ProfileUpsertParams{
			UserID: userID, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)), Now: at(0),
		})
		if err != nil {
			return err
		}
		res, err = tx.JobInsert(ctx, coalesceArgs{UserID: userID}, &river.InsertOpts{UniqueOpts: coalesceUniqueOpts()})
		return err
	})
	return p, res, err
}

func (h *coalesceHarness) start(t *testing.T) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(h.Work))
	startJobs(t, h.s, workers)
}

// waitQuiet waits until no job of the kind is left to run and the hub saw
// every user's final version.
func (h *coalesceHarness) waitQuiet(t *testing.T, users []string) {
	t.Helper()
	ctx := ctxFor(t)
	eventually(t, func() bool {
		counts, err := h.s.Jobs().JobCountByState(ctx, coalesceArgs{}.Kind())
		if err != nil {
			return false
		}
		for state, n := range counts {
			if n > 0 && state != rivertype.JobStateCompleted {
				return false
			}
		}
		for _, u := range users {
			p, err := h.s.ProfileGet(ctx, u)
			if err != nil || h.seen(u) != p.Version {
				return false
			}
		}
		return true
	}, "quiet with every final version delivered")
}

func testCoalesce(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"ChangeDuringCallRunsAgain", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			h := newCoalesceHarness(s)
			type call struct {
				version int64
				release chan struct{}
			}
			calls := make(chan call)
			h.callFunc = func(ctx context.Context, userID string, version int64) {
				c := call{version, make(chan struct{})}
				select {
				case calls <- c:
				case <-ctx.Done():
					return
				}
				select {
				case <-c.release:
				case <-ctx.Done():
				}
			}
			h.start(t)

			_, first, err := h.write(ctx, "ann", 1)
			require.NoError(t, err)
			require.False(t, first.UniqueSkippedAsDuplicate)
			c := receive(t, calls, "first call")
			require.Equal(t, int64(1), c.version)

			// A change while the call is in flight is deduplicated against
			// the running job...
			p, second, err := h.write(ctx, "ann", 2)
			require.NoError(t, err)
			require.Equal(t, int64(2), p.Version)
			require.True(t, second.UniqueSkippedAsDuplicate)
			require.Equal(t, first.Job.ID, second.Job.ID)

			// ...which notices and runs again.
			close(c.release)
			c = receive(t, calls, "second call")
			require.Equal(t, int64(2), c.version)
			close(c.release)
			eventually(t, func() bool {
				job, err := s.Jobs().JobGet(ctx, first.Job.ID)
				return err == nil && job.State == rivertype.JobStateCompleted
			}, "job completed")
			require.Equal(t, int64(2), h.seen("ann"))
			require.Equal(t, int32(1), h.snoozes.Load())

			// A change after completion gets a new job.
			_, third, err := h.write(ctx, "ann", 3)
			require.NoError(t, err)
			require.False(t, third.UniqueSkippedAsDuplicate)
			require.NotEqual(t, first.Job.ID, third.Job.ID)
			c = receive(t, calls, "third call")
			require.Equal(t, int64(3), c.version)
			close(c.release)
			h.waitQuiet(t, []string{"ann"})
		}},
		{"ManyChangesCoalesce", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			h := newCoalesceHarness(s)
			// Changes committed before the workers start make one job.
			var ids []int64
			for n := range 10 {
				_, res, err := h.write(ctx, "ann", n)
				require.NoError(t, err)
				ids = append(ids, res.Job.ID)
			}
			for _, id := range ids {
				require.Equal(t, ids[0], id)
			}
			h.start(t)
			h.waitQuiet(t, []string{"ann"})
			require.Equal(t, int32(1), h.runs.Load())
			require.Equal(t, int64(10), h.seen("ann"))
		}},
		{"NoChangeLostUnderConcurrentWriters", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			h := newCoalesceHarness(s)
			h.start(t)
			users := []string{"ann", "bob", "carl"}
			const writers, writes = 3, 15
			var wg sync.WaitGroup
			var n atomic.Int64
			for w := range writers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 7))
					for range writes {
						_, _, err := h.write(ctx, users[rng.IntN(len(users))], int(n.Add(1)))
						if !assertNoError(t, err) {
							return
						}
					}
				})
			}
			wg.Wait()
			h.waitQuiet(t, users)
		}},
	})
}
