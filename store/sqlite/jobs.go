package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/internal/riverconf"
)

func validateJobsConfig(cfg store.JobsConfig) error {
	var errs []error
	if cfg.Workers == nil {
		errs = append(errs, errors.New("Workers is required"))
	}
	if cfg.FetchCooldown < time.Millisecond {
		errs = append(errs, fmt.Errorf("FetchCooldown %s is below 1ms", cfg.FetchCooldown))
	}
	if cfg.FetchPollInterval < cfg.FetchCooldown {
		errs = append(errs, fmt.Errorf("FetchPollInterval %s is below FetchCooldown %s", cfg.FetchPollInterval, cfg.FetchCooldown))
	}
	if cfg.CompletedJobRetentionPeriod < 0 || cfg.DeadLetterRetentionPeriod < 0 {
		errs = append(errs, errors.New("retention periods must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: invalid jobs config: %w", err)
	}
	return nil
}

// StartJobs builds the working River client with cfg's workers and queues,
// replaces the insert-only client with it and starts it. It runs until
// Jobs().Stop or Close; ctx only bounds the start. It can be called once.
func (s *Store) StartJobs(ctx context.Context, cfg store.JobsConfig) error {
	cfg = cfg.WithDefaults()
	if err := validateJobsConfig(cfg); err != nil {
		return err
	}
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.started {
		return errors.New("sqlite: jobs already started")
	}
	client, err := river.NewClient(riversqlite.New(s.db), riverconf.Config(cfg, s.logger))
	if err != nil {
		return fmt.Errorf("sqlite: river client: %w", err)
	}
	if cfg.ClientID != "" {
		n, err := s.rescueOwnJobs(ctx, cfg.ClientID)
		if err != nil {
			return fmt.Errorf("sqlite: start jobs: %w", err)
		}
		if n > 0 {
			s.logger.WarnContext(ctx, "sqlite: jobs left running by this process's previous run are available again", "count", n, "client_id", cfg.ClientID)
		}
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("sqlite: start jobs: %w", err)
	}
	s.client.Store(client)
	s.started = true
	return nil
}

// Jobs returns the River client of this store.
func (s *Store) Jobs() store.JobClient { return s.jobs }

// jobClient is store.JobClient over the store's current River client.
type jobClient struct {
	store *Store
}

var _ store.JobClient = (*jobClient)(nil)

func (c *jobClient) client() *river.Client[*sql.Tx] { return c.store.client.Load() }

func (c *jobClient) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return c.client().Insert(ctx, args, opts)
}

func (c *jobClient) InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return c.client().InsertMany(ctx, params)
}

func (c *jobClient) JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return c.client().JobGet(ctx, id)
}

func (c *jobClient) JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error) {
	return c.client().JobList(ctx, params)
}

func (c *jobClient) JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return c.client().JobRetry(ctx, id)
}

// JobCountByState counts river_job rows per state, for kinds when given.
func (c *jobClient) JobCountByState(ctx context.Context, kinds ...string) (map[rivertype.JobState]int, error) {
	query := `SELECT state, count(*) FROM river_job GROUP BY state`
	var args []any
	if len(kinds) > 0 {
		kindsJSON, err := json.Marshal(kinds)
		if err != nil {
			return nil, fmt.Errorf("sqlite: count jobs: %w", err)
		}
		query = `SELECT state, count(*) FROM river_job WHERE kind IN (SELECT value FROM json_each(?)) GROUP BY state`
		args = append(args, string(kindsJSON))
	}
	rows, err := c.store.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count jobs: %w", mapError(err))
	}
	defer rows.Close()
	counts := map[rivertype.JobState]int{}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count jobs: %w", mapError(err))
		}
		counts[rivertype.JobState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count jobs: %w", mapError(err))
	}
	return counts, nil
}

// Subscribe returns River's event stream. Before StartJobs no job is ever
// worked, so it returns a closed channel.
func (c *jobClient) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	c.store.startMu.Lock()
	started := c.store.started
	c.store.startMu.Unlock()
	if !started {
		ch := make(chan *river.Event)
		close(ch)
		return ch, func() {}
	}
	return c.client().Subscribe(kinds...)
}

// Stop stops working jobs, letting running ones finish until ctx ends. A
// no-op before StartJobs.
func (c *jobClient) Stop(ctx context.Context) error {
	c.store.startMu.Lock()
	started := c.store.started
	c.store.startMu.Unlock()
	if !started {
		return nil
	}
	return c.client().Stop(ctx)
}

// JobsUI is River UI's endpoints bundle on the River client in use.
func (s *Store) JobsUI() uiendpoints.Bundle { return riverui.NewEndpoints(s.client.Load(), nil) }
