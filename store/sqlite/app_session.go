package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AppSessionRevoke moves the user's "sessions valid after" instant to at,
// never back, and returns the instant stored.
func (q queries) AppSessionRevoke(ctx context.Context, network, userID string, at time.Time) (time.Time, error) {
	if network == "" || userID == "" || at.IsZero() {
		return time.Time{}, errors.New("sqlite: revoke app sessions: network, user id and time are required")
	}
	var stored int64
	err := q.db.QueryRowContext(ctx,
		`INSERT INTO app_session_revocation (network, user_id, valid_after) VALUES (?, ?, ?)
		 ON CONFLICT (network, user_id) DO UPDATE SET valid_after = max(valid_after, excluded.valid_after)
		 RETURNING valid_after`,
		network, userID, micros(at)).Scan(&stored)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: revoke app sessions: %w", mapError(err))
	}
	return fromMicros(stored), nil
}

// AppSessionValidAfter returns the user's "sessions valid after" instant,
// the zero time when none is stored.
func (q queries) AppSessionValidAfter(ctx context.Context, network, userID string) (time.Time, error) {
	var stored int64
	err := q.read.QueryRowContext(ctx,
		`SELECT valid_after FROM app_session_revocation WHERE network = ? AND user_id = ?`, network, userID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: read app session revocation: %w", mapError(err))
	}
	return fromMicros(stored), nil
}
