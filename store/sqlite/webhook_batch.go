package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ssogate/ssogate/store"
)

// WebhookReceiptGetMany reads the receipts among ids in one statement.
func (q queries) WebhookReceiptGetMany(ctx context.Context, ids []string) (map[string]*store.WebhookReceipt, error) {
	out := make(map[string]*store.WebhookReceipt, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get webhook receipts: %w", err)
	}
	rows, err := q.read.QueryContext(ctx,
		`SELECT id, status_code, body, created_at FROM webhook_receipt WHERE id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get webhook receipts: %w", mapError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r         store.WebhookReceipt
			createdAt int64
		)
		if err := rows.Scan(&r.ID, &r.StatusCode, &r.Body, &createdAt); err != nil {
			return nil, fmt.Errorf("sqlite: get webhook receipts: %w", mapError(err))
		}
		r.CreatedAt = fromMicros(createdAt)
		out[r.ID] = &r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: get webhook receipts: %w", mapError(err))
	}
	return out, nil
}

// ProfileLockMany reads the profiles among userIDs. SQLite has no row
// locks; inside InTx the transaction already holds the write lock. It reads
// through the writer so that, outside a transaction, it sees what the
// writer last committed.
func (q queries) ProfileLockMany(ctx context.Context, userIDs []string) (map[string]*store.Profile, error) {
	out, err := profileGetMany(ctx, q.db, userIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock profiles: %w", err)
	}
	return out, nil
}

// ProfileWriteMany writes each row in turn in one transaction (statements
// cost no round trip in process). Outside InTx it opens its own, so a
// conflict leaves nothing written.
func (q queries) ProfileWriteMany(ctx context.Context, writes []store.ProfileWrite) error {
	if len(writes) == 0 {
		return nil
	}
	if err := store.ValidateProfileWrites(writes); err != nil {
		return fmt.Errorf("sqlite: write profiles: %w", err)
	}
	err := q.atomic(ctx, func(db querier) error {
		for _, w := range writes {
			if _, err := profileWrite(ctx, db, w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: write profiles: %w", err)
	}
	return nil
}

// profileWrite stores w.Next and returns the row as stored: an INSERT when
// w.Prev is nil (a row already there is a unique violation, ErrConflict),
// else an UPDATE of the row still at w.Prev.Version (none: ErrConflict).
// Served columns and created_at are never written by a replacement.
func profileWrite(ctx context.Context, db querier, w store.ProfileWrite) (*store.Profile, error) {
	n := w.Next
	if w.Prev == nil {
		return scanProfile(db.QueryRowContext(ctx,
			`INSERT INTO profile (user_id, version, data, updated_at, served_version, served_at, created_at, modified_at)
			 VALUES (?, ?, ?, ?, 0, NULL, ?, ?) RETURNING `+profileColumns,
			n.UserID, n.Version, string(n.Data), micros(n.UpdatedAt), micros(n.CreatedAt), micros(n.ModifiedAt)))
	}
	p, err := scanProfile(db.QueryRowContext(ctx,
		`UPDATE profile SET version = ?, data = ?, updated_at = ?, modified_at = ?
		 WHERE user_id = ? AND version = ? RETURNING `+profileColumns,
		n.Version, string(n.Data), micros(n.UpdatedAt), micros(n.ModifiedAt), n.UserID, w.Prev.Version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("profile %q is no longer at version %d: %w", n.UserID, w.Prev.Version, store.ErrConflict)
	}
	return p, err
}

// WebhookAcceptMany runs WebhookAccept for each webhook in order, in one
// transaction; the outbox upsert keeps the highest version of a user's
// pings by itself. Every input is checked before anything is written, and
// outside InTx a conflict rolls back the webhooks before it.
func (q queries) WebhookAcceptMany(ctx context.Context, accepts []store.WebhookAcceptParams) error {
	if len(accepts) == 0 {
		return nil
	}
	for i, a := range accepts {
		switch {
		case a.Receipt == nil || a.Timeline == nil:
			return fmt.Errorf("sqlite: webhook accept many: accept %d: Receipt and Timeline are required", i)
		case a.Timeline.UserID == "" || a.Timeline.Kind == "":
			return fmt.Errorf("sqlite: webhook accept many: accept %d: the timeline event's UserID and Kind are required", i)
		case a.Ping != nil && a.Ping.UserID == "":
			return fmt.Errorf("sqlite: webhook accept many: accept %d: the ping's UserID is required", i)
		}
	}
	return q.atomic(ctx, func(db querier) error {
		tq := queries{db: db, read: db, store: q.store}
		for _, a := range accepts {
			if err := tq.WebhookAccept(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
}
