// Package store is the storage contract of ssogate: the types, interfaces,
// parameter structs and sentinel errors that the domain packages (pingpull,
// hub, authdelegate) program against, and that every backend
// (store/sqlite, store/postgres) implements. It imports no project package.
//
// Two rules shape it:
//
//   - A state change and the job it triggers commit together: Tx exposes
//     JobInsert (River's InsertTx on the backend's own transaction) next to
//     the query methods, so a profile version bump and its ping job are one
//     atomic write.
//   - Live events reach every replica: Notify/Listen are in-process on SQLite
//     and LISTEN/NOTIFY on PostgreSQL.
//
// The conformance suite in store/storetest defines the behaviour; both
// backends run it.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui/uiendpoints"
)

// Sentinel errors. Backends map their native errors onto these in one
// function each; callers test with errors.Is.
var (
	// ErrNotFound is returned when the requested row does not exist (or, for
	// one-time values, has expired or was already consumed).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a create collides with an existing row
	// (a repeated webhook id, a replayed jti, a duplicate one-time key).
	ErrConflict = errors.New("store: conflict")
	// ErrClosed is returned by a store, listener or subscription after Close.
	ErrClosed = errors.New("store: closed")
)

// Store is a database connection pool plus the job client and notification
// channel built on it. All methods are safe for concurrent use.
type Store interface {
	Queries
	Notifier
	JobBringForward

	// InTx runs fn in one transaction. When fn returns nil the transaction
	// commits (including jobs inserted and notifications sent through tx);
	// otherwise it rolls back and fn's error is returned unchanged. On
	// SQLite the transaction takes the write lock at BEGIN (_txlock=immediate),
	// so transactions are serialized; on PostgreSQL it is READ COMMITTED and
	// methods that promise a lock (ProfileVersionForUpdate,
	// RemoteProfilePingSeqForUpdate) take row locks.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error

	// Jobs is the River client built from this store's driver
	// (riversqlite / riverpgxv5). It is insert-only until StartJobs is called.
	Jobs() JobClient

	// JobsUI is the River UI's endpoints bundle on this store's River client
	// (riverui.HandlerOpts.Endpoints), so that the admin routes can serve the
	// UI without knowing the backend.
	JobsUI() uiendpoints.Bundle

	// StartJobs starts working jobs with the given workers and queues. Workers
	// may be added to cfg.Workers until this call. Stop with Jobs().Stop.
	StartJobs(ctx context.Context, cfg JobsConfig) error

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Migrate applies this backend's migrations and River's, idempotently.
	Migrate(ctx context.Context) error
	// MigrationsCurrent reports whether every known migration (ours and
	// River's) has been applied; /readyz uses it.
	MigrationsCurrent(ctx context.Context) (bool, error)

	// Backend names the implementation: "sqlite" or "postgres".
	Backend() string

	io.Closer
}

// Tx is a transaction: every query method plus job insertion and
// notifications that take effect only at commit.
type Tx interface {
	Queries

	// JobInsert inserts a River job in this transaction (River's InsertTx).
	JobInsert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// JobComplete marks the running job completed in this transaction
	// (River's JobCompleteTx). It must be called from inside a worker's Work.
	// Used by coalescing workers: lock the row that counts changes, compare,
	// then complete in the same transaction so that no concurrent change can
	// be deduplicated against a job that is about to finish.
	JobComplete(ctx context.Context, job *rivertype.JobRow) error
	// Notify sends payload on channel when the transaction commits, and not
	// at all when it rolls back.
	Notify(ctx context.Context, channel string, payload []byte) error
}

// Notifier is the live-event channel. In-process for SQLite; LISTEN/NOTIFY
// for PostgreSQL, so an event sent by one replica reaches listeners on every
// replica. Delivery is best effort (a listener that falls behind may miss
// payloads and is told so through Subscription.Lagged): anything that must
// not be lost is also in the database, and listeners re-read it.
type Notifier interface {
	// Notify sends payload (at most 7900 bytes, the PostgreSQL limit with
	// headroom) to every current listener of channel.
	Notify(ctx context.Context, channel string, payload []byte) error
	// Listen subscribes to channel until ctx ends or the subscription is
	// closed. Channel names match ^[a-z][a-z0-9_]{0,62}$.
	Listen(ctx context.Context, channel string) (Subscription, error)
}

// Subscription is one listener of a notification channel.
type Subscription interface {
	// C delivers payloads in the order they were sent by one sender. It is
	// closed when the subscription ends.
	C() <-chan []byte
	// Lagged is signalled (without blocking the sender) when payloads were
	// dropped because C was full or the connection to the database was lost
	// and re-established; the listener should re-read state from the store.
	Lagged() <-chan struct{}
	// Close ends the subscription; safe to call more than once.
	Close() error
}

// JobClient is the part of a River client that is not generic over the
// driver's transaction type.
type JobClient interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	// JobRetry makes a finished (cancelled, discarded, completed) job
	// available again; the replay of a dead letter.
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// JobCountByState counts jobs per state, optionally for some kinds only;
	// the queue-depth gauges use it.
	JobCountByState(ctx context.Context, kinds ...string) (map[rivertype.JobState]int, error)
	// Subscribe returns River's event stream (job completed, failed, …); tests
	// and the benchmark harness use it. cancel releases it.
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	// Stop stops working jobs, letting running ones finish until ctx ends.
	// It is a no-op on a client that was never started.
	Stop(ctx context.Context) error
}

// JobsConfig configures the River client that works jobs.
type JobsConfig struct {
	// Workers holds the registered workers. Required.
	Workers *river.Workers
	// Queues maps queue names to their configuration. Default: the default
	// queue with 50 workers.
	Queues map[string]river.QueueConfig
	// FetchCooldown is River's minimum time between fetches. Default 5ms
	// (River's 100ms default caps a queue near 1k jobs/s).
	FetchCooldown time.Duration
	// FetchPollInterval is how often River polls for new jobs when no insert
	// notification arrives. Default 200ms.
	FetchPollInterval time.Duration
	// ErrorHandler receives job errors and panics. Optional.
	ErrorHandler river.ErrorHandler
	// Middleware is passed to River unchanged. Optional.
	Middleware []rivertype.Middleware
	// RetryPolicy overrides River's default retry policy. Optional; workers
	// usually implement NextRetry themselves.
	RetryPolicy river.ClientRetryPolicy
	// CompletedJobRetentionPeriod is how long completed jobs are kept.
	// Default 24h. Cancelled and discarded jobs (dead letters) are kept for
	// DeadLetterRetentionPeriod.
	CompletedJobRetentionPeriod time.Duration
	// DeadLetterRetentionPeriod defaults to 30 days.
	DeadLetterRetentionPeriod time.Duration
	// JobTimeout bounds one job's Work. Default 30s (pings and pulls bound
	// their own HTTP calls to 10s).
	JobTimeout time.Duration
	// RescueStuckJobsAfter is when a job left running by a crashed process
	// is made available again. Default 1 minute (River's default is an
	// hour: a killed worker would hold the user's coalesced job that long).
	// Must exceed JobTimeout. River's rescuer looks every 30 s on top.
	RescueStuckJobsAfter time.Duration
	// ClientID names this process's River client in the jobs it attempts
	// (river_job.attempted_by). When it is stable, the same after a restart
	// (cmd/ssogate derives it from the role, host and listen address),
	// StartJobs makes the jobs its killed predecessor left running
	// available at once instead of after RescueStuckJobsAfter. Two live
	// processes must never share one. Empty: River's random id, and no such
	// rescue.
	ClientID string
}

// WithDefaults returns cfg with its zero fields set to the documented
// defaults. Backends call it in StartJobs.
func (cfg JobsConfig) WithDefaults() JobsConfig {
	if len(cfg.Queues) == 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 50}}
	}
	if cfg.FetchCooldown == 0 {
		cfg.FetchCooldown = 5 * time.Millisecond
	}
	if cfg.FetchPollInterval == 0 {
		cfg.FetchPollInterval = 200 * time.Millisecond
	}
	if cfg.CompletedJobRetentionPeriod == 0 {
		cfg.CompletedJobRetentionPeriod = 24 * time.Hour
	}
	if cfg.DeadLetterRetentionPeriod == 0 {
		cfg.DeadLetterRetentionPeriod = 30 * 24 * time.Hour
	}
	if cfg.JobTimeout == 0 {
		cfg.JobTimeout = 30 * time.Second
	}
	if cfg.RescueStuckJobsAfter == 0 {
		cfg.RescueStuckJobsAfter = time.Minute
	}
	return cfg
}

// Queries are the reads and writes available both on a Store and inside a
// Tx. Names are noun first (ProfileGet, SessionCreate).
type Queries interface {
	ProfileQueries
	TimelineQueries
	TimelineFeedQueries
	WebhookReceiptQueries
	WebhookBatchQueries
	OneTimeQueries
	SessionQueries
	HubQueries
	CollectionQueries
	PingOutboxQueries
	BatchQueries
}
