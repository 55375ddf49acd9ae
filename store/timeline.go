package store

import (
	"context"
	"encoding/json"
	"time"
)

// TimelineEvent is one step in a user's history: webhook accepted or
// refused, ping attempt, pull served, dead letter, re-login. The timeline is
// append-only.
type TimelineEvent struct {
	// ID is assigned by the store, increasing in insertion order.
	ID     int64
	UserID string
	// Kind is a short dotted name owned by the writer, e.g. "webhook.accepted",
	// "ping.attempt", "pull.served", "ping.dead_letter".
	Kind string
	// Detail is a JSON object with the step's facts (status, latency, reason).
	// It must never hold a token, secret or credential.
	Detail json.RawMessage
	At     time.Time
}

// TimelineListParams pages backwards through one user's timeline, newest
// first.
type TimelineListParams struct {
	UserID string
	// Before returns events with ID < Before (0: from the newest).
	Before int64
	// Limit defaults to 100, at most 1000.
	Limit int
}

// TimelineAfterParams reads the whole timeline forward, oldest first.
type TimelineAfterParams struct {
	// After returns events with ID > After.
	After int64
	// Kinds keeps only events of these kinds (empty: every kind).
	Kinds []string
	// Limit defaults to 100, at most 5000.
	Limit int
}

// TimelineByIDsMax is how many IDs one TimelineByIDs call takes.
const TimelineByIDsMax = 1000

// TimelineQueries append to and read the per-user timeline.
type TimelineQueries interface {
	// TimelineAppend stores event (ID is ignored) and returns it with its ID.
	TimelineAppend(ctx context.Context, event *TimelineEvent) (*TimelineEvent, error)
	// TimelineList returns events newest first.
	TimelineList(ctx context.Context, params TimelineListParams) ([]*TimelineEvent, error)
}

// TimelineFeedQueries read every user's timeline at once, in ID order: a
// follower (ssogate ping --wait) reads forward from where it was instead of
// once per user.
//
// IDs are assigned at insert and become visible at commit. On SQLite
// writers are serialized, so a reader always sees every ID up to the
// newest; on PostgreSQL they come from a sequence, so a reader may see ID
// N+1 committed before N (whose transaction commits later, or rolls back
// and leaves a hole for good). A follower that must not miss events
// remembers the IDs it skipped and re-checks them with TimelineByIDs for a
// while.
type TimelineFeedQueries interface {
	// TimelineLastID returns the newest visible event's ID (0: none).
	TimelineLastID(ctx context.Context) (int64, error)
	// TimelineAfter returns events with ID > params.After, oldest first.
	TimelineAfter(ctx context.Context, params TimelineAfterParams) ([]*TimelineEvent, error)
	// TimelineByIDs returns the visible events among ids (of any kind),
	// oldest first; unknown IDs are left out. At most TimelineByIDsMax ids.
	TimelineByIDs(ctx context.Context, ids []int64) ([]*TimelineEvent, error)
}
