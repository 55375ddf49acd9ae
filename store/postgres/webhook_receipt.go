package postgres

import (
	"context"
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

// WebhookAccept is WebhookAcceptMany of one webhook: the same statement,
// so that a receipt that conflicts (DO NOTHING) leaves the timeline event
// and the outbox entry unwritten too.
func (q queries) WebhookAccept(ctx context.Context, params store.WebhookAcceptParams) error {
	return q.WebhookAcceptMany(ctx, []store.WebhookAcceptParams{params})
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
