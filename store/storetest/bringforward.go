package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// forwardArgs is a job that fails its first Fails attempts. A failure sets
// store.JobMetaNotBefore NotBefore after now when NotBefore is set (a
// Retry-After); every retry is an hour away, so only JobsBringForward (or
// JobRetry) runs it again within the test.
type forwardArgs struct {
	Name      string        `json:"name"`
	Fails     int           `json:"fails"`
	NotBefore time.Duration `json:"not_before"`
}

func (forwardArgs) Kind() string { return "storetest_forward" }

// forwardOtherArgs is another kind that always fails.
type forwardOtherArgs struct{}

func (forwardOtherArgs) Kind() string { return "storetest_forward_other" }

type forwardWorker struct {
	river.WorkerDefaults[forwardArgs]
}

func (forwardWorker) NextRetry(*river.Job[forwardArgs]) time.Time { return time.Now().Add(time.Hour) }

func (forwardWorker) Work(ctx context.Context, job *river.Job[forwardArgs]) error {
	if job.Attempt > job.Args.Fails {
		return nil
	}
	if job.Args.NotBefore > 0 {
		if err := river.MetadataSet(ctx, store.JobMetaNotBefore, time.Now().Add(job.Args.NotBefore).UnixMilli()); err != nil {
			return err
		}
	}
	return errors.New("storetest: planned failure")
}

type forwardOtherWorker struct {
	river.WorkerDefaults[forwardOtherArgs]
}

func (forwardOtherWorker) NextRetry(*river.Job[forwardOtherArgs]) time.Time {
	return time.Now().Add(time.Hour)
}

func (forwardOtherWorker) Work(context.Context, *river.Job[forwardOtherArgs]) error {
	return errors.New("storetest: always fails")
}

// JobsBringForward checks store.JobBringForward on real River jobs that
// failed: retryable jobs of the given kinds run again at once with their
// attempt count kept; a Retry-After (store.JobMetaNotBefore) still running,
// another kind, a job whose last attempt was brought forward and a unique
// job whose unique states leave out retryable are left waiting; Limit
// bounds a call. Backends call it from their tests (newStore as for Run).
func JobsBringForward(t *testing.T, newStore NewStoreFunc) {
	t.Helper()
	runCases(t, newStore, []testCase{
		{"Selection", testBringForwardSelection},
		{"Limit", testBringForwardLimit},
		{"Validates", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			_, err := s.JobsBringForward(ctx, store.JobsBringForwardParams{Now: time.Now()})
			require.Error(t, err, "Kinds is required")
			_, err = s.JobsBringForward(ctx, store.JobsBringForwardParams{Kinds: []string{forwardArgs{}.Kind()}})
			require.Error(t, err, "Now is required")
			n, err := s.JobsBringForward(ctx, store.JobsBringForwardParams{Kinds: []string{forwardArgs{}.Kind()}, Now: time.Now()})
			require.NoError(t, err)
			require.Zero(t, n, "no job, nothing moved")
		}},
	})
}

// startForwardJobs works both kinds, polling often.
func startForwardJobs(t *testing.T, s store.Store) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, forwardWorker{})
	river.AddWorker(workers, forwardOtherWorker{})
	require.NoError(t, s.StartJobs(ctxFor(t), store.JobsConfig{Workers: workers, FetchPollInterval: 20 * time.Millisecond}))
	stopJobsAtCleanup(t, s)
}

// waitJob polls the job until it is in state after attempt attempts.
func waitJob(t *testing.T, s store.Store, id int64, state rivertype.JobState, attempt int) *rivertype.JobRow {
	t.Helper()
	var row *rivertype.JobRow
	eventually(t, func() bool {
		var err error
		row, err = s.Jobs().JobGet(ctxFor(t), id)
		require.NoError(t, err)
		return row.State == state && row.Attempt == attempt
	}, "job %d %s after attempt %d", id, state, attempt)
	return row
}

// broughtForward is the job's store.JobMetaBroughtForward, -1 when unset.
func broughtForward(t *testing.T, row *rivertype.JobRow) int {
	t.Helper()
	var meta map[string]any
	require.NoError(t, json.Unmarshal(row.Metadata, &meta))
	v, ok := meta[store.JobMetaBroughtForward]
	if !ok {
		return -1
	}
	f, ok := v.(float64)
	require.True(t, ok, "%s is a number: %v", store.JobMetaBroughtForward, v)
	return int(f)
}

func testBringForwardSelection(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	startForwardJobs(t, s)
	insert := func(args river.JobArgs, opts *river.InsertOpts) int64 {
		t.Helper()
		res, err := s.Jobs().Insert(ctx, args, opts)
		require.NoError(t, err)
		return res.Job.ID
	}
	allUnfinished := []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}
	plain := insert(forwardArgs{Name: "plain", Fails: 1}, nil)
	unique := insert(forwardArgs{Name: "unique", Fails: 1}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: allUnfinished}})
	notBefore := insert(forwardArgs{Name: "retry-after", Fails: 1, NotBefore: time.Hour}, nil)
	twice := insert(forwardArgs{Name: "twice", Fails: 3}, nil)
	uniqueNoRetryable := insert(forwardArgs{Name: "unique-no-retryable", Fails: 1}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled}}})
	other := insert(forwardOtherArgs{}, nil)
	for _, id := range []int64{plain, unique, notBefore, twice, uniqueNoRetryable, other} {
		waitJob(t, s, id, rivertype.JobStateRetryable, 1)
	}

	bring := func(now time.Time) int {
		t.Helper()
		n, err := s.JobsBringForward(ctx, store.JobsBringForwardParams{Kinds: []string{forwardArgs{}.Kind()}, Now: now})
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 3, bring(time.Now()), "plain, unique and twice")
	for _, id := range []int64{plain, unique} {
		row := waitJob(t, s, id, rivertype.JobStateCompleted, 2)
		require.Equal(t, 1, broughtForward(t, row), "the attempt count when brought forward")
	}
	// twice's brought-forward attempt failed: it waits for its schedule
	// once before it can be brought forward again.
	row := waitJob(t, s, twice, rivertype.JobStateRetryable, 2)
	require.Equal(t, 1, broughtForward(t, row))
	require.Zero(t, bring(time.Now()), "a Retry-After running, a brought-forward attempt just failed, a unique job without retryable")

	// Once the Retry-After has passed (Now is the caller's clock), the
	// job it held moves.
	require.Equal(t, 1, bring(time.Now().Add(2*time.Hour)))
	waitJob(t, s, notBefore, rivertype.JobStateCompleted, 2)

	// A scheduled attempt (here River's own retry) fails: twice may be
	// brought forward again.
	_, err := s.Jobs().JobRetry(ctx, twice)
	require.NoError(t, err)
	waitJob(t, s, twice, rivertype.JobStateRetryable, 3)
	require.Equal(t, 1, bring(time.Now()))
	row = waitJob(t, s, twice, rivertype.JobStateCompleted, 4)
	require.Equal(t, 3, broughtForward(t, row))

	for _, id := range []int64{uniqueNoRetryable, other} {
		row, err := s.Jobs().JobGet(ctx, id)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateRetryable, row.State, "job %d (%s) left waiting", id, row.Kind)
		require.Equal(t, 1, row.Attempt)
		require.Equal(t, -1, broughtForward(t, row))
	}
}

func testBringForwardLimit(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	startForwardJobs(t, s)
	var ids []int64
	for _, name := range []string{"a", "b", "c"} {
		res, err := s.Jobs().Insert(ctx, forwardArgs{Name: name, Fails: 1}, nil)
		require.NoError(t, err)
		ids = append(ids, res.Job.ID)
	}
	for _, id := range ids {
		waitJob(t, s, id, rivertype.JobStateRetryable, 1)
	}
	params := store.JobsBringForwardParams{Kinds: []string{forwardArgs{}.Kind(), "storetest_none"}, Now: time.Now(), Limit: 2}
	for _, want := range []int{2, 1, 0} {
		n, err := s.JobsBringForward(ctx, params)
		require.NoError(t, err)
		require.Equal(t, want, n)
	}
	for _, id := range ids {
		waitJob(t, s, id, rivertype.JobStateCompleted, 2)
	}
}
