package txbatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

const wait = 30 * time.Second

func newBatcher(s store.Store, workers int, sizes *[]int, mu *sync.Mutex) *Batcher[store.Tx] {
	return New(Config[store.Tx]{
		InTx:    s.InTx,
		Workers: workers,
		Observe: func(n int) {
			mu.Lock()
			*sizes = append(*sizes, n)
			mu.Unlock()
		},
	})
}

// upsert is a body that writes one profile version.
func upsert(user string, n int) func(ctx context.Context, tx store.Tx) error {
	return func(ctx context.Context, tx store.Tx) error {
		_, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: user,
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)), Now: time.Now()})
		return err
	}
}

func pendingLen(b *Batcher[store.Tx]) int {
	b.g.mu.Lock()
	defer b.g.mu.Unlock()
	return len(b.g.pending)
}

// blockFirst starts a Do whose body waits for release, so that what is
// handed to Do meanwhile queues for the next batch.
func blockFirst(t *testing.T, b *Batcher[store.Tx]) (release func(), done <-chan error) {
	started, unblock := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- b.Do(context.Background(), "0-first", func(ctx context.Context, tx store.Tx) error {
			close(started)
			<-unblock
			return upsert("first", 1)(ctx, tx)
		})
	}()
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the first body never started")
	}
	return func() { close(unblock) }, errc
}

func TestBatchesWhatWaits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		var mu sync.Mutex
		var sizes []int
		b := newBatcher(s, 1, &sizes, &mu)
		release, firstDone := blockFirst(t, b)
		const n = 10
		errs := make(chan error, n)
		for i := range n {
			go func() {
				errs <- b.Do(context.Background(), fmt.Sprintf("u%02d", i), upsert(fmt.Sprintf("u%02d", i), i))
			}()
		}
		asynctest.Eventually(t, wait, "all queued", func() bool { return pendingLen(b) == n })
		release()
		require.NoError(t, <-firstDone)
		for range n {
			require.NoError(t, <-errs)
		}
		mu.Lock()
		require.Equal(t, []int{1, n}, sizes, "one transaction for the ten that waited")
		mu.Unlock()
		for i := range n {
			p, err := s.ProfileGet(context.Background(), fmt.Sprintf("u%02d", i))
			require.NoError(t, err)
			require.JSONEq(t, fmt.Sprintf(`{"n":%d}`, i), string(p.Data))
		}
	})
}

func TestFailingBodyFallsBackAlone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		var mu sync.Mutex
		var sizes []int
		b := newBatcher(s, 1, &sizes, &mu)
		release, firstDone := blockFirst(t, b)
		errBad := errors.New("bad body")
		var badRuns atomic.Int32
		errs := make([]chan error, 5)
		for i := range errs {
			errs[i] = make(chan error, 1)
			user := fmt.Sprintf("u%d", i)
			fn := upsert(user, i)
			if i == 2 {
				// Writes, then fails: its write must not survive.
				fn = func(ctx context.Context, tx store.Tx) error {
					badRuns.Add(1)
					if err := upsert(user, i)(ctx, tx); err != nil {
						return err
					}
					return errBad
				}
			}
			go func() { errs[i] <- b.Do(context.Background(), user, fn) }()
		}
		asynctest.Eventually(t, wait, "all queued", func() bool { return pendingLen(b) == len(errs) })
		release()
		require.NoError(t, <-firstDone)
		for i, c := range errs {
			err := <-c
			if i == 2 {
				require.ErrorIs(t, err, errBad)
				continue
			}
			require.NoError(t, err)
		}
		require.EqualValues(t, 2, badRuns.Load(), "in the batch, then alone")
		_, err := s.ProfileGet(context.Background(), "u2")
		require.ErrorIs(t, err, store.ErrNotFound, "the failed body's write was rolled back")
		for _, i := range []int{0, 1, 3, 4} {
			_, err := s.ProfileGet(context.Background(), fmt.Sprintf("u%d", i))
			require.NoError(t, err)
		}
	})
}

func TestKeyOrderStable(t *testing.T) {
	s := testdb.SQLite(t)
	var mu sync.Mutex
	var sizes, order []int
	b := newBatcher(s, 1, &sizes, &mu)
	release, firstDone := blockFirst(t, b)
	keys := []string{"c", "a", "b", "a", "c", "a"}
	errs := make(chan error, len(keys))
	for i, k := range keys {
		go func() {
			errs <- b.Do(context.Background(), k, func(context.Context, store.Tx) error {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return nil
			})
		}()
		// Arrival order is the order of the Do calls: wait for each.
		asynctest.Eventually(t, wait, "queued", func() bool { return pendingLen(b) == i+1 })
	}
	release()
	require.NoError(t, <-firstDone)
	for range keys {
		require.NoError(t, <-errs)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []int{1, 3, 5, 2, 0, 4}, order, "by key, each key's in arrival order")
}

func TestCancelledBeforeStartIsLeftOut(t *testing.T) {
	s := testdb.SQLite(t)
	var mu sync.Mutex
	var sizes []int
	b := newBatcher(s, 1, &sizes, &mu)
	release, firstDone := blockFirst(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	errc := make(chan error, 1)
	go func() {
		errc <- b.Do(ctx, "x", func(context.Context, store.Tx) error { ran.Store(true); return nil })
	}()
	asynctest.Eventually(t, wait, "queued", func() bool { return pendingLen(b) == 1 })
	cancel()
	release()
	require.NoError(t, <-firstDone)
	require.ErrorIs(t, <-errc, context.Canceled)
	require.False(t, ran.Load())
	require.ErrorIs(t, b.Do(ctx, "x", func(context.Context, store.Tx) error { return nil }), context.Canceled)
}

// TestConcurrentBatchesNoDeadlock: two workers, many callers over few
// users: batches overlap on rows, and none deadlocks or fails.
func TestConcurrentBatchesNoDeadlock(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		var mu sync.Mutex
		var sizes []int
		b := newBatcher(s, 2, &sizes, &mu)
		const callers, users = 400, 7
		errs := make(chan error, callers)
		for i := range callers {
			user := fmt.Sprintf("u%d", (i*5)%users)
			go func() { errs <- b.Do(context.Background(), user, upsert(user, i)) }()
		}
		for range callers {
			require.NoError(t, <-errs)
		}
		mu.Lock()
		total := 0
		for _, n := range sizes {
			total += n
		}
		mu.Unlock()
		require.Equal(t, callers, total, "every body committed once")
	})
}

// groupReq is a Group request that keeps its own result.
type groupReq struct {
	user    string
	block   chan struct{} // when set, Run closes started and waits for block to close
	started chan struct{}
	fail    bool // Run fails whenever this request is in its batch
	result  string
}

// TestGroupRunsTheWholeBatch: Run gets every waiting request at once, in
// key order, and each keeps its own result; when Run fails, the batch is
// rolled back and each request runs alone, so only the failing one fails.
func TestGroupRunsTheWholeBatch(t *testing.T) {
	s := testdb.SQLite(t)
	errBad := errors.New("bad request")
	var mu sync.Mutex
	var runs [][]string
	g := NewGroup(GroupConfig[store.Tx, *groupReq]{
		InTx:    s.InTx,
		Workers: 1,
		Run: func(ctx context.Context, tx store.Tx, reqs []*groupReq) error {
			var users []string
			for _, r := range reqs {
				if r.block != nil {
					close(r.started)
					<-r.block
				}
				users = append(users, r.user)
			}
			mu.Lock()
			runs = append(runs, users)
			mu.Unlock()
			for _, r := range reqs {
				if r.fail {
					return errBad
				}
				if err := upsert(r.user, len(reqs))(ctx, tx); err != nil {
					return err
				}
				r.result = fmt.Sprintf("%s in a batch of %d", r.user, len(reqs))
			}
			return nil
		},
	})
	pending := func() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.pending) }

	first := &groupReq{user: "first", block: make(chan struct{}), started: make(chan struct{})}
	firstDone := make(chan error, 1)
	go func() { firstDone <- g.Do(context.Background(), first.user, first) }()
	<-first.started
	reqs := []*groupReq{{user: "c"}, {user: "a"}, {user: "b"}}
	errs := make([]chan error, len(reqs))
	for i, r := range reqs {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- g.Do(context.Background(), r.user, r) }()
	}
	asynctest.Eventually(t, wait, "all queued", func() bool { return pending() == len(reqs) })
	close(first.block)
	require.NoError(t, <-firstDone)
	for _, c := range errs {
		require.NoError(t, <-c)
	}
	for _, r := range reqs {
		require.Equal(t, r.user+" in a batch of 3", r.result)
	}
	mu.Lock()
	require.Equal(t, [][]string{{"first"}, {"a", "b", "c"}}, runs, "one Run for what waited, in key order")
	runs = nil
	mu.Unlock()

	// A failing request: the batch rolls back, then each runs alone.
	blocker := &groupReq{user: "first", block: make(chan struct{}), started: make(chan struct{})}
	go func() { firstDone <- g.Do(context.Background(), blocker.user, blocker) }()
	<-blocker.started
	reqs = []*groupReq{{user: "x"}, {user: "y", fail: true}, {user: "z"}}
	for i, r := range reqs {
		go func() { errs[i] <- g.Do(context.Background(), r.user, r) }()
	}
	asynctest.Eventually(t, wait, "all queued", func() bool { return pending() == len(reqs) })
	close(blocker.block)
	require.NoError(t, <-firstDone)
	require.NoError(t, <-errs[0])
	require.ErrorIs(t, <-errs[1], errBad)
	require.NoError(t, <-errs[2])
	require.Equal(t, "x in a batch of 1", reqs[0].result)
	require.Equal(t, "z in a batch of 1", reqs[2].result)
	mu.Lock()
	require.Equal(t, [][]string{{"first"}, {"x", "y", "z"}, {"x"}, {"y"}, {"z"}}, runs)
	mu.Unlock()
	_, err := s.ProfileGet(context.Background(), "y")
	require.ErrorIs(t, err, store.ErrNotFound)
}
