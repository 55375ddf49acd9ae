package hub

import (
	"context"
	"time"

	"github.com/ssogate/ssogate/store"
)

// Store is what the hub uses of the storage contract outside a
// transaction; store/sqlite and store/postgres satisfy it (cmd/ssogate
// checks that at compile time). Inside InTx it works with store.Tx.
type Store interface {
	store.CollectionQueries

	PullURLSet(ctx context.Context, pullURL *store.PullURL) error
	PullURLGet(ctx context.Context, network string) (*store.PullURL, error)
	RemoteProfileTouch(ctx context.Context, params store.RemoteProfileTouchParams) (*store.RemoteProfile, error)
	// The pull leases of the fast path (pull_drain.go).
	RemoteProfileClaimPulls(ctx context.Context, params store.RemoteProfileClaimParams) ([]store.RemoteProfilePullClaim, error)
	RemoteProfileLeasePull(ctx context.Context, network, userID string, until time.Time) error
	// The pending pulls' gauges.
	RemoteProfilePendingCount(ctx context.Context) (int, error)
	RemoteProfileOldestPending(ctx context.Context, leaseBefore time.Time) (time.Time, error)
	RemoteProfileRecordPullError(ctx context.Context, network, userID, result string, at time.Time) error
	RemoteProfileGet(ctx context.Context, network, userID string) (*store.RemoteProfile, error)
	RemoteProfileGetMany(ctx context.Context, network string, userIDs []string) (map[string]*store.RemoteProfile, error)
	RemoteProfileList(ctx context.Context, params store.RemoteProfileListParams) ([]*store.RemoteProfile, int, error)
	AppSessionRevoke(ctx context.Context, network, userID string, at time.Time) (time.Time, error)
	AppSessionValidAfter(ctx context.Context, network, userID string) (time.Time, error)
	CommentCreate(ctx context.Context, comment *store.Comment) (*store.Comment, error)
	CommentList(ctx context.Context, params store.CommentListParams) ([]*store.Comment, error)

	// Listen follows the update channel for the update streams.
	Listen(ctx context.Context, channel string) (store.Subscription, error)
	InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error
	Jobs() store.JobClient
}
