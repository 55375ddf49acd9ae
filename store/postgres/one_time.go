package postgres

import (
	"context"
	"time"

	"github.com/ssogate/ssogate/store"
)

// OneTimeCreate stores value; store.ErrConflict when (Kind, Key) exists and
// has not expired (the contract has no clock parameter here, so "expired"
// is judged against the process clock). An expired value is replaced.
func (q queries) OneTimeCreate(ctx context.Context, value *store.OneTime) error {
	tag, err := q.db.Exec(ctx,
		`INSERT INTO one_time AS o (kind, key, value, expires_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
		 WHERE o.expires_at < $5`,
		value.Kind, value.Key, value.Value, value.ExpiresAt, time.Now())
	if err != nil {
		return wrap("one time create", err)
	}
	if tag.RowsAffected() == 0 {
		return wrapConflict("one time create")
	}
	return nil
}

// OneTimeConsume deletes and returns the value (DELETE … RETURNING, so two
// concurrent consumers never both get it). store.ErrNotFound when missing,
// consumed, or expired before now.
func (q queries) OneTimeConsume(ctx context.Context, kind, key string, now time.Time) (*store.OneTime, error) {
	var v store.OneTime
	err := q.db.QueryRow(ctx,
		`DELETE FROM one_time WHERE kind = $1 AND key = $2 AND expires_at >= $3
		 RETURNING kind, key, value, expires_at`, kind, key, now).
		Scan(&v.Kind, &v.Key, &v.Value, &v.ExpiresAt)
	if err != nil {
		return nil, wrap("one time consume", err)
	}
	v.ExpiresAt = v.ExpiresAt.UTC()
	return &v, nil
}

// OneTimeDeleteExpired deletes values that expired before now.
func (q queries) OneTimeDeleteExpired(ctx context.Context, now time.Time) (int, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM one_time WHERE expires_at < $1`, now)
	if err != nil {
		return 0, wrap("one time delete expired", err)
	}
	return int(tag.RowsAffected()), nil
}
