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

// Claims take at most this many rows, by default claimDefault.
const (
	claimDefault = 500
	claimMax     = 5000
)

// PingOutboxPut creates or updates the user's entry in one upsert.
func (q queries) PingOutboxPut(ctx context.Context, params store.PingOutboxPutParams) error {
	if params.UserID == "" {
		return errors.New("sqlite: ping outbox put: UserID is required")
	}
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO ping_outbox (user_id, version, owner, lease_until, queued_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (user_id) DO UPDATE SET
		   version = max(ping_outbox.version, excluded.version),
		   owner = excluded.owner,
		   lease_until = excluded.lease_until`,
		params.UserID, params.Version, params.Owner, micros(params.LeaseUntil), micros(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlite: ping outbox put: %w", mapError(err))
	}
	return nil
}

// PingOutboxPutMany upserts every entry in one statement over a JSON array
// of [user_id, version] pairs. SQLite applies the upsert row by row, so a
// user listed twice keeps the larger version.
func (q queries) PingOutboxPutMany(ctx context.Context, entries []store.PingOutboxEntry, owner string, leaseUntil time.Time) error {
	if len(entries) == 0 {
		return nil
	}
	pairs, err := outboxPairs(entries)
	if err != nil {
		return fmt.Errorf("sqlite: ping outbox put many: %w", err)
	}
	// "WHERE true" keeps ON CONFLICT from parsing as a join constraint.
	_, err = q.db.ExecContext(ctx,
		`INSERT INTO ping_outbox (user_id, version, owner, lease_until, queued_at)
		 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, ?, ? FROM json_each(?) WHERE true
		 ON CONFLICT (user_id) DO UPDATE SET
		   version = max(ping_outbox.version, excluded.version),
		   owner = excluded.owner,
		   lease_until = excluded.lease_until`,
		owner, micros(leaseUntil), micros(time.Now()), pairs)
	if err != nil {
		return fmt.Errorf("sqlite: ping outbox put many: %w", mapError(err))
	}
	return nil
}

// PingOutboxClaim selects the batch and moves its lease in one transaction;
// the write lock taken at BEGIN serializes claimers.
func (q queries) PingOutboxClaim(ctx context.Context, params store.PingOutboxClaimParams) ([]store.PingOutboxEntry, error) {
	if params.Now.IsZero() || params.LeaseUntil.IsZero() {
		return nil, errors.New("sqlite: ping outbox claim: Now and LeaseUntil are required")
	}
	// A look on a read connection first: a claim that finds nothing takes
	// no write lock (the sweepers look often, and the write lock is shared
	// with every other writer, ssogate ping's batches included).
	if q.tx == nil {
		var one int
		err := q.read.QueryRowContext(ctx, `SELECT 1 FROM ping_outbox WHERE lease_until <= ? LIMIT 1`, micros(params.Now)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: ping outbox claim: %w", mapError(err))
		}
	}
	var out []store.PingOutboxEntry
	err := q.atomic(ctx, func(db querier) error {
		out = nil
		rows, err := db.QueryContext(ctx,
			`SELECT user_id, version FROM ping_outbox WHERE lease_until <= ?
			 ORDER BY lease_until, user_id LIMIT ?`,
			micros(params.Now), clampLimit(params.Limit, claimDefault, claimMax))
		if err != nil {
			return mapError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var e store.PingOutboxEntry
			if err := rows.Scan(&e.UserID, &e.Version); err != nil {
				return mapError(err)
			}
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return mapError(err)
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]string, len(out))
		for i, e := range out {
			ids[i] = e.UserID
		}
		idsJSON, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx,
			`UPDATE ping_outbox SET owner = ?, lease_until = ? WHERE user_id IN (SELECT value FROM json_each(?))`,
			params.Owner, micros(params.LeaseUntil), string(idsJSON))
		return mapError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: ping outbox claim: %w", err)
	}
	return out, nil
}

// PingOutboxDelete deletes in one statement: the JSON pairs join the
// primary key, and only entries not newer than the delivered version go.
func (q queries) PingOutboxDelete(ctx context.Context, entries []store.PingOutboxEntry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	pairs, err := outboxPairs(entries)
	if err != nil {
		return 0, fmt.Errorf("sqlite: ping outbox delete: %w", err)
	}
	res, err := q.db.ExecContext(ctx,
		`DELETE FROM ping_outbox WHERE rowid IN (
		   SELECT p.rowid FROM json_each(?) AS d
		   JOIN ping_outbox AS p ON p.user_id = json_extract(d.value, '$[0]')
		   WHERE p.version <= json_extract(d.value, '$[1]'))`,
		pairs)
	if err != nil {
		return 0, fmt.Errorf("sqlite: ping outbox delete: %w", mapError(err))
	}
	return rowsAffected(res)
}

// PingOutboxAnalyze runs ANALYZE on the outbox (SQLite's planner reads
// sqlite_stat1 too).
func (q queries) PingOutboxAnalyze(ctx context.Context) error {
	if _, err := q.db.ExecContext(ctx, `ANALYZE ping_outbox`); err != nil {
		return fmt.Errorf("sqlite: ping outbox analyze: %w", mapError(err))
	}
	return nil
}

// PingOutboxCount counts every entry.
func (q queries) PingOutboxCount(ctx context.Context) (int, error) {
	var n int
	if err := q.read.QueryRowContext(ctx, `SELECT count(*) FROM ping_outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: ping outbox count: %w", mapError(err))
	}
	return n, nil
}

// outboxPairs encodes entries as a JSON array of [user_id, version] for
// json_each; an empty user id is refused.
func outboxPairs(entries []store.PingOutboxEntry) (string, error) {
	pairs := make([][2]any, len(entries))
	for i, e := range entries {
		if e.UserID == "" {
			return "", fmt.Errorf("entry %d: UserID is required", i)
		}
		pairs[i] = [2]any{e.UserID, e.Version}
	}
	b, err := json.Marshal(pairs)
	return string(b), err
}

// PingOutboxOldest returns the earliest queued_at, zero when empty.
func (q queries) PingOutboxOldest(ctx context.Context) (time.Time, error) {
	var us sql.NullInt64
	if err := q.read.QueryRowContext(ctx, `SELECT min(queued_at) FROM ping_outbox`).Scan(&us); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: ping outbox oldest: %w", mapError(err))
	}
	if !us.Valid {
		return time.Time{}, nil
	}
	return time.UnixMicro(us.Int64).UTC(), nil
}
