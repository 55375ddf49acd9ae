// Package sqlite is the SQLite backend of the storage contract in package
// store, on the pure-Go driver modernc.org/sqlite (CGO_ENABLED=0 builds
// work) and River's riversqlite driver.
//
// The database runs in WAL mode with a busy timeout, and every transaction
// takes the write lock at BEGIN (_txlock=immediate). The pool holds ONE
// connection, as River on SQLite requires: every query, transaction and
// River operation takes turns on it; reads outside a transaction go to a
// small pool of read-only connections, which WAL lets read concurrently
// with the writer. Two consequences for callers:
//
//   - Inside an InTx callback use only the tx it is given. Calling a Store
//     method (or Jobs()) there waits for the connection the transaction
//     holds, forever (until ctx ends).
//   - Keep transactions short; while one is open nothing else runs.
//
// Notifications are in-process (internal/notifyhub): listeners in this
// process receive them, which is all a single-file database can have.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	sqlitedriver "modernc.org/sqlite"

	"github.com/ssogate/ssogate/internal/notifyhub"
	"github.com/ssogate/ssogate/store"
)

// Config configures Open.
type Config struct {
	// Path is the database file; it is created when missing. ":memory:"
	// gives a private in-memory database. Required.
	Path string
	// BusyTimeout is how long a statement waits for a lock held by another
	// process before failing. Default 10s.
	BusyTimeout time.Duration
	// Logger receives the store's and River's logs. Default: discard.
	Logger *slog.Logger
}

// WithDefaults returns cfg with zero fields set to their defaults.
func (cfg Config) WithDefaults() Config {
	if cfg.BusyTimeout == 0 {
		cfg.BusyTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

func (cfg Config) validate() error {
	var errs []error
	if cfg.Path == "" {
		errs = append(errs, errors.New("Path is required"))
	}
	if strings.ContainsAny(cfg.Path, "?#") {
		errs = append(errs, fmt.Errorf("Path %q must not contain '?' or '#'", cfg.Path))
	}
	if cfg.BusyTimeout < 0 {
		errs = append(errs, fmt.Errorf("BusyTimeout %s must not be negative", cfg.BusyTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: invalid config: %w", err)
	}
	return nil
}

// dsn is the modernc.org/sqlite data source name for cfg.
func (cfg Config) dsn() string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages))
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	return "file:" + cfg.Path + "?" + q.Encode()
}

// readDSN is the data source name of the read-only connections: no write
// lock at BEGIN, and query_only so that nothing can write through them.
func (cfg Config) readDSN() string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "query_only(1)")
	return "file:" + cfg.Path + "?" + q.Encode()
}

// openDB opens a pool whose connections keep their prepared statements
// (stmt_cache.go).
func openDB(dsn string) (*sql.DB, error) {
	base, err := sqlitedriver.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(&cachingConnector{base: base}), nil
}

// fileMode is the mode of a database file Open creates: it holds sessions
// and e-mail addresses, so only the owner reads it.
const fileMode os.FileMode = 0o600

// createPrivate creates the database file at path with fileMode when it
// does not exist yet, before SQLite opens it. SQLite would create it 0644
// (less the umask); and it creates the -wal and -shm files with the mode of
// the database file, whatever the umask, so this one file decides all
// three. The explicit Chmod makes the mode independent of the umask too. An
// existing file keeps its mode: its owner chose it.
func createPrivate(path string) error {
	if path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	err = f.Chmod(fileMode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return nil
}

// readConns is the size of the read-only pool.
const readConns = 4

// Store is the SQLite store. It implements store.Store.
type Store struct {
	queries

	db *sql.DB
	// readDB is the pool of read-only connections (db itself for an
	// in-memory database, which exists only on its one connection).
	readDB *sql.DB
	logger *slog.Logger
	hub    *notifyhub.Hub
	// checkpoints copies the WAL into the database file in the background
	// (nil for an in-memory database).
	checkpoints *checkpointer

	// client is the River client: insert-only from Open, the working client
	// after StartJobs. Tx.JobInsert and JobComplete use whichever is current.
	client   atomic.Pointer[river.Client[*sql.Tx]]
	startMu  sync.Mutex
	started  bool
	jobs     *jobClient
	closeErr error
	closed   sync.Once
}

var _ store.Store = (*Store)(nil)

// Open opens (creating when missing) the database at cfg.Path. It does not
// migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := createPrivate(cfg.Path); err != nil {
		return nil, err
	}
	db, err := openDB(cfg.dsn())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	// One connection: River on SQLite fails with SQLITE_BUSY otherwise, and
	// an in-memory database exists only on its connection.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, mapError(err))
	}

	// Reads that need no transaction go to a pool of read-only connections:
	// in WAL mode they read while the one writer writes, instead of queueing
	// behind every transaction and River fetch.
	readDB := db
	if cfg.Path != ":memory:" {
		if readDB, err = openDB(cfg.readDSN()); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
		}
		readDB.SetMaxOpenConns(readConns)
		readDB.SetMaxIdleConns(readConns)
	}
	var checkpoints *checkpointer
	if cfg.Path != ":memory:" {
		if checkpoints, err = startCheckpointer(cfg, checkpointInterval); err != nil {
			_ = readDB.Close()
			_ = db.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
		}
	}
	client, err := river.NewClient(riversqlite.New(db), &river.Config{Logger: cfg.Logger})
	if err != nil {
		if checkpoints != nil {
			_ = checkpoints.close()
		}
		if readDB != db {
			_ = readDB.Close()
		}
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: river client: %w", err)
	}
	s := &Store{
		queries: queries{db: db, read: readDB},
		db:      db,
		readDB:  readDB,
		logger:  cfg.Logger,
		hub:     notifyhub.New(notifyhub.Config{}),

		checkpoints: checkpoints,
	}
	s.queries.store = s
	s.client.Store(client)
	s.jobs = &jobClient{store: s}
	return s, nil
}

// Backend returns "sqlite".
func (s *Store) Backend() string { return "sqlite" }

// DB returns the connection pool (one connection). For tests and tools;
// mind the single-connection rule in the package documentation.
func (s *Store) DB() *sql.DB { return s.db }

// RiverClient returns the current River client (the working one after
// StartJobs), for River UI.
func (s *Store) RiverClient() *river.Client[*sql.Tx] { return s.client.Load() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", mapError(err))
	}
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", mapError(err))
	}
	return nil
}

// Close stops working jobs (letting running ones finish for up to 10s),
// ends every subscription and closes the database. Safe to call more than
// once.
func (s *Store) Close() error {
	s.closed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var errs []error
		if err := s.jobs.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: stop jobs: %w", err))
		}
		s.hub.Close()
		if s.checkpoints != nil {
			if err := s.checkpoints.close(); err != nil {
				errs = append(errs, fmt.Errorf("sqlite: close: %w", err))
			}
		}
		if s.readDB != s.db {
			if err := s.readDB.Close(); err != nil {
				errs = append(errs, fmt.Errorf("sqlite: close: %w", err))
			}
		}
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Notify sends payload to this process's listeners of channel.
func (s *Store) Notify(ctx context.Context, channel string, payload []byte) error {
	if err := s.hub.Notify(channel, payload); err != nil {
		return fmt.Errorf("sqlite: notify: %w", err)
	}
	return nil
}

// Listen subscribes to channel until ctx ends or the subscription is closed.
func (s *Store) Listen(ctx context.Context, channel string) (store.Subscription, error) {
	sub, err := s.hub.Listen(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listen: %w", err)
	}
	return sub, nil
}

// InTx runs fn in one transaction, which takes the database's write lock at
// BEGIN. fn must use only tx (see the package documentation). When fn
// returns nil the transaction commits and the notifications sent through tx
// are delivered; otherwise (or when fn panics) it rolls back and fn's error
// is returned unchanged.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err error) {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapError(err))
	}
	tx := &Tx{queries: queries{db: sqlTx, read: sqlTx, tx: sqlTx, store: s}, store: s, sqlTx: sqlTx}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapError(err))
	}
	committed = true
	for _, n := range tx.notifications {
		if err := s.hub.Notify(n.channel, n.payload); err != nil && !errors.Is(err, store.ErrClosed) {
			s.logger.WarnContext(ctx, "sqlite: notify after commit failed", "channel", n.channel, "error", err.Error())
		}
	}
	return nil
}

// Tx is a transaction; it implements store.Tx.
type Tx struct {
	queries

	store         *Store
	sqlTx         *sql.Tx
	notifications []notification
}

var _ store.Tx = (*Tx)(nil)

type notification struct {
	channel string
	payload []byte
}

// SQLTx returns the underlying transaction, e.g. for River's *Tx functions.
func (tx *Tx) SQLTx() *sql.Tx { return tx.sqlTx }

// JobInsert inserts a River job in this transaction.
func (tx *Tx) JobInsert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := tx.store.client.Load().InsertTx(ctx, tx.sqlTx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlite: insert job %s: %w", args.Kind(), err)
	}
	return res, nil
}

// anyArgs lets JobCompleteTx decode any job's arguments, which it does not
// use.
type anyArgs struct{}

func (anyArgs) Kind() string { return "" }

// JobComplete marks the running job completed in this transaction. ctx must
// be (derived from) the worker's context.
func (tx *Tx) JobComplete(ctx context.Context, job *rivertype.JobRow) error {
	if _, err := river.JobCompleteTx[*riversqlite.Driver](ctx, tx.sqlTx, &river.Job[anyArgs]{JobRow: job}); err != nil {
		return fmt.Errorf("sqlite: complete job %d: %w", job.ID, err)
	}
	return nil
}

// Notify queues payload for channel; it is delivered after commit.
func (tx *Tx) Notify(ctx context.Context, channel string, payload []byte) error {
	if err := notifyhub.Check(channel, payload); err != nil {
		return fmt.Errorf("sqlite: notify: %w", err)
	}
	tx.notifications = append(tx.notifications, notification{channel, append([]byte(nil), payload...)})
	return nil
}
