package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testBatch(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"TimelineAppendMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.TimelineAppendMany(ctx, nil))
			first, err := s.TimelineAppend(ctx, &store.TimelineEvent{UserID: "ann", Kind: "k.before", Detail: json.RawMessage(`{}`), At: at(0)})
			require.NoError(t, err)
			var events []*store.TimelineEvent
			for i := range 6 {
				user := []string{"ann", "bob"}[i%2]
				events = append(events, &store.TimelineEvent{UserID: user, Kind: fmt.Sprintf("k.%d", i),
					Detail: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), At: at(time.Duration(i) * time.Second)})
			}
			require.NoError(t, s.TimelineAppendMany(ctx, events))
			for _, user := range []string{"ann", "bob"} {
				got, err := s.TimelineList(ctx, store.TimelineListParams{UserID: user})
				require.NoError(t, err)
				var kinds []string
				lastID := int64(1 << 62)
				for _, e := range got {
					kinds = append(kinds, e.Kind)
					require.Less(t, e.ID, lastID, "newest first, IDs in insertion order")
					lastID = e.ID
				}
				if user == "ann" {
					require.Equal(t, []string{"k.4", "k.2", "k.0", "k.before"}, kinds)
					require.Greater(t, got[2].ID, first.ID)
					require.JSONEq(t, `{"i":4}`, string(got[0].Detail))
					requireTime(t, at(4*time.Second), got[0].At)
				} else {
					require.Equal(t, []string{"k.5", "k.3", "k.1"}, kinds)
				}
			}
			// One bad event fails the call and writes nothing.
			err = s.TimelineAppendMany(ctx, []*store.TimelineEvent{
				{UserID: "cy", Kind: "k.ok", At: at(0)}, {UserID: "cy", At: at(0)},
			})
			require.Error(t, err)
			got, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "cy"})
			require.NoError(t, err)
			require.Empty(t, got)
		}},
		{"ProfileMarkServedMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.ProfileMarkServedMany(ctx, nil))
			for _, u := range []string{"ann", "bob"} {
				for n := 1; n <= 3; n++ {
					upsertProfile(t, s, u, fmt.Sprintf(`{"n":%d}`, n), at(0), at(0))
				}
			}
			require.NoError(t, s.ProfileMarkServed(ctx, "bob", 3, at(time.Minute)))
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				return tx.ProfileMarkServedMany(ctx, []store.ProfileServed{
					{UserID: "ann", Version: 1, At: at(2 * time.Minute)},
					{UserID: "nobody", Version: 1, At: at(2 * time.Minute)},
					{UserID: "ann", Version: 2, At: at(3 * time.Minute)},
					{UserID: "bob", Version: 2, At: at(3 * time.Minute)},
				})
			}))
			ann, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(2), ann.ServedVersion, "the highest of the batch")
			requireTime(t, at(3*time.Minute), ann.ServedAt)
			bob, err := s.ProfileGet(ctx, "bob")
			require.NoError(t, err)
			require.Equal(t, int64(3), bob.ServedVersion, "never backwards")
			requireTime(t, at(time.Minute), bob.ServedAt)
			_, err = s.ProfileGet(ctx, "nobody")
			require.ErrorIs(t, err, store.ErrNotFound, "no row is created")
		}},
		{"ProfileMarkServedManyConcurrent", func(t *testing.T, s store.Store) {
			// Replicas mark overlapping batches in opposite orders at once:
			// none deadlocks, and every user ends at the highest version.
			ctx := ctxFor(t)
			const users = 20
			ids := make([]string, users)
			for i := range ids {
				ids[i] = fmt.Sprintf("u%02d", i)
				upsertProfile(t, s, ids[i], `{"n":1}`, at(0), at(0))
			}
			const workers = 4
			errs := make(chan error, workers*users)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for v := int64(1); v <= 5; v++ {
						batch := make([]store.ProfileServed, users)
						for i := range batch {
							u := ids[i]
							if w%2 == 1 {
								u = ids[users-1-i]
							}
							batch[i] = store.ProfileServed{UserID: u, Version: v, At: at(time.Duration(v) * time.Second)}
						}
						errs <- s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
							return tx.ProfileMarkServedMany(ctx, batch)
						})
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			for _, u := range ids {
				p, err := s.ProfileGet(ctx, u)
				require.NoError(t, err)
				require.Equal(t, int64(5), p.ServedVersion)
			}
		}},
	})
}
