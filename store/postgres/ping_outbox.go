package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

// Claims take at most this many rows, by default claimDefault.
const (
	claimDefault = 500
	claimMax     = 5000
)

// PingOutboxPut creates or updates the user's entry in one upsert. A zero
// LeaseUntil is stored as is (0001-01-01), the earliest lease.
func (q queries) PingOutboxPut(ctx context.Context, params store.PingOutboxPutParams) error {
	if params.UserID == "" {
		return errors.New("postgres: ping outbox put: UserID is required")
	}
	_, err := q.db.Exec(ctx,
		`INSERT INTO ping_outbox AS o (user_id, version, owner, lease_until) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (user_id) DO UPDATE SET
		     version = GREATEST(o.version, EXCLUDED.version),
		     owner = EXCLUDED.owner,
		     lease_until = EXCLUDED.lease_until`,
		params.UserID, params.Version, params.Owner, params.LeaseUntil)
	if err != nil {
		return wrap("ping outbox put", err)
	}
	return nil
}

// PingOutboxPutMany upserts every entry in one statement over unnest of two
// arrays. The input is grouped by user first (an upsert may not touch a row
// twice) and sorted, so concurrent batches lock rows in the same order.
func (q queries) PingOutboxPutMany(ctx context.Context, entries []store.PingOutboxEntry, owner string, leaseUntil time.Time) error {
	if len(entries) == 0 {
		return nil
	}
	ids, versions, err := outboxArrays(entries)
	if err != nil {
		return fmt.Errorf("postgres: ping outbox put many: %w", err)
	}
	_, err = q.db.Exec(ctx,
		`INSERT INTO ping_outbox AS o (user_id, version, owner, lease_until)
		 SELECT d.user_id, max(d.version), $3, $4
		 FROM unnest($1::text[], $2::bigint[]) AS d (user_id, version)
		 GROUP BY d.user_id ORDER BY d.user_id
		 ON CONFLICT (user_id) DO UPDATE SET
		     version = GREATEST(o.version, EXCLUDED.version),
		     owner = EXCLUDED.owner,
		     lease_until = EXCLUDED.lease_until`,
		ids, versions, owner, leaseUntil)
	if err != nil {
		return wrap("ping outbox put many", err)
	}
	return nil
}

// PingOutboxClaim locks the batch with FOR UPDATE SKIP LOCKED and moves its
// lease in the same statement. The update finds the locked rows by ctid
// (claimJoin). Rows another claimer holds are skipped; a
// row another claimer committed meanwhile is re-checked against
// lease_until <= Now, which its new lease no longer meets, so two claimers
// never return the same entry.
func (q queries) PingOutboxClaim(ctx context.Context, params store.PingOutboxClaimParams) ([]store.PingOutboxEntry, error) {
	if params.Now.IsZero() || params.LeaseUntil.IsZero() {
		return nil, errors.New("postgres: ping outbox claim: Now and LeaseUntil are required")
	}
	rows, err := q.db.Query(ctx,
		`WITH due AS (
		     SELECT ctid, user_id, lease_until FROM ping_outbox
		     WHERE lease_until <= $1
		     ORDER BY lease_until, user_id LIMIT $2
		     FOR UPDATE SKIP LOCKED
		 ), claimed AS (
		     UPDATE ping_outbox AS o SET owner = $3, lease_until = $4
		     FROM due WHERE o.ctid = due.ctid
		     RETURNING o.user_id, o.version, due.lease_until AS old_lease
		 )
		 SELECT user_id, version FROM claimed ORDER BY old_lease, user_id`,
		params.Now, clampLimit(params.Limit, claimDefault, claimMax), params.Owner, params.LeaseUntil)
	if err != nil {
		return nil, wrap("ping outbox claim", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[store.PingOutboxEntry])
	if err != nil {
		return nil, wrap("ping outbox claim", err)
	}
	return out, nil
}

// PingOutboxDelete deletes in one statement joining unnest of two arrays;
// only entries not newer than the delivered version go. The rows are
// locked first, in user id order, as every other writer of the outbox
// takes them (the webhook intake's batches, PingOutboxPutMany): a DELETE
// locks rows in its join's order, and two such orders deadlock. The
// version check is made under the lock (FOR UPDATE re-checks a row that
// changed while it waited), so the DELETE only takes what was locked.
func (q queries) PingOutboxDelete(ctx context.Context, entries []store.PingOutboxEntry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	ids, versions, err := outboxArrays(entries)
	if err != nil {
		return 0, fmt.Errorf("postgres: ping outbox delete: %w", err)
	}
	tag, err := q.db.Exec(ctx,
		`WITH d AS (
		     SELECT user_id, max(version) AS version
		     FROM unnest($1::text[], $2::bigint[]) AS d (user_id, version)
		     GROUP BY user_id
		 ), locked AS (
		     SELECT o.user_id FROM ping_outbox o JOIN d ON d.user_id = o.user_id
		     WHERE o.version <= d.version
		     ORDER BY o.user_id
		     FOR UPDATE OF o
		 )
		 DELETE FROM ping_outbox AS o
		 USING locked l
		 WHERE o.user_id = l.user_id`,
		ids, versions)
	if err != nil {
		return 0, wrap("ping outbox delete", err)
	}
	return int(tag.RowsAffected()), nil
}

// PingOutboxAnalyze runs ANALYZE on the outbox.
func (q queries) PingOutboxAnalyze(ctx context.Context) error {
	if _, err := q.db.Exec(ctx, `ANALYZE ping_outbox`); err != nil {
		return wrap("ping outbox analyze", err)
	}
	return nil
}

// PingOutboxCount counts every entry.
func (q queries) PingOutboxCount(ctx context.Context) (int, error) {
	var n int
	if err := q.db.QueryRow(ctx, `SELECT count(*) FROM ping_outbox`).Scan(&n); err != nil {
		return 0, wrap("ping outbox count", err)
	}
	return n, nil
}

// outboxArrays splits entries into the parallel arrays unnest takes; an
// empty user id is refused.
func outboxArrays(entries []store.PingOutboxEntry) ([]string, []int64, error) {
	ids := make([]string, len(entries))
	versions := make([]int64, len(entries))
	for i, e := range entries {
		if e.UserID == "" {
			return nil, nil, fmt.Errorf("entry %d: UserID is required", i)
		}
		ids[i], versions[i] = e.UserID, e.Version
	}
	return ids, versions, nil
}

// PingOutboxOldest returns the earliest queued_at, zero when empty.
func (q queries) PingOutboxOldest(ctx context.Context) (time.Time, error) {
	var at *time.Time
	if err := q.db.QueryRow(ctx, `SELECT min(queued_at) FROM ping_outbox`).Scan(&at); err != nil {
		return time.Time{}, wrap("ping outbox oldest", err)
	}
	if at == nil {
		return time.Time{}, nil
	}
	return *at, nil
}
