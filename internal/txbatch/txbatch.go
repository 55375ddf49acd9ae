// Package txbatch is group commit: concurrent callers' transaction bodies
// run together in one transaction, so that N changes arriving at once cost
// one BEGIN, one COMMIT and one WAL flush instead of N.
//
// A caller hands Do a body (the function it would give InTx) and waits.
// While fewer than Workers batches run, a new batch starts at once with
// every body waiting (at most MaxBatch), so nothing waits on a timer: under
// light load a batch holds one body, under heavy load the bodies that
// arrived during the previous commit. A batch runs its bodies in key order
// (stable: one key's bodies in arrival order), so that batches running at
// the same time take their row locks in one order and cannot deadlock.
//
// When a body fails, or the commit does, the batch is rolled back and each
// of its bodies runs again in a transaction of its own, so every caller gets
// the answer its body alone would have got. Bodies must therefore be safe
// to run again after a rollback, as bodies retried on serialization errors
// already are: they may set the caller's variables, and must do nothing
// outside the transaction.
package txbatch

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Config configures a Batcher.
type Config[Tx any] struct {
	// InTx runs fn in one transaction and commits when fn returns nil
	// (store.Store.InTx). Required.
	InTx func(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// MaxBatch bounds the bodies of one transaction; default 64.
	MaxBatch int
	// Workers is how many batches may run at once; default 2.
	Workers int
	// Timeout bounds one batch's transaction (its callers' contexts do not:
	// one caller giving up must not roll back the others); default 30 s.
	Timeout time.Duration
	// Observe, when set, is told each batch's size after it committed.
	Observe func(size int)
}

// Body is one caller's transaction body.
type Body[Tx any] = func(ctx context.Context, tx Tx) error

// Batcher runs bodies in shared transactions: a Group whose batch runs
// each body in turn. The zero value is not usable; make one with New.
type Batcher[Tx any] struct{ g *Group[Tx, Body[Tx]] }

// New returns a Batcher.
func New[Tx any](cfg Config[Tx]) *Batcher[Tx] {
	return &Batcher[Tx]{g: NewGroup(GroupConfig[Tx, Body[Tx]]{
		InTx: cfg.InTx, Run: runBodies[Tx],
		MaxBatch: cfg.MaxBatch, Workers: cfg.Workers, Timeout: cfg.Timeout, Observe: cfg.Observe,
	})}
}

// Do runs fn in a transaction shared with other callers and returns when
// that transaction committed (nil) or fn's own error or the commit's. key
// orders the bodies of a batch (the row fn locks first, e.g. the user id).
// A caller whose ctx ends before its batch starts is left out and gets
// ctx's error; once started, the batch runs to its end.
func (b *Batcher[Tx]) Do(ctx context.Context, key string, fn func(ctx context.Context, tx Tx) error) error {
	return b.g.Do(ctx, key, fn)
}

func runBodies[Tx any](ctx context.Context, tx Tx, bodies []Body[Tx]) error {
	for _, fn := range bodies {
		if err := fn(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// GroupConfig configures a Group.
type GroupConfig[Tx, R any] struct {
	// InTx runs fn in one transaction and commits when fn returns nil
	// (store.Store.InTx). Required.
	InTx func(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Run does the work of reqs (in key order) in tx; requests keep their
	// own results. An error rolls the batch back, and each request then
	// runs alone: Do returns what Run answers for that request alone.
	// Required.
	Run func(ctx context.Context, tx Tx, reqs []R) error
	// MaxBatch bounds the requests of one transaction; default 64.
	MaxBatch int
	// Workers is how many batches may run at once; default 2.
	Workers int
	// Timeout bounds one batch's transaction (its callers' contexts do not:
	// one caller giving up must not roll back the others); default 30 s.
	Timeout time.Duration
	// Observe, when set, is told each batch's size after it committed.
	Observe func(size int)
}

// Group runs requests in shared transactions, a whole batch at once (Run
// sees every request of the batch, so that it can read and write them set
// at once). The zero value is not usable; make one with NewGroup. It holds
// no goroutine when idle.
type Group[Tx, R any] struct {
	cfg     GroupConfig[Tx, R]
	mu      sync.Mutex
	pending []*request[R]
	active  int
}

type request[R any] struct {
	ctx  context.Context
	key  string
	req  R
	done chan error
}

// NewGroup returns a Group.
func NewGroup[Tx, R any](cfg GroupConfig[Tx, R]) *Group[Tx, R] {
	if cfg.InTx == nil || cfg.Run == nil {
		panic("txbatch: GroupConfig.InTx and Run are required")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 64
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Group[Tx, R]{cfg: cfg}
}

// Do runs req in a transaction shared with other callers' requests and
// returns when that transaction committed (nil) or Run's error for req
// alone, or the commit's. key orders the requests of a batch (the row
// req locks first, e.g. the user id). A caller whose ctx ends before its
// batch starts is left out and gets ctx's error; once started, the batch
// runs to its end.
func (b *Group[Tx, R]) Do(ctx context.Context, key string, req R) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request[R]{ctx: ctx, key: key, req: req, done: make(chan error, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, r)
	start := b.active < b.cfg.Workers
	if start {
		b.active++
	}
	b.mu.Unlock()
	if start {
		go b.work()
	}
	return <-r.done
}

// work runs batches until none is waiting.
func (b *Group[Tx, R]) work() {
	for {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.active--
			b.mu.Unlock()
			return
		}
		n := min(len(b.pending), b.cfg.MaxBatch)
		batch := slices.Clone(b.pending[:n])
		clear(b.pending[:n])
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil
		}
		b.mu.Unlock()
		b.run(batch)
	}
}

// errRun marks Run's failure inside a transaction.
type errRun struct{ err error }

func (e *errRun) Error() string { return e.err.Error() }

// run commits batch, or falls back to one transaction per request.
func (b *Group[Tx, R]) run(batch []*request[R]) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	slices.SortStableFunc(live, func(x, y *request[R]) int { return cmp.Compare(x.key, y.key) })
	if len(live) == 1 {
		r := live[0]
		err := b.alone(r)
		if err == nil && b.cfg.Observe != nil {
			b.cfg.Observe(1)
		}
		r.done <- err
		return
	}
	reqs := make([]R, len(live))
	for i, r := range live {
		reqs[i] = r.req
	}
	err := b.inTx(context.Background(), func(ctx context.Context, tx Tx) error {
		if err := b.cfg.Run(ctx, tx, reqs); err != nil {
			return &errRun{err}
		}
		return nil
	})
	if err == nil {
		if b.cfg.Observe != nil {
			b.cfg.Observe(len(live))
		}
		for _, r := range live {
			r.done <- nil
		}
		return
	}
	// Run failed (or the commit did): everyone alone, in order.
	for _, r := range live {
		r.done <- b.alone(r)
	}
}

// alone runs one request in a transaction of its own.
func (b *Group[Tx, R]) alone(r *request[R]) error {
	return b.inTx(r.ctx, func(ctx context.Context, tx Tx) error {
		if err := b.cfg.Run(ctx, tx, []R{r.req}); err != nil {
			return &errRun{err}
		}
		return nil
	})
}

// inTx runs fn with the batch timeout, detached from the caller's
// cancellation (the caller waits for the answer anyway).
func (b *Group[Tx, R]) inTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.Timeout)
	defer cancel()
	err := b.cfg.InTx(ctx, fn)
	if eb, ok := errors.AsType[*errRun](err); ok {
		return eb.err
	}
	return err
}
