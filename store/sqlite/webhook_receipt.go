package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/store"
)

// WebhookReceiptCreate returns store.ErrConflict when the id is stored.
func (q queries) WebhookReceiptCreate(ctx context.Context, receipt *store.WebhookReceipt) error {
	body := receipt.Body
	if body == nil {
		body = []byte{}
	}
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO webhook_receipt (id, status_code, body, created_at) VALUES (?, ?, ?, ?)`,
		receipt.ID, receipt.StatusCode, body, micros(receipt.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create webhook receipt: %w", mapError(err))
	}
	return nil
}

// WebhookAccept runs the three writes in turn: in process, a statement
// costs no round trip. Callers run it in a transaction (the webhook's), so
// a conflict on the receipt, which comes first, leaves nothing written.
func (q queries) WebhookAccept(ctx context.Context, params store.WebhookAcceptParams) error {
	if params.Receipt == nil || params.Timeline == nil {
		return errors.New("sqlite: webhook accept: Receipt and Timeline are required")
	}
	if err := q.WebhookReceiptCreate(ctx, params.Receipt); err != nil {
		return err
	}
	if _, err := q.TimelineAppend(ctx, params.Timeline); err != nil {
		return err
	}
	if params.Ping != nil {
		return q.PingOutboxPut(ctx, *params.Ping)
	}
	return nil
}

// WebhookReceiptGet returns store.ErrNotFound when the id is unknown.
func (q queries) WebhookReceiptGet(ctx context.Context, id string) (*store.WebhookReceipt, error) {
	var (
		r         store.WebhookReceipt
		createdAt int64
	)
	err := q.read.QueryRowContext(ctx,
		`SELECT id, status_code, body, created_at FROM webhook_receipt WHERE id = ?`, id,
	).Scan(&r.ID, &r.StatusCode, &r.Body, &createdAt)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get webhook receipt: %w", mapError(err))
	}
	r.CreatedAt = fromMicros(createdAt)
	return &r, nil
}

// WebhookReceiptDeleteBefore deletes receipts created before t.
func (q queries) WebhookReceiptDeleteBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM webhook_receipt WHERE created_at < ?`, micros(t))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete webhook receipts: %w", mapError(err))
	}
	return rowsAffected(res)
}
