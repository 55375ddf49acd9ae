package store

import (
	"context"
	"time"
)

// Job metadata keys that JobsBringForward reads and writes. Values are JSON
// numbers.
const (
	// JobMetaNotBefore is the earliest instant, in Unix milliseconds, a job
	// may run however it is brought forward: the end of a Retry-After the
	// job's target answered. A worker sets it with river.MetadataSet when
	// its attempt fails with one.
	JobMetaNotBefore = "ssogate_not_before_ms"
	// JobMetaBroughtForward is the job's attempt count when JobsBringForward
	// last made it available (the attempt that followed was brought
	// forward).
	JobMetaBroughtForward = "ssogate_brought_forward_attempt"
)

// JobsBringForwardParams selects the jobs JobsBringForward makes available.
type JobsBringForwardParams struct {
	// Kinds are the job kinds to bring forward. Required.
	Kinds []string
	// Now is compared with each job's JobMetaNotBefore. Required.
	Now time.Time
	// Limit is how many jobs one call moves at most; default 1000, at most
	// 10000.
	Limit int
}

// JobBringForward makes jobs that wait for a retry run now: when the hub
// that failed them answers again, the pings waiting on River's retry
// schedule (minutes to hours) need not wait for it.
type JobBringForward interface {
	// JobsBringForward makes up to Limit retryable jobs of Kinds whose retry
	// is still ahead (scheduled_at after the database's clock) available at
	// once, the oldest scheduled first, and returns how many it moved. The
	// attempt count is unchanged (River's JobRetry does the same for one
	// job). Left alone are:
	//   - a job whose JobMetaNotBefore is after Now (a Retry-After still
	//     running);
	//   - a job whose last attempt was itself brought forward
	//     (JobMetaBroughtForward = attempt - 1): one that failed again waits
	//     for its schedule once before it can be brought forward again, so
	//     that a target failing one job while it serves others does not use
	//     up that job's attempts in seconds;
	//   - a unique job whose unique states leave out retryable (made
	//     available it could collide with a newer job of the same key).
	// The moved jobs get JobMetaBroughtForward = their attempt count.
	JobsBringForward(ctx context.Context, params JobsBringForwardParams) (int, error)
}

// Bring-forward batches: default and maximum.
const (
	JobsBringForwardDefaultLimit = 1000
	JobsBringForwardMaxLimit     = 10000
)
