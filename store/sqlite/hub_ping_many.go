package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/ssogate/ssogate/store"
)

// RemoteProfilePingMany runs RemoteProfilePing's statement for each ping in
// one transaction (the caller's, or its own): SQLite's one writer holds
// the write lock for the whole transaction anyway, and the statements are
// calls into the library, not round trips to a server.
func (q queries) RemoteProfilePingMany(ctx context.Context, pings []store.RemoteProfileTouchParams) ([]int64, error) {
	if len(pings) == 0 {
		return nil, nil
	}
	for _, p := range pings {
		if p.Network == "" || p.UserID == "" {
			return nil, errors.New("sqlite: remote profile ping many: Network and UserID are required")
		}
	}
	seqs := make([]int64, len(pings))
	err := q.atomic(ctx, func(db querier) error {
		for i, p := range pings {
			if err := db.QueryRowContext(ctx, remoteProfileTouchSQL+`ping_seq`, touchArgs(p)...).Scan(&seqs[i]); err != nil {
				return mapError(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: remote profile ping many: %w", err)
	}
	return seqs, nil
}
