package store

import (
	"context"
	"encoding/json"
	"time"
)

// Profile is a gateway user's profile. Data holds the profile document as
// canonical JSON (the pingpull package owns its schema and canonical form);
// the store compares Data byte for byte to decide whether anything changed.
type Profile struct {
	UserID string
	// Version increases by one on every change and never goes down.
	Version int64
	// Data is the canonical JSON of the profile at Version.
	Data json.RawMessage
	// UpdatedAt is the source's time of the change (webhook updated_at, login
	// time); a change older than it is stale.
	UpdatedAt time.Time
	// ServedVersion is the highest version served to a pull (0: never).
	ServedVersion int64
	// ServedAt is when ServedVersion was served (zero: never).
	ServedAt  time.Time
	CreatedAt time.Time
	// ModifiedAt is when this row was last written by ProfileUpsert.
	ModifiedAt time.Time
}

// ProfileUpsertStatus says what ProfileUpsert did.
type ProfileUpsertStatus string

const (
	// ProfileCreated: no row existed; version 1 written.
	ProfileCreated ProfileUpsertStatus = "created"
	// ProfileUpdated: data changed; version bumped.
	ProfileUpdated ProfileUpsertStatus = "updated"
	// ProfileUnchanged: data identical; nothing written (UpdatedAt may move
	// forward).
	ProfileUnchanged ProfileUpsertStatus = "unchanged"
	// ProfileStale: UpdatedAt older than the stored UpdatedAt; nothing
	// written.
	ProfileStale ProfileUpsertStatus = "stale"
)

// ProfileUpsertParams are the inputs of ProfileUpsert.
type ProfileUpsertParams struct {
	UserID string
	Data   json.RawMessage
	// UpdatedAt is the source's time of the change. Zero means "now" (Now).
	UpdatedAt time.Time
	// Now is the current time, injected. Required.
	Now time.Time
}

// ProfileListParams pages through profiles ordered by user id.
type ProfileListParams struct {
	// After returns ids strictly greater than this one ("" from the start).
	After string
	// Limit defaults to 100, at most 1000.
	Limit int
}

// ProfileQueries are the gateway's profile reads and writes.
type ProfileQueries interface {
	// ProfileGet returns ErrNotFound when the user has no profile.
	ProfileGet(ctx context.Context, userID string) (*Profile, error)
	// ProfileGetMany returns the profiles that exist among userIDs, keyed by
	// user id, in one statement: the pull endpoint reads the profiles of
	// concurrent pulls together.
	ProfileGetMany(ctx context.Context, userIDs []string) (map[string]*Profile, error)
	// ProfileUpsert creates or updates a profile atomically: stale when
	// params.UpdatedAt is before the stored UpdatedAt, unchanged when Data is
	// byte-identical, otherwise Version+1. It returns the row as stored after
	// the call.
	ProfileUpsert(ctx context.Context, params ProfileUpsertParams) (*Profile, ProfileUpsertStatus, error)
	// ProfileVersionForUpdate returns the current version and, on PostgreSQL,
	// locks the row until the transaction ends (SELECT … FOR UPDATE). Used
	// inside InTx by coalescing ping jobs. ErrNotFound when missing.
	ProfileVersionForUpdate(ctx context.Context, userID string) (int64, error)
	// ProfileMarkServed records that version was served to a pull at at. It
	// never moves ServedVersion backwards. ErrNotFound when missing.
	ProfileMarkServed(ctx context.Context, userID string, version int64, at time.Time) error
	// ProfileList pages through profiles by user id.
	ProfileList(ctx context.Context, params ProfileListParams) ([]*Profile, error)
}
