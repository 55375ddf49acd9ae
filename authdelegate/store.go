package authdelegate

import (
	"context"
	"time"

	"github.com/ssogate/ssogate/store"
)

// Store is what the delegate uses of the storage contract outside a
// transaction; store/sqlite and store/postgres satisfy it (cmd/ssogate
// checks that at compile time). Inside InTx it works with store.Tx, the
// type ProfileChangedFunc and SessionEndedFunc share with pingpull.
type Store interface {
	store.OneTimeQueries

	ProfileGet(ctx context.Context, userID string) (*store.Profile, error)
	SessionGet(ctx context.Context, id string) (*store.Session, error)
	SessionTouch(ctx context.Context, params store.SessionTouchParams) error
	SessionRefresh(ctx context.Context, params store.SessionRefreshParams) error
	SessionDeleteEnded(ctx context.Context, t time.Time) (int, error)

	// Listen follows the live-event channel for the event fan-out.
	Listen(ctx context.Context, channel string) (store.Subscription, error)
	InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error
}
