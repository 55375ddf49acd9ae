package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/store"
)

const profileColumns = `user_id, version, data, updated_at, served_version, served_at, created_at, modified_at`

func scanProfile(row rowScanner) (*store.Profile, error) {
	var (
		p                                store.Profile
		data                             string
		updatedAt, createdAt, modifiedAt int64
		servedAt                         sql.NullInt64
	)
	if err := row.Scan(&p.UserID, &p.Version, &data, &updatedAt, &p.ServedVersion, &servedAt, &createdAt, &modifiedAt); err != nil {
		return nil, mapError(err)
	}
	p.Data = json.RawMessage(data)
	p.UpdatedAt = fromMicros(updatedAt)
	p.ServedAt = fromNullMicros(servedAt)
	p.CreatedAt = fromMicros(createdAt)
	p.ModifiedAt = fromMicros(modifiedAt)
	return &p, nil
}

// ProfileGet returns store.ErrNotFound when the user has no profile.
func (q queries) ProfileGet(ctx context.Context, userID string) (*store.Profile, error) {
	p, err := profileGet(ctx, q.read, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get profile: %w", err)
	}
	return p, nil
}

// ProfileGetMany returns the profiles that exist among userIDs.
func (q queries) ProfileGetMany(ctx context.Context, userIDs []string) (map[string]*store.Profile, error) {
	out := make(map[string]*store.Profile, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(userIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get profiles: %w", err)
	}
	rows, err := q.read.QueryContext(ctx,
		`SELECT `+profileColumns+` FROM profile WHERE user_id IN (SELECT value FROM json_each(?))`, string(ids))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get profiles: %w", mapError(err))
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: get profiles: %w", err)
		}
		out[p.UserID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: get profiles: %w", mapError(err))
	}
	return out, nil
}

func profileGet(ctx context.Context, db querier, userID string) (*store.Profile, error) {
	return scanProfile(db.QueryRowContext(ctx, `SELECT `+profileColumns+` FROM profile WHERE user_id = ?`, userID))
}

// ProfileUpsert creates or updates the profile in one transaction.
func (q queries) ProfileUpsert(ctx context.Context, params store.ProfileUpsertParams) (*store.Profile, store.ProfileUpsertStatus, error) {
	var errs []error
	if params.UserID == "" {
		errs = append(errs, errors.New("UserID is required"))
	}
	if len(params.Data) == 0 {
		errs = append(errs, errors.New("Data is required"))
	}
	if params.Now.IsZero() {
		errs = append(errs, errors.New("Now is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, "", fmt.Errorf("sqlite: upsert profile: %w", err)
	}
	now := truncMicro(params.Now)
	updatedAt := truncMicro(params.UpdatedAt)
	if updatedAt.IsZero() {
		updatedAt = now
	}

	var (
		result *store.Profile
		status store.ProfileUpsertStatus
	)
	err := q.atomic(ctx, func(db querier) error {
		cur, err := profileGet(ctx, db, params.UserID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			result, err = scanProfile(db.QueryRowContext(ctx,
				`INSERT INTO profile (user_id, version, data, updated_at, served_version, served_at, created_at, modified_at)
				 VALUES (?, 1, ?, ?, 0, NULL, ?, ?) RETURNING `+profileColumns,
				params.UserID, string(params.Data), micros(updatedAt), micros(now), micros(now)))
			status = store.ProfileCreated
			return err
		case err != nil:
			return err
		case updatedAt.Before(cur.UpdatedAt):
			result, status = cur, store.ProfileStale
			return nil
		case bytes.Equal(cur.Data, params.Data):
			status = store.ProfileUnchanged
			if !updatedAt.After(cur.UpdatedAt) {
				result = cur
				return nil
			}
			result, err = scanProfile(db.QueryRowContext(ctx,
				`UPDATE profile SET updated_at = ? WHERE user_id = ? RETURNING `+profileColumns,
				micros(updatedAt), params.UserID))
			return err
		default:
			result, err = scanProfile(db.QueryRowContext(ctx,
				`UPDATE profile SET version = version + 1, data = ?, updated_at = ?, modified_at = ?
				 WHERE user_id = ? RETURNING `+profileColumns,
				string(params.Data), micros(updatedAt), micros(now), params.UserID))
			status = store.ProfileUpdated
			return err
		}
	})
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: upsert profile: %w", err)
	}
	return result, status, nil
}

// ProfileVersionForUpdate returns the current version. SQLite has no row
// locks; a transaction already holds the database's write lock.
func (q queries) ProfileVersionForUpdate(ctx context.Context, userID string) (int64, error) {
	var v int64
	if err := q.db.QueryRowContext(ctx, `SELECT version FROM profile WHERE user_id = ?`, userID).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: profile version: %w", mapError(err))
	}
	return v, nil
}

// ProfileMarkServed raises ServedVersion to version; never lowers it.
func (q queries) ProfileMarkServed(ctx context.Context, userID string, version int64, at time.Time) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE profile SET served_version = ?, served_at = ? WHERE user_id = ? AND served_version < ?`,
		version, micros(at), userID, version)
	if err != nil {
		return fmt.Errorf("sqlite: mark served: %w", mapError(err))
	}
	if n, err := rowsAffected(res); err != nil || n > 0 {
		return err
	}
	// Nothing raised: unknown user, or already served this far.
	var one int
	if err := q.db.QueryRowContext(ctx, `SELECT 1 FROM profile WHERE user_id = ?`, userID).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: mark served: %w", mapError(err))
	}
	return nil
}

// ProfileList pages through profiles by user id (byte order).
func (q queries) ProfileList(ctx context.Context, params store.ProfileListParams) ([]*store.Profile, error) {
	rows, err := q.read.QueryContext(ctx,
		`SELECT `+profileColumns+` FROM profile WHERE user_id > ? ORDER BY user_id LIMIT ?`,
		params.After, clampLimit(params.Limit, 100, 1000))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list profiles: %w", mapError(err))
	}
	defer rows.Close()
	var out []*store.Profile
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list profiles: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list profiles: %w", mapError(err))
	}
	return out, nil
}
