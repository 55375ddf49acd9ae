// Package postgres is the PostgreSQL backend of the ssogate store, built on
// pgx/v5 (pgxpool) and River's riverpgxv5 driver.
//
// Everything the backend creates (its own tables and River's) lives in one
// schema: Config.Schema when set (created by Open if missing; tests use one
// schema per test), otherwise the connection's default search_path. The
// schema is applied through the pool's search_path and River's Schema
// option.
//
// Notifications use LISTEN/NOTIFY: one dedicated connection per Store
// listens on every channel that has a subscriber, so an event sent by one
// replica reaches the subscribers of every replica. When Config.Schema is
// set, channel names are prefixed with it on the wire ("<schema>.<channel>",
// hashed when longer than PostgreSQL's 63-byte identifier limit), so stores
// in different schemas of one database never see each other's events while
// stores on the same schema do.
//
// Open does not migrate; call Migrate (several replicas may do so at once:
// migrations run under an advisory lock).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/ssogate/ssogate/store"
)

// schemaRE limits schema names to what needs no quoting and leaves room for
// River's "<schema>.<topic>" notification channels (63 bytes at most).
var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,45}$`)

// Config configures Open.
type Config struct {
	// URL is the PostgreSQL connection URL or keyword/value string. Required.
	URL string
	// Schema, when set, holds every table of ours and River's; Open creates
	// it when missing. It must match ^[a-z_][a-z0-9_]{0,45}$. Default: none
	// (the server's search_path decides).
	Schema string
	// Logger receives the store's and River's logs. Default: discard.
	Logger *slog.Logger
	// MaxConns is the size of the connection pool (the notification listener
	// uses one more connection of its own, River's working client one more).
	// Default 10; at least 2 (Migrate holds one connection for its lock).
	MaxConns int32
}

// WithDefaults returns a copy of c with defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxConns == 0 {
		c.MaxConns = 10
	}
	return c
}

// validate reports every problem at once.
func (c Config) validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("URL is required"))
	} else if _, err := pgxpool.ParseConfig(c.URL); err != nil {
		// pgx's message may contain the URL; never echo a password.
		errs = append(errs, errors.New("URL is not a valid PostgreSQL connection string"))
	}
	if c.Schema != "" && !schemaRE.MatchString(c.Schema) {
		errs = append(errs, fmt.Errorf("Schema %q must match %s", c.Schema, schemaRE))
	}
	if c.MaxConns < 2 {
		errs = append(errs, fmt.Errorf("MaxConns must be at least 2, got %d", c.MaxConns))
	}
	if len(errs) > 0 {
		return fmt.Errorf("postgres: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// Store is the PostgreSQL store. It implements store.Store.
type Store struct {
	queries

	cfg      Config
	pool     *pgxpool.Pool
	driver   *riverpgxv5.Driver
	migrator *rivermigrate.Migrator[pgx.Tx]
	logger   *slog.Logger
	listener *listener

	closed atomic.Bool

	jobsMu sync.Mutex
	// insertClient is the insert-only River client built at Open; working
	// is the client StartJobs builds. client points at the one in use.
	insertClient *river.Client[pgx.Tx]
	working      *river.Client[pgx.Tx]
	client       atomic.Pointer[river.Client[pgx.Tx]]
	pendingSubs  []*pendingSub
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Tx    = (*pgTx)(nil)
)

// Open connects to PostgreSQL, creates Config.Schema when missing, and
// builds an insert-only River client. It does not migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("postgres: parse URL: invalid connection string")
	}
	poolCfg.MaxConns = cfg.MaxConns
	if cfg.Schema != "" {
		poolCfg.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	}
	if poolCfg.ConnConfig.RuntimeParams["application_name"] == "" {
		poolCfg.ConnConfig.RuntimeParams["application_name"] = "ssogate"
	}

	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	s := &Store{
		cfg:    cfg,
		pool:   pool,
		logger: cfg.Logger,
		driver: riverpgxv5.New(pool),
	}
	s.queries = queries{db: pool, s: s}
	if cfg.Schema != "" {
		if err := s.createSchema(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}

	s.insertClient, err = river.NewClient(s.driver, &river.Config{
		Logger: cfg.Logger,
		Schema: cfg.Schema,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: river client: %w", err)
	}
	s.client.Store(s.insertClient)

	s.migrator, err = rivermigrate.New(s.driver, &rivermigrate.Config{
		Logger: cfg.Logger,
		Schema: cfg.Schema,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: river migrator: %w", err)
	}
	s.listener = newListener(s, poolCfg.ConnConfig)
	return s, nil
}

// createSchema creates Config.Schema when missing. Concurrent Opens (several
// replicas, parallel tests on one schema) serialize on an advisory lock
// because CREATE SCHEMA IF NOT EXISTS alone can still fail on a race.
func (s *Store) createSchema(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("schema", s.cfg.Schema)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.cfg.Schema}.Sanitize())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create schema: %w", mapError(err))
	}
	return nil
}

// Schema returns the configured schema ("" when none).
func (s *Store) Schema() string { return s.cfg.Schema }

// Backend returns "postgres".
func (s *Store) Backend() string { return "postgres" }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", mapError(err))
	}
	return nil
}

// Close stops River's working client (letting running jobs finish for up
// to 10 seconds, then cancelling their contexts), ends every subscription and closes the pool. Calling it
// again does nothing.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	s.jobsMu.Lock()
	working := s.working
	for _, p := range s.pendingSubs {
		p.cancel()
	}
	s.pendingSubs = nil
	s.jobsMu.Unlock()
	if working != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := working.Stop(ctx); err != nil {
			// Jobs still running after the soft stop: cancel their contexts.
			hardCtx, hardCancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := working.StopAndCancel(hardCtx); err != nil {
				errs = append(errs, fmt.Errorf("postgres: stop jobs: %w", err))
			}
			hardCancel()
		}
		cancel()
	}
	s.listener.close()
	s.pool.Close()
	return errors.Join(errs...)
}

// InTx runs fn in one READ COMMITTED transaction; see store.Store.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err error) {
	if s.closed.Load() {
		return store.ErrClosed
	}
	dbTx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", mapError(err))
	}
	done := false
	defer func() {
		if done {
			return
		}
		// fn failed or panicked: roll back even when ctx has ended.
		rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = dbTx.Rollback(rbCtx)
	}()
	t := &pgTx{queries: queries{db: dbTx, s: s}, tx: dbTx, s: s}
	if err := fn(ctx, t); err != nil {
		return err
	}
	if err := notifyMany(ctx, dbTx, t.channels, t.payloads); err != nil {
		return err
	}
	done = true
	if err := dbTx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapError(err))
	}
	return nil
}

// pgTx is a store.Tx on a pgx transaction.
type pgTx struct {
	queries
	tx pgx.Tx
	s  *Store
	// channels and payloads are the notifications sent so far, in order.
	channels, payloads []string
}

// Notify sends payload on channel when the transaction commits: it is
// checked now and buffered, and InTx sends every buffered notification in
// one pg_notify statement just before COMMIT (PostgreSQL delivers them at
// commit, in order, and drops them on rollback). PostgreSQL folds identical
// (channel, payload) pairs sent in one transaction into one delivery.
func (t *pgTx) Notify(_ context.Context, channel string, payload []byte) error {
	if err := t.s.checkNotify(channel, payload); err != nil {
		return err
	}
	t.channels = append(t.channels, t.s.wireChannel(channel))
	t.payloads = append(t.payloads, string(payload))
	return nil
}
