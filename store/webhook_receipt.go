package store

import (
	"context"
	"time"
)

// WebhookReceipt remembers the answer given to one webhook id, so a replay
// gets the first answer and changes nothing.
type WebhookReceipt struct {
	// ID is the webhook-id header.
	ID string
	// StatusCode and Body are the HTTP answer that was given.
	StatusCode int
	Body       []byte
	CreatedAt  time.Time
}

// WebhookReceiptQueries store receipts for idempotency.
type WebhookReceiptQueries interface {
	// WebhookReceiptCreate returns ErrConflict when the id is already stored.
	WebhookReceiptCreate(ctx context.Context, receipt *WebhookReceipt) error
	// WebhookReceiptGet returns ErrNotFound when the id is unknown.
	WebhookReceiptGet(ctx context.Context, id string) (*WebhookReceipt, error)
	// WebhookReceiptDeleteBefore deletes receipts created before t and returns
	// how many went.
	WebhookReceiptDeleteBefore(ctx context.Context, t time.Time) (int, error)
}
