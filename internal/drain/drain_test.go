package drain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// item is a test item: a key and its version.
type item struct {
	key string
	v   int
}

// rig records what a Drainer delivered and finished.
type rig struct {
	mu        sync.Mutex
	delivered []item
	finished  []item
	batches   int
	// gate, when set, holds every delivery of its key until closed.
	gates map[string]chan struct{}
	// started receives every delivery as it begins (buffered; tests that
	// offer more than its size do not read it).
	started chan item
}

func newRig() *rig {
	return &rig{gates: map[string]chan struct{}{}, started: make(chan item, 1000)}
}

func (r *rig) config() Config[item, string] {
	return Config[item, string]{
		Key:        func(it item) string { return it.key },
		Supersedes: func(a, b item) bool { return a.v >= b.v },
		Deliver: func(ctx context.Context, it item) string {
			select {
			case r.started <- it:
			default:
			}
			r.mu.Lock()
			gate := r.gates[it.key]
			r.mu.Unlock()
			if gate != nil {
				select {
				case <-gate:
				case <-ctx.Done():
					return "canceled"
				}
			}
			r.mu.Lock()
			r.delivered = append(r.delivered, it)
			r.mu.Unlock()
			return "ok"
		},
		Finish: func(ctx context.Context, done []Done[item, string]) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.batches++
			for _, d := range done {
				if d.Result == "ok" {
					r.finished = append(r.finished, d.Item)
				}
			}
			return nil
		},
	}
}

func (r *rig) gate(key string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	r.gates[key] = ch
	return ch
}

func (r *rig) snapshot() (delivered, finished []item, batches int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.delivered), slices.Clone(r.finished), r.batches
}

// run starts d and returns its stop, which waits for Run to return.
func run(t *testing.T, d *Drainer[item, string]) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-errc)
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond, what)
}

func TestDeliversAndFinishesInBatches(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.Workers = 4
	cfg.Linger = 50 * time.Millisecond
	d := New(cfg)
	stop := run(t, d)
	const n = 200
	for i := range n {
		require.True(t, d.Offer(item{fmt.Sprintf("u%d", i), 1}))
	}
	waitFor(t, "every item finished", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == n
	})
	stop()
	delivered, finished, batches := r.snapshot()
	require.Len(t, delivered, n)
	require.Len(t, finished, n)
	// 200 outcomes in batches that linger 50 ms: far fewer Finish calls
	// than outcomes.
	require.Less(t, batches, n/4, "Finish was called %d times for %d outcomes", batches, n)
}

func TestNewestWinsPerKey(t *testing.T) {
	r := newRig()
	d := New(r.config())
	gate := r.gate("alice")
	run(t, d)

	require.True(t, d.Offer(item{"alice", 1}))
	require.Equal(t, item{"alice", 1}, <-r.started)
	// While v1 is delivered: v2 then v3 wait, v3 replacing v2; v1 again is
	// carried by the delivery under way.
	require.True(t, d.Offer(item{"alice", 2}))
	require.True(t, d.Offer(item{"alice", 3}))
	require.True(t, d.Offer(item{"alice", 1}))
	require.Equal(t, 2, d.Len(), "one running, one queued")
	close(gate)
	waitFor(t, "v3 finished", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 2
	})
	<-d.Idle()
	delivered, _, _ := r.snapshot()
	require.Equal(t, []item{{"alice", 1}, {"alice", 3}}, delivered)
	require.Equal(t, 0, d.Len())
}

func TestRunningDeliverySupersedesOffer(t *testing.T) {
	r := newRig()
	d := New(r.config())
	gate := r.gate("bob")
	run(t, d)
	require.True(t, d.Offer(item{"bob", 5}))
	<-r.started
	require.True(t, d.Offer(item{"bob", 4}), "absorbed by the running delivery")
	require.Equal(t, 1, d.Len())
	close(gate)
	<-d.Idle()
	delivered, _, _ := r.snapshot()
	require.Equal(t, []item{{"bob", 5}}, delivered)
}

func TestQueuedItemIsReplacedOnlyByANewerOne(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.Workers = 1
	d := New(cfg)
	gate := r.gate("a")
	run(t, d)
	require.True(t, d.Offer(item{"a", 1}))
	<-r.started
	// One worker is held by "a": "b" waits in the queue.
	require.True(t, d.Offer(item{"b", 7}))
	require.True(t, d.Offer(item{"b", 6}))
	close(gate)
	<-d.Idle()
	delivered, _, _ := r.snapshot()
	require.Equal(t, []item{{"a", 1}, {"b", 7}}, delivered)
}

func TestOfferRefusesWhenFullOrStopped(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.MaxQueued = 2
	d := New(cfg)
	// Not running yet: offers queue.
	require.True(t, d.Offer(item{"a", 1}))
	require.True(t, d.Offer(item{"b", 1}))
	require.False(t, d.Offer(item{"c", 1}), "full")
	require.True(t, d.Offer(item{"a", 2}), "a key already queued is replaced, not added")
	stop := run(t, d)
	waitFor(t, "both finished", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 2
	})
	stop()
	require.False(t, d.Offer(item{"d", 1}), "stopped")
	delivered, _, _ := r.snapshot()
	require.ElementsMatch(t, []item{{"a", 2}, {"b", 1}}, delivered)
}

func TestSweeperClaimsUntilEmpty(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.SweepLimit = 10
	cfg.SweepInterval = time.Hour // only the first sweep and Kick
	var mu sync.Mutex
	outbox := map[string]int{}
	for i := range 35 {
		outbox[fmt.Sprintf("u%02d", i)] = 1
	}
	claims := 0
	cfg.Claim = func(ctx context.Context, limit int) ([]item, error) {
		mu.Lock()
		defer mu.Unlock()
		claims++
		var keys []string
		for k := range outbox {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []item
		for _, k := range keys[:min(limit, len(keys))] {
			out = append(out, item{k, outbox[k]})
			delete(outbox, k) // leased
		}
		return out, nil
	}
	d := New(cfg)
	run(t, d)
	waitFor(t, "the sweep delivered the whole outbox", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 35
	})
	mu.Lock()
	// 10 + 10 + 10 + 5: the short claim ends the run of claims.
	require.Equal(t, 4, claims)
	outbox["late"] = 1
	mu.Unlock()
	d.Kick()
	waitFor(t, "a kick sweeps again", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 36
	})
}

func TestClaimErrorIsRetriedNextInterval(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.SweepInterval = 5 * time.Millisecond
	var mu sync.Mutex
	calls := 0
	cfg.Claim = func(ctx context.Context, limit int) ([]item, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return nil, errors.New("database down")
		}
		if calls == 2 {
			return []item{{"x", 1}}, nil
		}
		return nil, nil
	}
	d := New(cfg)
	run(t, d)
	waitFor(t, "the second claim delivered", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 1
	})
}

func TestStopFinishesDeliveriesUnderWay(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.Workers = 1
	d := New(cfg)
	gate := r.gate("a")
	stop := run(t, d)
	require.True(t, d.Offer(item{"a", 1}))
	require.True(t, d.Offer(item{"b", 1}))
	<-r.started
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		stop()
	}()
	// Once Run has seen the stop (offers are refused), it still waits for
	// the delivery under way…
	waitFor(t, "offers refused", func() bool { return !d.Offer(item{"probe", 1}) })
	select {
	case <-stopped:
		t.Fatal("Run returned while a delivery was under way")
	default:
	}
	close(gate)
	<-stopped
	// …records it, and leaves "b" to the outbox.
	delivered, finished, _ := r.snapshot()
	require.Equal(t, []item{{"a", 1}}, delivered)
	require.Equal(t, []item{{"a", 1}}, finished)
}

func TestStopGraceCancelsSlowDeliveries(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.StopGrace = 10 * time.Millisecond
	d := New(cfg)
	r.gate("slow") // never opened
	stop := run(t, d)
	require.True(t, d.Offer(item{"slow", 1}))
	<-r.started
	stop() // returns once the grace canceled the delivery
	_, finished, batches := r.snapshot()
	require.Empty(t, finished)
	require.Equal(t, 1, batches, "the canceled outcome is still handed to Finish")
}

func TestFinishErrorKeepsDrainerGoing(t *testing.T) {
	r := newRig()
	cfg := r.config()
	var failed atomic.Bool
	finish := cfg.Finish
	cfg.Finish = func(ctx context.Context, done []Done[item, string]) error {
		if failed.CompareAndSwap(false, true) {
			return errors.New("commit failed")
		}
		return finish(ctx, done)
	}
	d := New(cfg)
	run(t, d)
	require.True(t, d.Offer(item{"a", 1}))
	<-d.Idle()
	waitFor(t, "first delivery handed to Finish", failed.Load)
	require.True(t, d.Offer(item{"b", 1}))
	waitFor(t, "the next batch is recorded", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 1
	})
}

// TestSweeperComesBackSoonAfterFindingRows: while rows keep arriving (a
// resync writing its batches), claims follow each other after a fiftieth
// of the interval, not the whole interval.
func TestSweeperComesBackSoonAfterFindingRows(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.SweepInterval = time.Minute // a follow-up after 1.2 s
	var mu sync.Mutex
	outbox := []item{{"first", 1}}
	cfg.Claim = func(ctx context.Context, limit int) ([]item, error) {
		mu.Lock()
		defer mu.Unlock()
		got := outbox
		outbox = nil
		return got, nil
	}
	d := New(cfg)
	run(t, d)
	waitFor(t, "the first row delivered", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 1
	})
	mu.Lock()
	outbox = append(outbox, item{"second", 1})
	mu.Unlock()
	// Well before the minute: the claim after a non-empty one comes soon.
	require.Eventually(t, func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 2
	}, 20*time.Second, 5*time.Millisecond, "the second row is claimed by the quick follow-up")
}

// TestSweeperClaimsOnlyAhead: with a backlog in the outbox the sweeper
// keeps at most ClaimAhead keys queued (the rows' leases run while they
// wait), and the queue's draining, not the interval, brings the next claim.
func TestSweeperClaimsOnlyAhead(t *testing.T) {
	r := newRig()
	cfg := r.config()
	cfg.Workers = 2
	cfg.ClaimAhead = 10
	cfg.SweepLimit = 500
	cfg.SweepInterval = time.Hour // only the first sweep and the queue's kicks
	var mu sync.Mutex
	var limits []int
	next := 0
	cfg.Claim = func(ctx context.Context, limit int) ([]item, error) {
		mu.Lock()
		defer mu.Unlock()
		limits = append(limits, limit)
		var out []item
		for ; next < 100 && len(out) < limit; next++ {
			out = append(out, item{fmt.Sprintf("u%03d", next), 1})
		}
		return out, nil
	}
	d := New(cfg)
	run(t, d)
	waitFor(t, "the backlog delivered", func() bool {
		_, finished, _ := r.snapshot()
		return len(finished) == 100
	})
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(limits), 10)
	for _, l := range limits {
		require.LessOrEqual(t, l, 10)
		require.Positive(t, l)
	}
}
