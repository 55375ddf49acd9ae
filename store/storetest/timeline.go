package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testTimeline(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"AppendAndList", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			first, err := s.TimelineAppend(ctx, &store.TimelineEvent{
				ID: 999, UserID: "ann", Kind: "webhook.accepted",
				Detail: json.RawMessage(`{"version":1,"status":202}`), At: at(0),
			})
			require.NoError(t, err)
			require.Positive(t, first.ID)
			require.Equal(t, "ann", first.UserID)
			require.Equal(t, "webhook.accepted", first.Kind)
			require.JSONEq(t, `{"version":1,"status":202}`, string(first.Detail))
			requireTime(t, at(0), first.At)

			second, err := s.TimelineAppend(ctx, &store.TimelineEvent{
				UserID: "ann", Kind: "ping.attempt", Detail: json.RawMessage(`{}`), At: at(time.Second),
			})
			require.NoError(t, err)
			require.Greater(t, second.ID, first.ID)

			got, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann"})
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Equal(t, second.ID, got[0].ID, "newest first")
			require.Equal(t, first.ID, got[1].ID)
			require.Equal(t, "webhook.accepted", got[1].Kind)
			require.JSONEq(t, `{"version":1,"status":202}`, string(got[1].Detail))
			requireTime(t, at(0), got[1].At)
		}},
		{"ListEmpty", func(t *testing.T, s store.Store) {
			got, err := s.TimelineList(ctxFor(t), store.TimelineListParams{UserID: "nobody"})
			require.NoError(t, err)
			require.Empty(t, got)
		}},
		{"OrderIsInsertionOrderNotTime", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			// Events may be appended with earlier times (clock skew between
			// replicas); the ID order wins.
			a := appendEvent(t, s, "ann", "a", at(time.Hour))
			b := appendEvent(t, s, "ann", "b", at(0))
			got, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann"})
			require.NoError(t, err)
			require.Equal(t, []int64{b.ID, a.ID}, eventIDs(got))
		}},
		{"PerUser", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			appendEvent(t, s, "ann", "a", at(0))
			bob := appendEvent(t, s, "bob", "b", at(0))
			appendEvent(t, s, "ann", "c", at(0))
			got, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "bob"})
			require.NoError(t, err)
			require.Equal(t, []int64{bob.ID}, eventIDs(got))
		}},
		{"Paging", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			var ids []int64
			for i := range 7 {
				ids = append(ids, appendEvent(t, s, "ann", fmt.Sprintf("k%d", i), at(time.Duration(i)*time.Second)).ID)
				appendEvent(t, s, "bob", "noise", at(0))
			}
			var pages [][]int64
			before := int64(0)
			for {
				got, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann", Before: before, Limit: 3})
				require.NoError(t, err)
				if len(got) == 0 {
					break
				}
				pages = append(pages, eventIDs(got))
				before = got[len(got)-1].ID
			}
			require.Equal(t, [][]int64{
				{ids[6], ids[5], ids[4]},
				{ids[3], ids[2], ids[1]},
				{ids[0]},
			}, pages)
		}},
		{"ListLimits", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for range 1001 {
					if _, err := tx.TimelineAppend(ctx, &store.TimelineEvent{
						UserID: "ann", Kind: "k", Detail: json.RawMessage(`{}`), At: at(0),
					}); err != nil {
						return err
					}
				}
				return nil
			}))
			got, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann"})
			require.NoError(t, err)
			require.Len(t, got, 100, "default limit")
			got, err = s.TimelineList(ctx, store.TimelineListParams{UserID: "ann", Limit: 5000})
			require.NoError(t, err)
			require.Len(t, got, 1000, "maximum limit")
		}},
	})
}

func appendEvent(t *testing.T, s store.Queries, userID, kind string, when time.Time) *store.TimelineEvent {
	t.Helper()
	e, err := s.TimelineAppend(ctxFor(t), &store.TimelineEvent{
		UserID: userID, Kind: kind, Detail: json.RawMessage(`{"k":"` + kind + `"}`), At: when,
	})
	require.NoError(t, err)
	return e
}

func eventIDs(es []*store.TimelineEvent) []int64 {
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}
