package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

// WebhookReceiptGetMany reads the receipts among ids in one statement.
func (q queries) WebhookReceiptGetMany(ctx context.Context, ids []string) (map[string]*store.WebhookReceipt, error) {
	out := make(map[string]*store.WebhookReceipt, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx,
		`SELECT id, status_code, body, created_at FROM webhook_receipt WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, wrap("webhook receipt get many", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r store.WebhookReceipt
		if err := rows.Scan(&r.ID, &r.StatusCode, &r.Body, &r.CreatedAt); err != nil {
			return nil, wrap("webhook receipt get many", err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out[r.ID] = &r
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("webhook receipt get many", err)
	}
	return out, nil
}

// ProfileLockMany reads and locks the rows in user id order: two batches
// with overlapping users then wait on each other instead of deadlocking.
func (q queries) ProfileLockMany(ctx context.Context, userIDs []string) (map[string]*store.Profile, error) {
	out := make(map[string]*store.Profile, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx,
		`SELECT `+profileColumns+` FROM profile WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE`, userIDs)
	if err != nil {
		return nil, wrap("profile lock many", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, wrap("profile lock many", err)
		}
		out[p.UserID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("profile lock many", err)
	}
	return out, nil
}

// ProfileWriteMany creates and replaces the rows in one statement. Creates
// use ON CONFLICT DO NOTHING and replacements check the version they read,
// so a row that moved under the caller shows as a short count, not as an
// error that would abort the transaction. Outside a transaction it runs in
// its own, so a conflict leaves nothing written.
func (q queries) ProfileWriteMany(ctx context.Context, writes []store.ProfileWrite) error {
	if len(writes) == 0 {
		return nil
	}
	if err := store.ValidateProfileWrites(writes); err != nil {
		return fmt.Errorf("postgres: profile write many: %w", err)
	}
	n := len(writes)
	var (
		users                          = make([]string, n)
		prevs                          = make([]*int64, n)
		versions                       = make([]int64, n)
		datas                          = make([][]byte, n)
		updatedAts, createdAts, modAts = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	)
	for i, w := range writes {
		users[i], versions[i], datas[i] = w.Next.UserID, w.Next.Version, []byte(w.Next.Data)
		if datas[i] == nil {
			datas[i] = []byte{}
		}
		updatedAts[i], createdAts[i], modAts[i] = w.Next.UpdatedAt, w.Next.CreatedAt, w.Next.ModifiedAt
		if w.Prev != nil {
			prevs[i] = &w.Prev.Version
		}
	}
	return q.inTx(ctx, func(tx pgx.Tx) error {
		var written int
		err := tx.QueryRow(ctx,
			`WITH w AS (
			     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[],
			         $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])
			         AS w(user_id, prev_version, version, data, updated_at, created_at, modified_at)
			 ), ins AS (
			     INSERT INTO profile (user_id, version, data, updated_at, created_at, modified_at)
			     SELECT user_id, version, data, updated_at, created_at, modified_at
			     FROM w WHERE prev_version IS NULL
			     ORDER BY user_id
			     ON CONFLICT (user_id) DO NOTHING
			     RETURNING 1
			 ), upd AS (
			     UPDATE profile p SET
			         version = w.version, data = w.data, updated_at = w.updated_at, modified_at = w.modified_at
			     FROM w
			     WHERE w.prev_version IS NOT NULL AND p.user_id = w.user_id AND p.version = w.prev_version
			     RETURNING 1
			 )
			 SELECT (SELECT count(*) FROM ins) + (SELECT count(*) FROM upd)`,
			users, prevs, versions, datas, updatedAts, createdAts, modAts).Scan(&written)
		if err != nil {
			return wrap("profile write many", err)
		}
		if written < n {
			return wrapConflict("profile write many")
		}
		return nil
	})
}

// WebhookAcceptMany is WebhookAccept over arrays, in one statement. The
// timeline events and pings are written only when every receipt was
// stored (a replay among them writes nothing but the other receipts, which
// the caller's rollback removes). Pings are reduced to one row per user
// (an upsert may not touch a row twice), the highest version's, and put in
// user id order so concurrent batches lock outbox rows in the same order.
// Outside a transaction it runs in its own, so a conflict leaves nothing
// written.
func (q queries) WebhookAcceptMany(ctx context.Context, accepts []store.WebhookAcceptParams) error {
	if len(accepts) == 0 {
		return nil
	}
	n := len(accepts)
	var (
		ids, users, kinds     = make([]string, n), make([]string, n), make([]string, n)
		statuses              = make([]int32, n)
		bodies, details       = make([][]byte, n), make([][]byte, n)
		createdAts, ats       = make([]time.Time, n), make([]time.Time, n)
		pingUsers, pingOwners []string
		pingVersions          []int64
		pingLeases            []time.Time
	)
	for i, a := range accepts {
		r, e := a.Receipt, a.Timeline
		if r == nil || e == nil {
			return fmt.Errorf("postgres: webhook accept many: accept %d: Receipt and Timeline are required", i)
		}
		if e.UserID == "" || e.Kind == "" {
			return fmt.Errorf("postgres: webhook accept many: accept %d: the timeline event's UserID and Kind are required", i)
		}
		ids[i], statuses[i], bodies[i], createdAts[i] = r.ID, int32(r.StatusCode), r.Body, r.CreatedAt //nolint:gosec // an HTTP status
		details[i] = []byte(e.Detail)
		if len(details[i]) == 0 {
			details[i] = []byte(`{}`)
		}
		users[i], kinds[i], ats[i] = e.UserID, e.Kind, e.At
		if p := a.Ping; p != nil {
			if p.UserID == "" {
				return fmt.Errorf("postgres: webhook accept many: accept %d: the ping's UserID is required", i)
			}
			pingUsers, pingVersions = append(pingUsers, p.UserID), append(pingVersions, p.Version)
			pingOwners, pingLeases = append(pingOwners, p.Owner), append(pingLeases, p.LeaseUntil)
		}
	}
	return q.inTx(ctx, func(tx pgx.Tx) error {
		var stored int
		err := tx.QueryRow(ctx,
			`WITH receipt AS (
			     INSERT INTO webhook_receipt (id, status_code, body, created_at)
			     SELECT id, status_code, body, created_at
			     FROM unnest($1::text[], $2::integer[], $3::bytea[], $4::timestamptz[]) AS r(id, status_code, body, created_at)
			     ORDER BY id
			     ON CONFLICT (id) DO NOTHING
			     RETURNING 1
			 ), event AS (
			     INSERT INTO timeline_event (user_id, kind, detail, at)
			     SELECT u, k, d, a FROM unnest($5::text[], $6::text[], $7::bytea[], $8::timestamptz[])
			         WITH ORDINALITY AS e(u, k, d, a, n)
			     WHERE (SELECT count(*) FROM receipt) = $13
			     ORDER BY n
			 ), outbox AS (
			     INSERT INTO ping_outbox AS o (user_id, version, owner, lease_until)
			     SELECT DISTINCT ON (user_id) user_id, version, owner, lease_until
			     FROM unnest($9::text[], $10::bigint[], $11::text[], $12::timestamptz[]) AS p(user_id, version, owner, lease_until)
			     WHERE (SELECT count(*) FROM receipt) = $13
			     ORDER BY user_id, version DESC
			     ON CONFLICT (user_id) DO UPDATE SET
			         version = GREATEST(o.version, EXCLUDED.version),
			         owner = EXCLUDED.owner,
			         lease_until = EXCLUDED.lease_until
			 )
			 SELECT count(*) FROM receipt`,
			ids, statuses, bodies, createdAts,
			users, kinds, details, ats,
			pingUsers, pingVersions, pingOwners, pingLeases, n).Scan(&stored)
		if err != nil {
			return wrap("webhook accept many", err)
		}
		if stored < n {
			return wrapConflict("webhook accept many")
		}
		return nil
	})
}
