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
		Queues:                      cfg.Queues,
		RetryPolicy:                 cfg.RetryPolicy,
		Workers:                     cfg.Workers,
	}
}
