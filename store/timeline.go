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

// TimelineQueries append to and read the per-user timeline.
type TimelineQueries interface {
	// TimelineAppend stores event (ID is ignored) and returns it with its ID.
	TimelineAppend(ctx context.Context, event *TimelineEvent) (*TimelineEvent, error)
	// TimelineList returns events newest first.
	TimelineList(ctx context.Context, params TimelineListParams) ([]*TimelineEvent, error)
}
