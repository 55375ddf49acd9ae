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

// WebhookAcceptParams are the writes that end an accepted webhook, after
// its profile upsert.
type WebhookAcceptParams struct {
	// Receipt is the answer given. Required.
	Receipt *WebhookReceipt
	// Timeline is the webhook's timeline event. Required.
	Timeline *TimelineEvent
	// Ping, when set, queues the user's ping (PingOutboxPut): the version
	// moved.
	Ping *PingOutboxPutParams
}

// WebhookReceiptQueries store receipts for idempotency.
type WebhookReceiptQueries interface {
	// WebhookAccept writes what WebhookReceiptCreate, TimelineAppend and,
	// when Ping is set, PingOutboxPut would, in one statement where the
	// backend can (one round trip per webhook instead of three). When the
	// receipt's id is already stored it returns ErrConflict and writes
	// nothing.
	WebhookAccept(ctx context.Context, params WebhookAcceptParams) error
	// WebhookReceiptCreate returns ErrConflict when the id is already stored.
	WebhookReceiptCreate(ctx context.Context, receipt *WebhookReceipt) error
	// WebhookReceiptGet returns ErrNotFound when the id is unknown.
	WebhookReceiptGet(ctx context.Context, id string) (*WebhookReceipt, error)
	// WebhookReceiptDeleteBefore deletes receipts created before t and returns
	// how many went.
	WebhookReceiptDeleteBefore(ctx context.Context, t time.Time) (int, error)
}
