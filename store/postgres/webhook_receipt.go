package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/ssogate/ssogate/store"
)

// WebhookReceiptCreate returns store.ErrConflict when the id is stored. It
// uses ON CONFLICT DO NOTHING rather than a failing INSERT so that a caller's
// transaction stays usable after a conflict.
func (q queries) WebhookReceiptCreate(ctx context.Context, receipt *store.WebhookReceipt) error {
	tag, err := q.db.Exec(ctx,
		`INSERT INTO webhook_receipt (id, status_code, body, created_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (id) DO NOTHING`,
		receipt.ID, receipt.StatusCode, receipt.Body, receipt.CreatedAt)
	if err != nil {
		return wrap("webhook receipt create", err)
	}
	if tag.RowsAffected() == 0 {
		return wrapConflict("webhook receipt create")
	}
	return nil
}

// WebhookAccept writes the receipt, the timeline event and the outbox entry
// in one statement: the later inserts read the receipt's RETURNING, so a
// receipt that conflicts (DO NOTHING) leaves them unwritten too.
func (q queries) WebhookAccept(ctx context.Context, params store.WebhookAcceptParams) error {
	r, e := params.Receipt, params.Timeline
	if r == nil || e == nil {
		return errors.New("postgres: webhook accept: Receipt and Timeline are required")
	}
	if e.UserID == "" || e.Kind == "" {
		return errors.New("postgres: webhook accept: the timeline event's UserID and Kind are required")
	}
	detail := []byte(e.Detail)
	if len(detail) == 0 {
		detail = []byte(`{}`)
	}
	var ping store.PingOutboxPutParams
	if params.Ping != nil {
		if params.Ping.UserID == "" {
			return errors.New("postgres: webhook accept: the ping's UserID is required")
		}
		ping = *params.Ping
	}
	var stored int
	err := q.db.QueryRow(ctx,
		`WITH receipt AS (
		     INSERT INTO webhook_receipt (id, status_code, body, created_at) VALUES ($1, $2, $3, $4)
		     ON CONFLICT (id) DO NOTHING
		     RETURNING 1
		 ), event AS (
		     INSERT INTO timeline_event (user_id, kind, detail, at)
		     SELECT $5::text, $6::text, $7::bytea, $8::timestamptz FROM receipt
		 ), outbox AS (
		     INSERT INTO ping_outbox AS o (user_id, version, owner, lease_until)
		     SELECT $9::text, $10::bigint, $11::text, $12::timestamptz FROM receipt WHERE $13::boolean
		     ON CONFLICT (user_id) DO UPDATE SET
		         version = GREATEST(o.version, EXCLUDED.version),
		         owner = EXCLUDED.owner,
		         lease_until = EXCLUDED.lease_until
		 )
		 SELECT count(*) FROM receipt`,
		r.ID, r.StatusCode, r.Body, r.CreatedAt,
		e.UserID, e.Kind, detail, e.At,
		ping.UserID, ping.Version, ping.Owner, ping.LeaseUntil, params.Ping != nil).Scan(&stored)
	if err != nil {
		return wrap("webhook accept", err)
	}
	if stored == 0 {
		return wrapConflict("webhook accept")
	}
	return nil
}

// WebhookReceiptGet returns store.ErrNotFound when the id is unknown.
func (q queries) WebhookReceiptGet(ctx context.Context, id string) (*store.WebhookReceipt, error) {
	var r store.WebhookReceipt
	err := q.db.QueryRow(ctx,
		`SELECT id, status_code, body, created_at FROM webhook_receipt WHERE id = $1`, id).
		Scan(&r.ID, &r.StatusCode, &r.Body, &r.CreatedAt)
	if err != nil {
		return nil, wrap("webhook receipt get", err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// WebhookReceiptDeleteBefore deletes receipts created before t.
func (q queries) WebhookReceiptDeleteBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM webhook_receipt WHERE created_at < $1`, t)
	if err != nil {
		return 0, wrap("webhook receipt delete before", err)
	}
	return int(tag.RowsAffected()), nil
}
