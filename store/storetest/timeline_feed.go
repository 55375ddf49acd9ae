package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testTimelineFeed(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"LastID", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			last, err := s.TimelineLastID(ctx)
			require.NoError(t, err)
			require.Zero(t, last, "empty timeline")
			appendEvent(t, s, "ann", "a", at(0))
			b := appendEvent(t, s, "bob", "b", at(0))
			last, err = s.TimelineLastID(ctx)
			require.NoError(t, err)
			require.Equal(t, b.ID, last)
		}},
		{"AfterEveryUserOldestFirst", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			a := appendEvent(t, s, "ann", "ping.requested", at(0))
			b := appendEvent(t, s, "bob", "webhook.accepted", at(0))
			c := appendEvent(t, s, "bob", "ping.attempt", at(0))
			d := appendEvent(t, s, "ann", "pull.served", at(0))

			got, err := s.TimelineAfter(ctx, store.TimelineAfterParams{})
			require.NoError(t, err)
			require.Equal(t, []int64{a.ID, b.ID, c.ID, d.ID}, eventIDs(got), "every kind, oldest first")
			require.Equal(t, "bob", got[1].UserID)
			require.Equal(t, "webhook.accepted", got[1].Kind)
			require.JSONEq(t, `{"k":"webhook.accepted"}`, string(got[1].Detail))
			requireTime(t, at(0), got[1].At)

			got, err = s.TimelineAfter(ctx, store.TimelineAfterParams{After: a.ID})
			require.NoError(t, err)
			require.Equal(t, []int64{b.ID, c.ID, d.ID}, eventIDs(got), "strictly after")

			got, err = s.TimelineAfter(ctx, store.TimelineAfterParams{Kinds: []string{"ping.attempt", "pull.served", "ping.requested"}})
			require.NoError(t, err)
			require.Equal(t, []int64{a.ID, c.ID, d.ID}, eventIDs(got), "only the kinds asked for")

			got, err = s.TimelineAfter(ctx, store.TimelineAfterParams{After: d.ID})
			require.NoError(t, err)
			require.Empty(t, got)
		}},
		{"AfterPaging", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			var want []int64
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for i := range 5003 {
					kind := "ping.attempt"
					if i%3 == 0 {
						kind = "noise"
					}
					e, err := tx.TimelineAppend(ctx, &store.TimelineEvent{UserID: "ann", Kind: kind, Detail: json.RawMessage(`{}`), At: at(0)})
					if err != nil {
						return err
					}
					if kind != "noise" {
						want = append(want, e.ID)
					}
				}
				return nil
			}))
			got, err := s.TimelineAfter(ctx, store.TimelineAfterParams{Kinds: []string{"ping.attempt"}})
			require.NoError(t, err)
			require.Len(t, got, 100, "default limit")
			var ids []int64
			after := int64(0)
			for {
				page, err := s.TimelineAfter(ctx, store.TimelineAfterParams{After: after, Kinds: []string{"ping.attempt"}, Limit: 9999})
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), 5000, "maximum limit")
				if len(page) == 0 {
					break
				}
				ids = append(ids, eventIDs(page)...)
				after = page[len(page)-1].ID
			}
			require.Equal(t, want, ids)
		}},
		{"ByIDs", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			a := appendEvent(t, s, "ann", "ping.requested", at(0))
			b := appendEvent(t, s, "bob", "webhook.accepted", at(time.Second))
			c := appendEvent(t, s, "ann", "pull.served", at(0))

			got, err := s.TimelineByIDs(ctx, []int64{c.ID, c.ID + 1000, a.ID, b.ID})
			require.NoError(t, err)
			require.Equal(t, []int64{a.ID, b.ID, c.ID}, eventIDs(got), "any kind, oldest first, unknown left out")
			require.Equal(t, "bob", got[1].UserID)
			require.Equal(t, "webhook.accepted", got[1].Kind)
			requireTime(t, at(time.Second), got[1].At)

			got, err = s.TimelineByIDs(ctx, nil)
			require.NoError(t, err)
			require.Empty(t, got)

			_, err = s.TimelineByIDs(ctx, make([]int64, store.TimelineByIDsMax+1))
			require.Error(t, err, "more than TimelineByIDsMax ids")
		}},
		{"FeedInTx", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			before := appendEvent(t, s, "ann", "a", at(0))
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				e := appendEvent(t, tx, "ann", "b", at(0))
				last, err := tx.TimelineLastID(ctx)
				require.NoError(t, err)
				require.Equal(t, e.ID, last, "a transaction sees its own event")
				got, err := tx.TimelineAfter(ctx, store.TimelineAfterParams{After: before.ID})
				require.NoError(t, err)
				require.Equal(t, []int64{e.ID}, eventIDs(got))
				got, err = tx.TimelineByIDs(ctx, []int64{e.ID})
				require.NoError(t, err)
				require.Equal(t, []int64{e.ID}, eventIDs(got))
				return nil
			}))
		}},
	})
}
