// Package drain is the fast path of a transactional outbox: it delivers
// keyed work items (a user's ping, a user's pull) as soon as the
// transaction that recorded them has committed, many at once, and records
// the outcomes in batches.
//
// The outbox row in the database is the durable record; a Drainer only
// holds an in-memory hint of it. A process that accepted a change offers it
// here right after its commit, so the delivery costs no transaction to find
// it. Anything a Drainer loses (it was full, the process died) is still in
// the outbox, leased for a few seconds to the process that wrote it; the
// sweeper of any process claims rows whose lease ended (Config.Claim) and
// offers them again. Outcomes are handed to Config.Finish in batches, so a
// burst of N deliveries costs about one transaction instead of N.
//
// Per key, at most one delivery runs at a time in a Drainer, and the newest
// item wins: an item offered while its key waits replaces the waiting one
// when it supersedes it; an item offered while its key is being delivered
// is delivered after that delivery, unless the running one already
// supersedes it. Across processes, deliveries of a key may overlap; the
// callers' Finish makes that harmless (a version or sequence compare).
package drain

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// finishTimeout bounds one Finish.
const finishTimeout = 30 * time.Second

// Done is one delivered item and its outcome.
type Done[T, R any] struct {
	Item   T
	Result R
}

// Config configures a Drainer. Key, Supersedes, Deliver and Finish are
// required.
type Config[T, R any] struct {
	// Key identifies the thing an item is about (a user): one delivery per
	// key at a time.
	Key func(T) string
	// Supersedes reports whether a carries everything b does (a newer
	// version of the same key), so that b need not be delivered.
	Supersedes func(a, b T) bool
	// Deliver makes the delivery (an HTTP call). It bounds its own time;
	// its context ends only when the Drainer stops and the stop's grace is
	// over.
	Deliver func(ctx context.Context, item T) R
	// Finish records a batch of outcomes, usually in one transaction. An
	// error is logged; the items stay in the outbox and are delivered again
	// once their lease ends.
	Finish func(ctx context.Context, done []Done[T, R]) error
	// Claim takes up to limit outbox rows whose lease ended, extending their
	// lease to this process. Optional: nil turns the sweeper off.
	Claim func(ctx context.Context, limit int) ([]T, error)

	// Workers is how many deliveries run at once. Default 32.
	Workers int
	// MaxQueued bounds the keys waiting in memory; Offer refuses more (the
	// outbox still has them). Default 20,000.
	MaxQueued int
	// MaxBatch bounds one Finish. Default 64: a Finish usually holds its
	// items' rows locked until it commits, and the next write of one of
	// those keys waits for it, so small batches keep those waits short;
	// under load the next batch is already full when one commits.
	MaxBatch int
	// Linger is how long Finish waits for more outcomes to join a batch.
	// Default 2ms.
	Linger time.Duration
	// SweepInterval is how often the sweeper claims when the outbox has
	// nothing to claim; a full claim is followed by the next at once, and one
	// that found rows by the next after a fiftieth of it. Default 1s.
	SweepInterval time.Duration
	// SweepLimit is the limit passed to Claim. Default 500.
	SweepLimit int
	// ClaimAhead bounds what the sweeper keeps queued: a claim asks for at
	// most ClaimAhead less the keys already queued. A claimed row's lease
	// runs while it waits in memory, so claiming a backlog far ahead of the
	// workers lets leases end before the deliveries start, and the next
	// claims take (and rewrite) the same rows again. At ClaimAhead the
	// last item claimed waits about ClaimAhead/Workers deliveries. Default
	// 4 × Workers.
	ClaimAhead int
	// StopGrace is how long deliveries running at Stop may go on before
	// their context ends. Default 10s.
	StopGrace time.Duration
	// Logger receives Finish and Claim failures. Default: discard.
	Logger *slog.Logger
	// Name prefixes log messages, e.g. "pingpull: ping drain".
	Name string
}

func (c Config[T, R]) withDefaults() Config[T, R] {
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = 20_000
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 64
	}
	if c.Linger <= 0 {
		c.Linger = 2 * time.Millisecond
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Second
	}
	if c.SweepLimit <= 0 {
		c.SweepLimit = 500
	}
	if c.ClaimAhead <= 0 {
		c.ClaimAhead = 4 * c.Workers
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Name == "" {
		c.Name = "drain"
	}
	return c
}

// entry is the in-memory state of one key.
type entry[T any] struct {
	queued    T
	hasQueued bool
	running   T
	isRunning bool
}

// Drainer delivers offered items. Create it with New, run it with Run.
type Drainer[T, R any] struct {
	cfg Config[T, R]

	mu      sync.Mutex
	keys    map[string]*entry[T]
	ready   []string // keys with a queued item and none running, FIFO
	queued  int      // keys with a queued item
	running int
	stopped bool
	// capped: the last sweep stopped at ClaimAhead; take kicks the sweeper
	// when the queue is down to half of it.
	capped bool

	wake  chan struct{} // a key became ready
	kick  chan struct{} // sweep now
	done  chan Done[T, R]
	idle  chan struct{} // closed and replaced when nothing is queued or running
	start sync.Once
}

// New returns a Drainer; it delivers nothing until Run.
func New[T, R any](cfg Config[T, R]) *Drainer[T, R] {
	cfg = cfg.withDefaults()
	return &Drainer[T, R]{
		cfg:  cfg,
		keys: make(map[string]*entry[T]),
		wake: make(chan struct{}, 1),
		kick: make(chan struct{}, 1),
		done: make(chan Done[T, R], cfg.MaxBatch),
		idle: make(chan struct{}),
	}
}

// Offer hands item to the Drainer after the transaction that recorded it
// committed. It reports false when the item was neither taken nor absorbed
// (the Drainer is full or stopped); the outbox row then waits for a sweep.
func (d *Drainer[T, R]) Offer(item T) bool {
	key := d.cfg.Key(item)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return false
	}
	e := d.keys[key]
	switch {
	case e == nil:
		if d.queued >= d.cfg.MaxQueued {
			return false
		}
		d.keys[key] = &entry[T]{queued: item, hasQueued: true}
		d.queued++
		d.ready = append(d.ready, key)
		d.signal(d.wake)
	case e.hasQueued:
		if d.cfg.Supersedes(item, e.queued) {
			e.queued = item
		}
	case e.isRunning:
		if d.cfg.Supersedes(e.running, item) {
			return true // the delivery under way carries it
		}
		if d.queued >= d.cfg.MaxQueued {
			return false
		}
		// Delivered when the running one ends (it goes back on ready then).
		e.queued, e.hasQueued = item, true
		d.queued++
	}
	return true
}

// Kick makes the sweeper claim now instead of at its next interval (after
// a resync wrote many outbox rows, say).
func (d *Drainer[T, R]) Kick() { d.signal(d.kick) }

// Len is the number of keys queued or being delivered.
func (d *Drainer[T, R]) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queued + d.running
}

// Idle returns a channel closed once nothing is queued or being delivered
// (outcomes may still be on their way to Finish). Tests use it.
func (d *Drainer[T, R]) Idle() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queued == 0 && d.running == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return d.idle
}

func (d *Drainer[T, R]) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// take returns the next ready item, marking its key running.
func (d *Drainer[T, R]) take() (T, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var zero T
	if d.stopped || len(d.ready) == 0 {
		return zero, false
	}
	key := d.ready[0]
	d.ready[0] = ""
	d.ready = d.ready[1:]
	if len(d.ready) == 0 {
		d.ready = nil
	} else {
		d.signal(d.wake) // more for the other workers
	}
	e := d.keys[key]
	item := e.queued
	e.running, e.isRunning = item, true
	e.queued, e.hasQueued = zero, false
	d.queued--
	d.running++
	if d.capped && d.queued <= d.cfg.ClaimAhead/2 {
		d.capped = false
		d.signal(d.kick)
	}
	return item, true
}

// release ends the running delivery of key: a newer item queued meanwhile
// becomes ready.
func (d *Drainer[T, R]) release(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var zero T
	e := d.keys[key]
	e.running, e.isRunning = zero, false
	d.running--
	if e.hasQueued && !d.stopped {
		d.ready = append(d.ready, key)
		d.signal(d.wake)
	} else {
		if e.hasQueued {
			d.queued--
		}
		delete(d.keys, key)
	}
	if d.queued == 0 && d.running == 0 {
		close(d.idle)
		d.idle = make(chan struct{})
	}
}

// Run delivers until ctx ends. Then it stops taking items, lets the
// deliveries under way end (their context ends StopGrace later), hands
// their outcomes to a last Finish and returns nil. Items still queued stay
// in the outbox. Run may be called once.
func (d *Drainer[T, R]) Run(ctx context.Context) error {
	ran := false
	d.start.Do(func() { ran = true })
	if !ran {
		panic("drain: Run called twice")
	}
	// Deliveries outlive ctx by StopGrace, so that a shutdown does not cut
	// calls that are about to answer.
	deliverCtx, cancelDeliver := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDeliver()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d.cfg.StopGrace, cancelDeliver)
		context.AfterFunc(deliverCtx, func() { t.Stop() })
	})
	defer stopGrace()

	var workers sync.WaitGroup
	for range d.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			d.work(ctx, deliverCtx)
		}()
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		// Outcomes of the deliveries that ran are recorded even after ctx
		// ended: they are what a restart would otherwise repeat.
		d.finish(context.WithoutCancel(ctx))
	}()
	var sweeper sync.WaitGroup
	if d.cfg.Claim != nil {
		sweeper.Add(1)
		go func() {
			defer sweeper.Done()
			d.sweep(ctx)
		}()
	}

	<-ctx.Done()
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	sweeper.Wait()
	workers.Wait()
	close(d.done)
	<-finished
	return nil
}

func (d *Drainer[T, R]) work(ctx, deliverCtx context.Context) {
	for {
		item, ok := d.take()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
				continue
			}
		}
		result := d.cfg.Deliver(deliverCtx, item)
		d.done <- Done[T, R]{Item: item, Result: result}
		d.release(d.cfg.Key(item))
	}
}

// finish batches outcomes into Finish calls until done is closed.
func (d *Drainer[T, R]) finish(ctx context.Context) {
	batch := make([]Done[T, R], 0, d.cfg.MaxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		first, ok := <-d.done
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		linger.Reset(d.cfg.Linger)
		open := true
	gather:
		for len(batch) < d.cfg.MaxBatch {
			select {
			case next, ok := <-d.done:
				if !ok {
					open = false
					break gather
				}
				batch = append(batch, next)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		d.record(ctx, batch)
		if !open {
			return
		}
	}
}

func (d *Drainer[T, R]) record(ctx context.Context, batch []Done[T, R]) {
	ctx, cancel := context.WithTimeout(ctx, finishTimeout)
	defer cancel()
	// The slice is reused: Finish must not keep it.
	if err := d.cfg.Finish(ctx, batch); err != nil {
		d.cfg.Logger.WarnContext(ctx, d.cfg.Name+": recording outcomes failed; the outbox delivers them again",
			"count", len(batch), "error", err)
	}
}

// sweep claims outbox rows whose lease ended and offers them.
func (d *Drainer[T, R]) sweep(ctx context.Context) {
	// After a claim that found rows, the next comes soon: rows are being
	// written (a resync), and waiting out the interval would cap the rate
	// at one claim per interval.
	busy := max(d.cfg.SweepInterval/50, time.Millisecond)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.kick:
			timer.Stop()
		}
		next := d.cfg.SweepInterval
		for {
			n, full := d.sweepOnce(ctx)
			if n > 0 {
				next = busy
			}
			if !full {
				break
			}
		}
		timer.Reset(next)
	}
}

// sweepOnce claims once and returns how many rows it got and whether to
// claim again at once: the claim was full (the next one finds the Drainer
// at ClaimAhead, or claims more).
func (d *Drainer[T, R]) sweepOnce(ctx context.Context) (int, bool) {
	d.mu.Lock()
	room := min(d.cfg.MaxQueued, d.cfg.ClaimAhead) - d.queued
	// Capped: the queue's take kicks the next sweep once it has room.
	d.capped = room <= 0
	d.mu.Unlock()
	limit := min(d.cfg.SweepLimit, room)
	if limit <= 0 || ctx.Err() != nil {
		return 0, false
	}
	items, err := d.cfg.Claim(ctx, limit)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.WarnContext(ctx, d.cfg.Name+": claiming outbox rows failed", "error", err)
		}
		return 0, false
	}
	for _, it := range items {
		d.Offer(it)
	}
	return len(items), len(items) == limit
}
