package postgres

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/storetest"
)

type testPingArgs struct {
	UserID string `json:"user_id"`
}

func (testPingArgs) Kind() string { return "test_ping" }

// testPingWorker completes its job inside a store transaction after locking
// the profile row, as the coalescing workers do.
type testPingWorker struct {
	river.WorkerDefaults[testPingArgs]
	s *Store
}

func (w *testPingWorker) Work(ctx context.Context, job *river.Job[testPingArgs]) error {
	return w.s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.ProfileVersionForUpdate(ctx, job.Args.UserID); err != nil {
			return err
		}
		return tx.JobComplete(ctx, job.JobRow)
	})
}

func TestJobsInsertInTxAndCompleteInTx(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()

	require.NoError(t, s.Jobs().Stop(ctx), "Stop before StartJobs is a no-op")

	// Subscribing before StartJobs works: the subscription is connected to
	// the working client when it starts.
	events, cancel := s.Jobs().Subscribe(river.EventKindJobCompleted)
	defer cancel()

	// Inserted through the insert-only client, worked once jobs start.
	var jobID int64
	require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "alice", Data: json.RawMessage(`{}`), Now: time.Now()}); err != nil {
			return err
		}
		res, err := tx.JobInsert(ctx, testPingArgs{UserID: "alice"}, &river.InsertOpts{
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
				rivertype.JobStateRetryable, rivertype.JobStateScheduled,
			}},
		})
		if err != nil {
			return err
		}
		jobID = res.Job.ID
		return nil
	}))
	counts, err := s.Jobs().JobCountByState(ctx, "test_ping")
	require.NoError(t, err)
	require.Equal(t, 1, counts[rivertype.JobStateAvailable])
	require.Equal(t, 0, counts[rivertype.JobStateCompleted], "every state is present")

	workers := river.NewWorkers()
	river.AddWorker(workers, &testPingWorker{s: s})
	require.NoError(t, s.StartJobs(ctx, store.JobsConfig{Workers: workers}))
	require.Error(t, s.StartJobs(ctx, store.JobsConfig{Workers: workers}), "only once")
	require.Same(t, s.working, s.RiverClient())

	select {
	case ev := <-events:
		require.Equal(t, jobID, ev.Job.ID)
	case <-time.After(15 * time.Second):
		t.Fatal("job not completed")
	}
	row, err := s.Jobs().JobGet(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, row.State)
	require.Equal(t, 1, row.Attempt, "completed by JobComplete in the worker's transaction")

	counts, err = s.Jobs().JobCountByState(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, counts[rivertype.JobStateCompleted])
	counts, err = s.Jobs().JobCountByState(ctx, "other_kind")
	require.NoError(t, err)
	require.Equal(t, 0, counts[rivertype.JobStateCompleted])

	_, err = s.Jobs().JobGet(ctx, jobID+1000)
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, s.Jobs().Stop(ctx))
}

func TestJobInsertRollsBackWithTx(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	errRollback := context.Canceled
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.JobInsert(ctx, testPingArgs{UserID: "bob"}, nil); err != nil {
			return err
		}
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)
	counts, err := s.Jobs().JobCountByState(ctx)
	require.NoError(t, err)
	for state, n := range counts {
		require.Zero(t, n, state)
	}
}

func TestJobCompleteOutsideWorker(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	res, err := s.Jobs().Insert(ctx, testPingArgs{UserID: "x"}, nil)
	require.NoError(t, err)
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.JobComplete(ctx, res.Job)
	})
	require.Error(t, err, "not running / not inside a worker")
}

func TestStartJobsRequiresWorkers(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	require.ErrorContains(t, s.StartJobs(context.Background(), store.JobsConfig{}), "Workers")
}

func TestSubscribeCancelBeforeStart(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	events, cancel := s.Jobs().Subscribe(river.EventKindJobCompleted)
	cancel()
	cancel()
	_, open := <-events
	require.False(t, open)
}

func TestStopWaitsForRunningJob(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	started := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[testPingArgs]) error {
		close(started)
		<-release
		finished.Store(true)
		return nil
	}))
	require.NoError(t, s.StartJobs(ctx, store.JobsConfig{Workers: workers}))
	_, err := s.Jobs().Insert(ctx, testPingArgs{UserID: "x"}, nil)
	require.NoError(t, err)
	select {
	case <-started:
	case <-time.After(15 * time.Second):
		t.Fatal("job did not start")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.Jobs().Stop(ctx) }()
	close(release)
	require.NoError(t, <-stopped)
	require.True(t, finished.Load(), "Stop returned after the running job finished")
}

// TestRescueOwnJobs: a restart with the client id of a process killed
// mid-job gets the job back at once.
func TestRescueOwnJobs(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	migrated := false
	storetest.RescueOwnJobs(t, func(t *testing.T) store.Store {
		s := openTestStore(t, schema, !migrated)
		migrated = true
		return s
	})
}
