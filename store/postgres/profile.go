package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

const profileColumns = `user_id, version, data, updated_at, served_version, served_at, created_at, modified_at`

func scanProfile(row pgx.Row) (*store.Profile, error) {
	var (
		p        store.Profile
		servedAt *time.Time
	)
	if err := row.Scan(&p.UserID, &p.Version, &p.Data, &p.UpdatedAt, &p.ServedVersion, &servedAt, &p.CreatedAt, &p.ModifiedAt); err != nil {
		return nil, err
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	p.ServedAt = fromNullTime(servedAt)
	p.CreatedAt = p.CreatedAt.UTC()
	p.ModifiedAt = p.ModifiedAt.UTC()
	return &p, nil
}

// ProfileGet returns store.ErrNotFound when the user has no profile.
func (q queries) ProfileGet(ctx context.Context, userID string) (*store.Profile, error) {
	p, err := scanProfile(q.db.QueryRow(ctx, `SELECT `+profileColumns+` FROM profile WHERE user_id = $1`, userID))
	if err != nil {
		return nil, wrap("profile get", err)
	}
	return p, nil
}

// ProfileGetMany returns the profiles that exist among userIDs.
func (q queries) ProfileGetMany(ctx context.Context, userIDs []string) (map[string]*store.Profile, error) {
	out := make(map[string]*store.Profile, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx, `SELECT `+profileColumns+` FROM profile WHERE user_id = ANY($1)`, userIDs)
	if err != nil {
		return nil, wrap("profile get many", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, wrap("profile get many", err)
		}
		out[p.UserID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("profile get many", err)
	}
	return out, nil
}

// ProfileUpsert locks the row (SELECT … FOR UPDATE) and decides in one
// transaction: created when missing (INSERT … ON CONFLICT DO NOTHING; a
// concurrent creator makes us re-read the row it committed), stale when
// params.UpdatedAt is before the stored one, unchanged when Data is
// byte-identical (UpdatedAt moves forward, nothing else), else updated with
// Version+1. Concurrent writers on one user serialize on the row lock, so
// every change gets its own version.
func (q queries) ProfileUpsert(ctx context.Context, params store.ProfileUpsertParams) (*store.Profile, store.ProfileUpsertStatus, error) {
	if params.Now.IsZero() {
		return nil, "", errors.New("postgres: profile upsert: Now is required")
	}
	if params.UserID == "" {
		return nil, "", errors.New("postgres: profile upsert: UserID is required")
	}
	updatedAt := params.UpdatedAt
	if updatedAt.IsZero() {
		updatedAt = params.Now
	}
	// PostgreSQL keeps microseconds; compare what will be stored.
	updatedAt = updatedAt.Truncate(time.Microsecond)
	data := params.Data
	if data == nil {
		data = []byte{}
	}

	// One statement: lock the row (cur), then insert it (none yet), update
	// it (a newer or equal updated_at with other data, or only a newer
	// updated_at), or leave it (stale; unchanged at the same time), and
	// name which. A row created concurrently after cur found none makes the
	// insert do nothing and the statement return no row: run it again,
	// which then locks and compares that row.
	for range 2 {
		var status string
		var p store.Profile
		var servedAt *time.Time
		err := q.db.QueryRow(ctx, profileUpsertSQL, params.UserID, data, updatedAt, params.Now).Scan(
			&p.UserID, &p.Version, &p.Data, &p.UpdatedAt, &p.ServedVersion, &servedAt, &p.CreatedAt, &p.ModifiedAt, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, "", wrap("profile upsert", err)
		}
		p.UpdatedAt = p.UpdatedAt.UTC()
		p.ServedAt = fromNullTime(servedAt)
		p.CreatedAt = p.CreatedAt.UTC()
		p.ModifiedAt = p.ModifiedAt.UTC()
		return &p, store.ProfileUpsertStatus(status), nil
	}
	return nil, "", wrap("profile upsert", errors.New("profile row vanished during upsert"))
}

// profileUpsertSQL is ProfileUpsert's statement: $1 user_id, $2 data, $3
// updated_at, $4 now. It returns the profile's columns and the status.
var profileUpsertSQL = `WITH cur AS (
	SELECT ` + profileColumns + ` FROM profile WHERE user_id = $1::text FOR UPDATE
), ins AS (
	INSERT INTO profile (user_id, version, data, updated_at, created_at, modified_at)
	SELECT $1::text, 1, $2::bytea, $3::timestamptz, $4::timestamptz, $4::timestamptz
	WHERE NOT EXISTS (SELECT FROM cur)
	ON CONFLICT (user_id) DO NOTHING
	RETURNING ` + profileColumns + `, '` + string(store.ProfileCreated) + `'::text
), upd AS (
	UPDATE profile p SET
		version = CASE WHEN cur.data = $2::bytea THEN p.version ELSE p.version + 1 END,
		data = $2::bytea,
		updated_at = $3::timestamptz,
		modified_at = CASE WHEN cur.data = $2::bytea THEN p.modified_at ELSE $4::timestamptz END
	FROM cur
	WHERE p.user_id = cur.user_id AND $3::timestamptz >= cur.updated_at
	  AND NOT (cur.data = $2::bytea AND $3::timestamptz = cur.updated_at)
	RETURNING p.user_id, p.version, p.data, p.updated_at, p.served_version, p.served_at, p.created_at, p.modified_at,
		CASE WHEN cur.data = $2::bytea THEN '` + string(store.ProfileUnchanged) + `' ELSE '` + string(store.ProfileUpdated) + `' END
)
SELECT * FROM ins
UNION ALL SELECT * FROM upd
UNION ALL SELECT cur.*, CASE WHEN $3::timestamptz < cur.updated_at THEN '` + string(store.ProfileStale) + `' ELSE '` + string(store.ProfileUnchanged) + `' END
	FROM cur WHERE $3::timestamptz < cur.updated_at OR (cur.data = $2::bytea AND $3::timestamptz = cur.updated_at)`

// ProfileVersionForUpdate reads the version with SELECT … FOR UPDATE: inside
// InTx the row stays locked until the transaction ends.
func (q queries) ProfileVersionForUpdate(ctx context.Context, userID string) (int64, error) {
	var version int64
	err := q.db.QueryRow(ctx, `SELECT version FROM profile WHERE user_id = $1 FOR UPDATE`, userID).Scan(&version)
	if err != nil {
		return 0, wrap("profile version for update", err)
	}
	return version, nil
}

// ProfileMarkServed raises ServedVersion to version (never lowers it) and
// sets ServedAt when it does.
func (q queries) ProfileMarkServed(ctx context.Context, userID string, version int64, at time.Time) error {
	var exists bool
	err := q.db.QueryRow(ctx,
		`WITH upd AS (
		     UPDATE profile SET served_version = $2, served_at = $3
		     WHERE user_id = $1 AND served_version < $2
		     RETURNING 1
		 )
		 SELECT EXISTS (SELECT 1 FROM upd) OR EXISTS (SELECT 1 FROM profile WHERE user_id = $1)`,
		userID, version, nullTime(at)).Scan(&exists)
	if err != nil {
		return wrap("profile mark served", err)
	}
	if !exists {
		return wrap("profile mark served", pgx.ErrNoRows)
	}
	return nil
}

// ProfileList pages through profiles by user id (byte order).
func (q queries) ProfileList(ctx context.Context, params store.ProfileListParams) ([]*store.Profile, error) {
	rows, err := q.db.Query(ctx,
		`SELECT `+profileColumns+` FROM profile WHERE user_id > $1 ORDER BY user_id LIMIT $2`,
		params.After, clampLimit(params.Limit, 100, 1000))
	if err != nil {
		return nil, wrap("profile list", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Profile, error) { return scanProfile(row) })
	if err != nil {
		return nil, wrap("profile list", err)
	}
	return list, nil
}
