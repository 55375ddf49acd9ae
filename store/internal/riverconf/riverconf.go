// Package riverconf turns a store.JobsConfig into River's client
// configuration for the backends, so that the store contract does not
// export River's concrete config.
package riverconf

import (
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/store"
)

// Config is the River client configuration cfg describes, with logger; a
// backend adds what is its own (PostgreSQL's schema).
//
// River polls (PollOnly) instead of holding a LISTEN connection: it carries
// only what failed (retries on a schedule of seconds and more, dead
// letters, replays), where FetchPollInterval's wait does not matter, and a
// listening backend reads every notification sent in its database, in a
// transaction of its own (PostgreSQL's ProcessIncomingNotify): River's
// listener turned each live-event notification of the hot path into one
// more commit per change and database.
func Config(cfg store.JobsConfig, logger *slog.Logger) *river.Config {
	return &river.Config{
		CancelledJobRetentionPeriod: cfg.DeadLetterRetentionPeriod,
		CompletedJobRetentionPeriod: cfg.CompletedJobRetentionPeriod,
		DiscardedJobRetentionPeriod: cfg.DeadLetterRetentionPeriod,
		ErrorHandler:                cfg.ErrorHandler,
		ID:                          cfg.ClientID,
		FetchCooldown:               cfg.FetchCooldown,
		FetchPollInterval:           cfg.FetchPollInterval,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueStuckJobsAfter,
		Logger:                      logger,
		Middleware:                  cfg.Middleware,
		PollOnly:                    true,
		Queues:                      cfg.Queues,
		RetryPolicy:                 cfg.RetryPolicy,
		Workers:                     cfg.Workers,
	}
}
