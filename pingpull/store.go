package pingpull

import (
	"context"
	"time"

	"github.com/ssogate/ssogate/store"
)

// Store is what the gateway side of Ping for Pull uses of the storage
// contract outside a transaction; store/sqlite and store/postgres satisfy
// it (cmd/ssogate checks that at compile time). Inside InTx it works with
// the whole store.Tx, which the exported EnqueuePingTx and EnqueueLogoutTx
// share with authdelegate's callbacks.
type Store interface {
	store.TimelineQueries
	// The ping outbox: the sweeper's claims, and the gauges.
	store.PingOutboxQueries
	// Waiting pings run at once when the hub answers again.
	store.JobBringForward
	profileReader

	WebhookReceiptGet(ctx context.Context, id string) (*store.WebhookReceipt, error)
	WebhookReceiptDeleteBefore(ctx context.Context, t time.Time) (int, error)

	InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error
	Jobs() store.JobClient
}

// profileReader reads one profile, on the store or in a transaction.
type profileReader interface {
	ProfileGet(ctx context.Context, userID string) (*store.Profile, error)
	ProfileGetMany(ctx context.Context, userIDs []string) (map[string]*store.Profile, error)
}
