package store

import (
	"context"
	"time"
)

// PingOutboxEntry is a user whose profile must be pinged to the hub, up to
// Version.
type PingOutboxEntry struct {
	UserID  string
	Version int64
}

// PingOutboxPutParams queues a ping for one user.
type PingOutboxPutParams struct {
	UserID string
	// Version is the profile version the ping must cover; it may be 0
	// ("ping once": a resync).
	Version int64
	// Owner is the replica that will deliver it; "" for nobody.
	Owner string
	// LeaseUntil is when the entry becomes claimable by others (the owner's
	// lease ends); zero: claimable at once. A zero lease is stored as the
	// earliest instant, so it is claimed before any other.
	LeaseUntil time.Time
}

// PingOutboxClaimParams takes a batch of entries for one replica.
type PingOutboxClaimParams struct {
	// Owner is the claiming replica.
	Owner string
	// Now decides which leases have ended (LeaseUntil <= Now). Required.
	Now time.Time
	// LeaseUntil is the claimed entries' new lease. Required.
	LeaseUntil time.Time
	// Limit is the batch size; default 500, at most 5000.
	Limit int
}

// PingOutboxQueries are the gateway's transactional outbox of pings: a
// profile change puts its user's entry in the transaction that bumps the
// version, and a drainer claims, delivers and deletes entries in batches.
// There is at most one entry per user.
type PingOutboxQueries interface {
	// PingOutboxPut creates the user's entry or updates it: Version becomes
	// max(stored, params.Version); Owner and LeaseUntil are replaced.
	PingOutboxPut(ctx context.Context, params PingOutboxPutParams) error
	// PingOutboxPutMany is PingOutboxPut for many users with one Owner and
	// LeaseUntil, in one statement (resyncs of thousands of users). A user
	// listed twice gets the larger Version. An empty entries is a no-op.
	PingOutboxPutMany(ctx context.Context, entries []PingOutboxEntry, owner string, leaseUntil time.Time) error
	// PingOutboxClaim takes up to Limit entries whose lease ended
	// (LeaseUntil <= Now), oldest lease first, sets their Owner and
	// LeaseUntil, and returns them in that order. On PostgreSQL concurrent
	// claimers never get the same entry (FOR UPDATE SKIP LOCKED: rows another
	// claimer's open transaction holds are skipped, not waited for); on
	// SQLite claims are serialized by the write lock.
	PingOutboxClaim(ctx context.Context, params PingOutboxClaimParams) ([]PingOutboxEntry, error)
	// PingOutboxDelete removes each entry whose stored Version <= the given
	// entry's Version (a change made since the claim keeps its entry, to be
	// delivered again) and returns how many were removed. Users without an
	// entry are ignored.
	PingOutboxDelete(ctx context.Context, entries []PingOutboxEntry) (int, error)
	// PingOutboxCount returns how many entries wait, claimed or not
	// (progress and metrics).
	PingOutboxCount(ctx context.Context) (int, error)
	// PingOutboxAnalyze refreshes the query planner's statistics of the
	// outbox (ANALYZE). A bulk queue calls it: the outbox is a queue, so
	// statistics from when it was nearly empty would plan the drain's
	// statements for a table of a few rows, a full scan per batch.
	PingOutboxAnalyze(ctx context.Context) error
	// PingOutboxOldest returns when the oldest change still waiting in the
	// outbox was queued (the database's clock at its first put; an update
	// keeps it), zero when the outbox is empty. The queue-age gauge uses it.
	PingOutboxOldest(ctx context.Context) (time.Time, error)
}
