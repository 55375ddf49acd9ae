package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/internal/riverconf"
)

// RiverClient returns the River client in use: the insert-only client built
// at Open, or the working client once StartJobs has run (River UI takes it).
func (s *Store) RiverClient() *river.Client[pgx.Tx] { return s.client.Load() }

// JobsUI is River UI's endpoints bundle on the River client in use.
func (s *Store) JobsUI() uiendpoints.Bundle { return riverui.NewEndpoints(s.client.Load(), nil) }

// Jobs returns the job client. It always uses the River client in use, so
// callers may keep it across StartJobs.
func (s *Store) Jobs() store.JobClient { return jobClient{s: s} }

// StartJobs builds River's working client with cfg's workers and queues and
// starts it. From then on job inserts go through it. The client runs until
// Jobs().Stop or Close, not until ctx ends (ctx bounds the start only).
func (s *Store) StartJobs(ctx context.Context, cfg store.JobsConfig) error {
	if cfg.Workers == nil {
		return errors.New("postgres: start jobs: invalid config: Workers is required")
	}
	cfg = cfg.WithDefaults()

	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	if s.working != nil {
		return errors.New("postgres: start jobs: already started")
	}
	riverCfg := riverconf.Config(cfg, s.logger)
	riverCfg.Schema = s.cfg.Schema
	client, err := river.NewClient(s.driver, riverCfg)
	if err != nil {
		return fmt.Errorf("postgres: start jobs: %w", err)
	}
	if cfg.ClientID != "" {
		n, err := s.rescueOwnJobs(ctx, cfg.ClientID)
		if err != nil {
			return fmt.Errorf("postgres: start jobs: %w", err)
		}
		if n > 0 {
			s.logger.WarnContext(ctx, "postgres: jobs left running by this process's previous run are available again", "count", n, "client_id", cfg.ClientID)
		}
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("postgres: start jobs: %w", err)
	}
	s.working = client
	s.client.Store(client)
	for _, p := range s.pendingSubs {
		p.forward(client)
	}
	s.pendingSubs = nil
	return nil
}

// JobComplete marks the running job completed in this transaction with
// River's JobCompleteTx. It must be called from inside a worker's Work (River
// finds its client in ctx).
func (t *pgTx) JobComplete(ctx context.Context, job *rivertype.JobRow) error {
	if job == nil {
		return errors.New("postgres: job complete: nil job")
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, t.tx, &river.Job[anyArgs]{JobRow: job}); err != nil {
		return wrap("job complete", err)
	}
	return nil
}

// JobInsert inserts a River job in this transaction (River's InsertTx).
func (t *pgTx) JobInsert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := t.s.client.Load().InsertTx(ctx, t.tx, args, opts)
	if err != nil {
		return nil, wrap("job insert", err)
	}
	return res, nil
}

// anyArgs lets JobCompleteTx decode whatever args the job row holds; the
// caller only needs the row state change.
type anyArgs struct{ raw []byte }

func (anyArgs) Kind() string { return "ssogate_any" }

func (a *anyArgs) UnmarshalJSON(b []byte) error {
	a.raw = append(a.raw[:0], b...)
	return nil
}

// jobClient is store.JobClient over whichever River client is in use.
type jobClient struct{ s *Store }

func (j jobClient) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := j.s.client.Load().Insert(ctx, args, opts)
	if err != nil {
		return nil, wrap("job insert", err)
	}
	return res, nil
}

func (j jobClient) InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	res, err := j.s.client.Load().InsertMany(ctx, params)
	if err != nil {
		return nil, wrap("job insert many", err)
	}
	return res, nil
}

func (j jobClient) JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	row, err := j.s.client.Load().JobGet(ctx, id)
	if err != nil {
		return nil, wrap("job get", err)
	}
	return row, nil
}

func (j jobClient) JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error) {
	res, err := j.s.client.Load().JobList(ctx, params)
	if err != nil {
		return nil, wrap("job list", err)
	}
	return res, nil
}

func (j jobClient) JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	row, err := j.s.client.Load().JobRetry(ctx, id)
	if err != nil {
		return nil, wrap("job retry", err)
	}
	return row, nil
}

// JobCountByState counts river_job rows per state; every state is present
// in the map (zero when no job is in it).
func (j jobClient) JobCountByState(ctx context.Context, kinds ...string) (map[rivertype.JobState]int, error) {
	table := "river_job"
	if j.s.cfg.Schema != "" {
		table = pgx.Identifier{j.s.cfg.Schema, "river_job"}.Sanitize()
	}
	var kindFilter []string
	if len(kinds) > 0 {
		kindFilter = kinds
	}
	rows, err := j.s.pool.Query(ctx,
		`SELECT state::text, count(*) FROM `+table+`
		 WHERE $1::text[] IS NULL OR kind = ANY($1::text[])
		 GROUP BY state`, kindFilter)
	if err != nil {
		return nil, wrap("job count by state", err)
	}
	counts := make(map[rivertype.JobState]int, len(rivertype.JobStates()))
	for _, st := range rivertype.JobStates() {
		counts[st] = 0
	}
	var (
		state string
		n     int64
	)
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		counts[rivertype.JobState(state)] = int(n)
		return nil
	})
	if err != nil {
		return nil, wrap("job count by state", err)
	}
	return counts, nil
}

// Subscribe returns River's event stream. Before StartJobs there is no
// working client yet: the subscription is kept and connected to the working
// client when it starts, so tests may subscribe first.
func (j jobClient) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	s := j.s
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	if s.working != nil {
		return s.working.Subscribe(kinds...)
	}
	p := &pendingSub{
		kinds: slices.Clone(kinds),
		out:   make(chan *river.Event, 1000),
		stop:  make(chan struct{}),
	}
	if s.closed.Load() {
		close(p.out)
		return p.out, func() {}
	}
	s.pendingSubs = append(s.pendingSubs, p)
	return p.out, func() {
		s.jobsMu.Lock()
		s.pendingSubs = slices.DeleteFunc(s.pendingSubs, func(q *pendingSub) bool { return q == p })
		s.jobsMu.Unlock()
		p.cancel()
	}
}

// Stop stops the working client; a no-op when jobs were never started.
func (j jobClient) Stop(ctx context.Context) error {
	j.s.jobsMu.Lock()
	working := j.s.working
	j.s.jobsMu.Unlock()
	if working == nil {
		return nil
	}
	if err := working.Stop(ctx); err != nil {
		return fmt.Errorf("postgres: stop jobs: %w", err)
	}
	return nil
}

// pendingSub is a River subscription made before the working client exists.
// out is closed exactly once: by cancel while still pending, or by the
// forwarder once started.
type pendingSub struct {
	kinds []river.EventKind
	out   chan *river.Event
	stop  chan struct{}

	mu         sync.Mutex
	forwarding bool
	stopped    bool
}

// forward connects p to client. Called with Store.jobsMu held.
func (p *pendingSub) forward(client *river.Client[pgx.Tx]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.forwarding = true
	in, cancel := client.Subscribe(p.kinds...)
	go func() {
		defer close(p.out)
		defer cancel()
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case p.out <- ev:
				default: // full: dropped, as River itself does
				}
			case <-p.stop:
				return
			}
		}
	}()
}

// cancel ends p; safe to call more than once.
func (p *pendingSub) cancel() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.stop)
	if !p.forwarding {
		close(p.out)
	}
}
