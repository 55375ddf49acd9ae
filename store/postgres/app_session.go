package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// AppSessionRevoke moves the user's "sessions valid after" instant to at,
// never back, and returns the instant stored.
func (q queries) AppSessionRevoke(ctx context.Context, network, userID string, at time.Time) (time.Time, error) {
	if network == "" || userID == "" || at.IsZero() {
		return time.Time{}, errors.New("postgres: app session revoke: network, user id and time are required")
	}
	var stored time.Time
	err := q.db.QueryRow(ctx,
		`INSERT INTO hub_app_session_revocation AS r (network, user_id, valid_after) VALUES ($1, $2, $3)
		 ON CONFLICT (network, user_id) DO UPDATE SET valid_after = GREATEST(r.valid_after, EXCLUDED.valid_after)
		 RETURNING valid_after`,
		network, userID, at.Truncate(time.Microsecond).UTC()).Scan(&stored)
	if err != nil {
		return time.Time{}, wrap("app session revoke", err)
	}
	return stored.UTC(), nil
}

// AppSessionValidAfter returns the user's "sessions valid after" instant,
// the zero time when none is stored.
func (q queries) AppSessionValidAfter(ctx context.Context, network, userID string) (time.Time, error) {
	var stored time.Time
	err := q.db.QueryRow(ctx,
		`SELECT valid_after FROM hub_app_session_revocation WHERE network = $1 AND user_id = $2`, network, userID).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, wrap("app session valid after", err)
	}
	return stored.UTC(), nil
}
