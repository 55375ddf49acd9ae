package sqlite

import (
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
	out, err := profileGetMany(ctx, q.read, userIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get profiles: %w", err)
	}
	return out, nil
}

// profileGetMany reads the profiles among userIDs in one statement.
func profileGetMany(ctx context.Context, db querier, userIDs []string) (map[string]*store.Profile, error) {
	out := make(map[string]*store.Profile, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(userIDs)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx,
		`SELECT `+profileColumns+` FROM profile WHERE user_id IN (SELECT value FROM json_each(?))`, string(ids))
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, err
		}
		out[p.UserID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

func profileGet(ctx context.Context, db querier, userID string) (*store.Profile, error) {
	return scanProfile(db.QueryRowContext(ctx, `SELECT `+profileColumns+` FROM profile WHERE user_id = ?`, userID))
}

// ProfileUpsert reads the row and writes what store.ProfileDecide decides,
// in one transaction (whose write lock keeps the row still in between).
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

	var (
		result *store.Profile
		status store.ProfileUpsertStatus
	)
	err := q.atomic(ctx, func(db querier) error {
		cur, err := profileGet(ctx, db, params.UserID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		next, st, write := store.ProfileDecide(cur, params)
		status = st
		if !write {
			result = next
			return nil
		}
		result, err = profileWrite(ctx, db, store.ProfileWrite{Prev: cur, Next: next})
		return err
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
