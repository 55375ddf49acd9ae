package sqlite

import (
	"context"
	"errors"

	"github.com/ssogate/ssogate/store"
)

// TimelineAppendMany appends each event in one transaction (statements on
// SQLite cost no round trip; the transaction is what a batch saves).
func (q queries) TimelineAppendMany(ctx context.Context, events []*store.TimelineEvent) error {
	for _, e := range events {
		if e.UserID == "" || e.Kind == "" {
			return errors.New("sqlite: append timeline: UserID and Kind are required")
		}
	}
	return q.atomic(ctx, func(db querier) error {
		tq := queries{db: db, read: db, store: q.store}
		for _, e := range events {
			if _, err := tq.TimelineAppend(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// ProfileMarkServedMany marks each entry served in one transaction,
// skipping unknown users.
func (q queries) ProfileMarkServedMany(ctx context.Context, served []store.ProfileServed) error {
	return q.atomic(ctx, func(db querier) error {
		tq := queries{db: db, read: db, store: q.store}
		for _, s := range served {
			if err := tq.ProfileMarkServed(ctx, s.UserID, s.Version, s.At); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}
