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
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
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
