package store

import (
	"context"
	"time"
)

// ProfileServed records that Version of UserID's profile was served to a
// pull At.
type ProfileServed struct {
	UserID  string
	Version int64
	At      time.Time
}

// BatchQueries write many rows at once: the forms of TimelineAppend and
// ProfileMarkServed the drains use for a batch of outcomes, one statement
// each on PostgreSQL however many rows.
type BatchQueries interface {
	// TimelineAppendMany stores events in order (their IDs increase in that
	// order; the IDs are not returned). Every event needs UserID and Kind;
	// one without them fails the whole call.
	TimelineAppendMany(ctx context.Context, events []*TimelineEvent) error
	// ProfileMarkServedMany is ProfileMarkServed for each entry (a user
	// twice: the highest version counts), skipping unknown users. On
	// PostgreSQL the rows are locked in user id order.
	ProfileMarkServedMany(ctx context.Context, served []ProfileServed) error
}
