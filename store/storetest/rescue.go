package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
)

type rescueArgs struct{}

func (rescueArgs) Kind() string { return "storetest_rescue" }

// heldWorker holds every job until release is closed (its process "dies"
// with the job running); doneWorker records what it works.
type heldWorker struct {
	river.WorkerDefaults[rescueArgs]
	started chan int64
	release chan struct{}
}

func (w *heldWorker) Work(ctx context.Context, job *river.Job[rescueArgs]) error {
	w.started <- job.ID
	<-w.release
	return nil
}

type doneWorker struct {
	river.WorkerDefaults[rescueArgs]
	worked chan *rivertype.JobRow
}

func (w *doneWorker) Work(ctx context.Context, job *river.Job[rescueArgs]) error {
	w.worked <- job.JobRow
	return nil
}

// RescueOwnJobs checks JobsConfig.ClientID: a process that starts with the
// client id of one that died while running a job gets that job back at
// once, not after RescueStuckJobsAfter. open returns a new Store on one
// and the same database each time it is called: the first plays the
// process that dies (its River client keeps the job running, as a SIGKILL
// leaves it), the second its restart. A third store with another id gets
// nothing back: the rescue is only of one's own attempts.
func RescueOwnJobs(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	dying := open(t)
	held := &heldWorker{started: make(chan int64, 1), release: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, held)
	require.NoError(t, dying.StartJobs(ctx, store.JobsConfig{
		Workers: workers, ClientID: "ssogate-test@host:1", FetchPollInterval: 20 * time.Millisecond,
		// One slot, held by the job: like a dead process, this client
		// fetches nothing more.
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		// Far away: only the restart can bring the job back in this test.
		JobTimeout: time.Hour, RescueStuckJobsAfter: 2 * time.Hour,
	}))
	t.Cleanup(func() {
		close(held.release)
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = dying.Jobs().Stop(stopCtx)
	})
	res, err := dying.Jobs().Insert(ctx, rescueArgs{}, nil)
	require.NoError(t, err)
	select {
	case id := <-held.started:
		require.Equal(t, res.Job.ID, id)
	case <-time.After(30 * time.Second):
		t.Fatal("the job never started")
	}

	// Another process (another id) leaves it alone.
	other := open(t)
	otherWorked := &doneWorker{worked: make(chan *rivertype.JobRow, 1)}
	otherWorkers := river.NewWorkers()
	river.AddWorker(otherWorkers, otherWorked)
	require.NoError(t, other.StartJobs(ctx, store.JobsConfig{Workers: otherWorkers, ClientID: "ssogate-test@host:2", FetchPollInterval: 20 * time.Millisecond}))
	t.Cleanup(func() { _ = other.Jobs().Stop(ctx) })
	row, err := other.Jobs().JobGet(ctx, res.Job.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateRunning, row.State, "a job another live client runs is not touched")
	require.NoError(t, other.Jobs().Stop(ctx))

	// The restart, with the dead process's id.
	restarted := open(t)
	worked := &doneWorker{worked: make(chan *rivertype.JobRow, 1)}
	restartedWorkers := river.NewWorkers()
	river.AddWorker(restartedWorkers, worked)
	require.NoError(t, restarted.StartJobs(ctx, store.JobsConfig{Workers: restartedWorkers, ClientID: "ssogate-test@host:1", FetchPollInterval: 20 * time.Millisecond}))
	t.Cleanup(func() { _ = restarted.Jobs().Stop(ctx) })
	select {
	case got := <-worked.worked:
		require.Equal(t, res.Job.ID, got.ID)
		require.Equal(t, 2, got.Attempt, "the dead attempt stays counted")
	case <-time.After(30 * time.Second):
		t.Fatal("the restarted process did not get its job back")
	}
	asynctest.Eventually(t, 10*time.Second, "the job completed", func() bool {
		row, err := restarted.Jobs().JobGet(ctx, res.Job.ID)
		return err == nil && row.State == rivertype.JobStateCompleted
	})
}
