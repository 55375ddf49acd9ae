package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// workArgs is the job the jobs tests work.
type workArgs struct {
	N int `json:"n"`
}

func (workArgs) Kind() string { return "storetest_work" }

// otherArgs is a second kind, to check filtering by kind.
type otherArgs struct{}

func (otherArgs) Kind() string { return "storetest_other" }

func testJobs(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"InsertOnlyBeforeStart", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			res, err := s.Jobs().Insert(ctx, workArgs{N: 1}, nil)
			require.NoError(t, err)
			require.Equal(t, rivertype.JobStateAvailable, res.Job.State)
			got, err := s.Jobs().JobGet(ctx, res.Job.ID)
			require.NoError(t, err)
			require.Equal(t, "storetest_work", got.Kind)
			require.JSONEq(t, `{"n":1}`, string(got.EncodedArgs))
			// Stop on a client that never started is a no-op.
			require.NoError(t, s.Jobs().Stop(ctx))
		}},
		{"InsertMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			res, err := s.Jobs().InsertMany(ctx, []river.InsertManyParams{
				{Args: workArgs{N: 1}}, {Args: workArgs{N: 2}}, {Args: otherArgs{}},
			})
			require.NoError(t, err)
			require.Len(t, res, 3)
			require.Len(t, listJobs(t, s, workArgs{}.Kind()), 2)
			require.Len(t, listJobs(t, s, otherArgs{}.Kind()), 1)
		}},
		{"JobGetUnknown", func(t *testing.T, s store.Store) {
			_, err := s.Jobs().JobGet(ctxFor(t), 123456)
			require.ErrorIs(t, err, rivertype.ErrNotFound)
		}},
		{"CountByState", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			counts, err := s.Jobs().JobCountByState(ctx)
			require.NoError(t, err)
			require.Empty(t, nonZero(counts))

			for range 3 {
				_, err := s.Jobs().Insert(ctx, workArgs{}, nil)
				require.NoError(t, err)
			}
			_, err = s.Jobs().Insert(ctx, otherArgs{}, nil)
			require.NoError(t, err)
			_, err = s.Jobs().Insert(ctx, otherArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
			require.NoError(t, err)

			counts, err = s.Jobs().JobCountByState(ctx)
			require.NoError(t, err)
			require.Equal(t, map[rivertype.JobState]int{rivertype.JobStateAvailable: 4, rivertype.JobStateScheduled: 1}, nonZero(counts))
			counts, err = s.Jobs().JobCountByState(ctx, workArgs{}.Kind())
			require.NoError(t, err)
			require.Equal(t, map[rivertype.JobState]int{rivertype.JobStateAvailable: 3}, nonZero(counts))
			counts, err = s.Jobs().JobCountByState(ctx, otherArgs{}.Kind(), "storetest_none")
			require.NoError(t, err)
			require.Equal(t, map[rivertype.JobState]int{rivertype.JobStateAvailable: 1, rivertype.JobStateScheduled: 1}, nonZero(counts))
		}},
		{"StartJobsValidates", func(t *testing.T, s store.Store) {
			require.Error(t, s.StartJobs(ctxFor(t), store.JobsConfig{}), "Workers is required")
		}},
		{"WorkAndSubscribe", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			var worked sync.Map
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[workArgs]) error {
				worked.Store(job.Args.N, true)
				return nil
			}))
			// Inserted before the start: picked up by the working client.
			before, err := s.Jobs().Insert(ctx, workArgs{N: 1}, nil)
			require.NoError(t, err)

			startJobs(t, s, workers)
			events, cancel := s.Jobs().Subscribe(river.EventKindJobCompleted)
			defer cancel()

			// Inserted after the start, through Jobs() and through a
			// transaction.
			after, err := s.Jobs().Insert(ctx, workArgs{N: 2}, nil)
			require.NoError(t, err)
			var inTx *rivertype.JobInsertResult
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				inTx, err = tx.JobInsert(ctx, workArgs{N: 3}, nil)
				return err
			}))

			done := map[int64]bool{}
			for !done[after.Job.ID] || !done[inTx.Job.ID] {
				ev := receive(t, events, "completion event")
				require.Equal(t, river.EventKindJobCompleted, ev.Kind)
				done[ev.Job.ID] = true
			}
			eventually(t, func() bool {
				job, err := s.Jobs().JobGet(ctx, before.Job.ID)
				return err == nil && job.State == rivertype.JobStateCompleted
			}, "job inserted before the start is worked")
			for n := 1; n <= 3; n++ {
				_, ok := worked.Load(n)
				require.True(t, ok, "job %d worked", n)
			}
			counts, err := s.Jobs().JobCountByState(ctx, workArgs{}.Kind())
			require.NoError(t, err)
			require.Equal(t, map[rivertype.JobState]int{rivertype.JobStateCompleted: 3}, nonZero(counts))
		}},
		{"NamedQueues", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[workArgs]) error { return nil }))
			require.NoError(t, s.StartJobs(ctx, store.JobsConfig{
				Workers: workers,
				Queues:  map[string]river.QueueConfig{"ping": {MaxWorkers: 2}},
			}))
			stopJobsAtCleanup(t, s)
			events, cancel := s.Jobs().Subscribe(river.EventKindJobCompleted)
			defer cancel()
			res, err := s.Jobs().Insert(ctx, workArgs{N: 1}, &river.InsertOpts{Queue: "ping"})
			require.NoError(t, err)
			ev := receive(t, events, "completion on queue ping")
			require.Equal(t, res.Job.ID, ev.Job.ID)
			require.Equal(t, "ping", ev.Job.Queue)
		}},
		{"CancelAndRetry", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			var runs atomic.Int32
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[workArgs]) error {
				if runs.Add(1) == 1 {
					return river.JobCancel(errors.New("storetest: hub said 403"))
				}
				return nil
			}))
			startJobs(t, s, workers)
			events, cancel := s.Jobs().Subscribe(river.EventKindJobCancelled, river.EventKindJobCompleted)
			defer cancel()

			res, err := s.Jobs().Insert(ctx, workArgs{N: 1}, nil)
			require.NoError(t, err)
			ev := receive(t, events, "cancelled event")
			require.Equal(t, river.EventKindJobCancelled, ev.Kind)
			require.Equal(t, res.Job.ID, ev.Job.ID)

			// The dead letter is listed by kind and state.
			list, err := s.Jobs().JobList(ctx, river.NewJobListParams().Kinds(workArgs{}.Kind()).States(rivertype.JobStateCancelled))
			require.NoError(t, err)
			require.Len(t, list.Jobs, 1)
			require.Equal(t, res.Job.ID, list.Jobs[0].ID)
			require.NotEmpty(t, list.Jobs[0].Errors)
			require.Contains(t, list.Jobs[0].Errors[0].Error, "hub said 403")
			counts, err := s.Jobs().JobCountByState(ctx, workArgs{}.Kind())
			require.NoError(t, err)
			require.Equal(t, map[rivertype.JobState]int{rivertype.JobStateCancelled: 1}, nonZero(counts))

			// Replay.
			_, err = s.Jobs().JobRetry(ctx, res.Job.ID)
			require.NoError(t, err)
			ev = receive(t, events, "completed event after retry")
			require.Equal(t, river.EventKindJobCompleted, ev.Kind)
			require.Equal(t, res.Job.ID, ev.Job.ID)
			require.Equal(t, int32(2), runs.Load())
		}},
		{"StopWaitsForRunningJob", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			started := make(chan struct{}, 1)
			release := make(chan struct{})
			var finished atomic.Bool
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[workArgs]) error {
				started <- struct{}{}
				<-release
				finished.Store(true)
				return nil
			}))
			startJobs(t, s, workers)
			_, err := s.Jobs().Insert(ctx, workArgs{N: 1}, nil)
			require.NoError(t, err)
			receive(t, started, "job start")
			stopped := make(chan error, 1)
			go func() { stopped <- s.Jobs().Stop(ctx) }()
			close(release)
			require.NoError(t, receive(t, stopped, "stop"))
			require.True(t, finished.Load())
		}},
	})
}

// startJobs starts working jobs on the default queue and stops at cleanup.
func startJobs(t *testing.T, s store.Store, workers *river.Workers) {
	t.Helper()
	require.NoError(t, s.StartJobs(ctxFor(t), store.JobsConfig{Workers: workers}))
	stopJobsAtCleanup(t, s)
}

func stopJobsAtCleanup(t *testing.T, s store.Store) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		require.NoError(t, s.Jobs().Stop(ctx))
	})
}

// nonZero drops zero counts so that maps compare regardless of whether a
// backend lists empty states.
func nonZero(counts map[rivertype.JobState]int) map[rivertype.JobState]int {
	out := map[rivertype.JobState]int{}
	for state, n := range counts {
		if n != 0 {
			out[state] = n
		}
	}
	return out
}
