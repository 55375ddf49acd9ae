package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/store"
)

// OneTimeCreate stores value; store.ErrConflict when (Kind, Key) exists and
// has not expired by the wall clock. An expired one is replaced in the same
// statement.
func (q queries) OneTimeCreate(ctx context.Context, value *store.OneTime) error {
	if value.Kind == "" || value.Key == "" {
		return errors.New("sqlite: create one-time value: Kind and Key are required")
	}
	v := value.Value
	if v == nil {
		v = []byte{}
	}
	res, err := q.db.ExecContext(ctx,
		`INSERT INTO one_time (kind, key, value, expires_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
		 WHERE one_time.expires_at < ?`,
		value.Kind, value.Key, v, micros(value.ExpiresAt), micros(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlite: create one-time value: %w", mapError(err))
	}
	n, err := rowsAffected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: create one-time value: %w", store.ErrConflict)
	}
	return nil
}

// OneTimeConsume deletes and returns the value unless it expired before now.
func (q queries) OneTimeConsume(ctx context.Context, kind, key string, now time.Time) (*store.OneTime, error) {
	var (
		ot        = store.OneTime{Kind: kind, Key: key}
		expiresAt int64
	)
	err := q.db.QueryRowContext(ctx,
		`DELETE FROM one_time WHERE kind = ? AND key = ? AND expires_at >= ? RETURNING value, expires_at`,
		kind, key, micros(now)).Scan(&ot.Value, &expiresAt)
	if err != nil {
		return nil, fmt.Errorf("sqlite: consume one-time value: %w", mapError(err))
	}
	ot.ExpiresAt = fromMicros(expiresAt)
	return &ot, nil
}

// OneTimeDeleteExpired deletes values that expired before now.
func (q queries) OneTimeDeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM one_time WHERE expires_at < ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired one-time values: %w", mapError(err))
	}
	return rowsAffected(res)
}
