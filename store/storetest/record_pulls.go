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

// pullStep is one step of the twin-network script of SameAsOneByOne: a
// ping (touch) for a user, or a round of pulls recorded together.
type pullStep struct {
	touch []string
	pulls []store.RemoteProfilePullParams
}

func testRecordPulls(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"SameAsOneByOne", func(t *testing.T, s store.Store) {
			// The same script on two networks: one records every round
			// one pull at a time, the other as one batch. Every row must
			// come out the same, and every answer too.
			ctx := ctxFor(t)
			ok := func(user string, seq int64, sec int, name string, changed ...string) store.RemoteProfilePullParams {
				data := json.RawMessage(fmt.Sprintf(`{"id":%q,"display_name":%q}`, user, name))
				return store.RemoteProfilePullParams{UserID: user, Seq: seq, At: at(time.Duration(sec) * time.Second),
					Status: store.RemoteProfileOK, Data: data, DisplayName: name, AvatarURL: "https://i.example/" + name,
					Changed: changed, Result: "ok"}
			}
			missing := func(user string, seq int64, sec int) store.RemoteProfilePullParams {
				return store.RemoteProfilePullParams{UserID: user, Seq: seq, At: at(time.Duration(sec) * time.Second),
					Status: store.RemoteProfileMissing, Result: "missing"}
			}
			script := []pullStep{
				{touch: []string{"ann", "bob", "cy", "dee", "ann"}},
				// ann answers ping 1 of 2 (still pending); bob, cy first pulls;
				// "nobody" has no row and is left out.
				{pulls: []store.RemoteProfilePullParams{
					ok("ann", 1, 1, "Ann", "display_name"), ok("bob", 1, 1, "Bob", "display_name"),
					missing("cy", 1, 1), ok("nobody", 1, 1, "X"),
				}},
				{touch: []string{"bob", "dee"}},
				// ann catches up; bob unchanged data; dee pulled at seq 2 of 2.
				{pulls: []store.RemoteProfilePullParams{
					ok("ann", 2, 2, "Ann 2", "display_name"), ok("bob", 2, 2, "Bob"), ok("dee", 2, 2, "Dee", "display_name", "image_url"),
				}},
				// Late, stale answers: never move anything back.
				{pulls: []store.RemoteProfilePullParams{
					missing("ann", 1, 3), ok("dee", 1, 3, "Old Dee"), ok("cy", 1, 3, "Cy", "display_name"),
				}},
				{touch: []string{"cy"}},
				{pulls: []store.RemoteProfilePullParams{missing("bob", 2, 4), ok("cy", 2, 4, "Cy 2", "display_name")}},
			}
			const single, batch = "one.example", "batch.example"
			for i, step := range script {
				for _, u := range step.touch {
					touch(t, s, single, u, at(time.Duration(i)*time.Second))
					touch(t, s, batch, u, at(time.Duration(i)*time.Second))
				}
				if len(step.pulls) == 0 {
					continue
				}
				var want []store.RemoteProfilePullRecorded
				for _, p := range step.pulls {
					p.Network = single
					row, changed, err := s.RemoteProfileRecordPull(ctx, p)
					if p.UserID == "nobody" {
						require.ErrorIs(t, err, store.ErrNotFound)
						continue
					}
					require.NoError(t, err)
					want = append(want, store.RemoteProfilePullRecorded{Profile: row, Changed: changed})
				}
				params := make([]store.RemoteProfilePullParams, len(step.pulls))
				for k, p := range step.pulls {
					p.Network = batch
					params[k] = p
				}
				var got []store.RemoteProfilePullRecorded
				require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					var err error
					got, err = tx.RemoteProfileRecordPulls(ctx, params)
					return err
				}))
				require.Len(t, got, len(want), "step %d", i)
				for k := range want {
					require.Equal(t, want[k].Changed, got[k].Changed, "step %d: %s changed", i, want[k].Profile.UserID)
					w := *want[k].Profile
					w.Network = batch
					requireRemoteProfile(t, &w, got[k].Profile)
				}
			}
			for _, u := range []string{"ann", "bob", "cy", "dee"} {
				a, err := s.RemoteProfileGet(ctx, single, u)
				require.NoError(t, err)
				b, err := s.RemoteProfileGet(ctx, batch, u)
				require.NoError(t, err)
				a.Network = batch
				requireRemoteProfile(t, a, b)
			}
		}},
		{"Edges", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			got, err := s.RemoteProfileRecordPulls(ctx, nil)
			require.NoError(t, err)
			require.Empty(t, got)

			touch(t, s, "n", "ann", at(0))
			p := store.RemoteProfilePullParams{Network: "n", UserID: "ann", Seq: 1, At: at(time.Second),
				Status: store.RemoteProfileMissing, Result: "missing"}
			_, err = s.RemoteProfileRecordPulls(ctx, []store.RemoteProfilePullParams{p, p})
			require.Error(t, err, "the same user twice in one batch")
			bad := p
			bad.Status = store.RemoteProfilePending
			_, err = s.RemoteProfileRecordPulls(ctx, []store.RemoteProfilePullParams{bad})
			require.Error(t, err, "status pending")
			row, err := s.RemoteProfileGet(ctx, "n", "ann")
			require.NoError(t, err)
			require.Equal(t, int64(0), row.PulledSeq, "a refused batch writes nothing")

			// Another network's row of the same user id is another row.
			touch(t, s, "m", "ann", at(0))
			q := p
			q.Network = "m"
			got, err = s.RemoteProfileRecordPulls(ctx, []store.RemoteProfilePullParams{q, p})
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Equal(t, "m", got[0].Profile.Network, "answers follow the order of params")
			require.Equal(t, "n", got[1].Profile.Network)
		}},
		{"GetManyForUpdate", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			touch(t, s, "n", "bob", at(0))
			touch(t, s, "n", "bob", at(time.Second))
			touch(t, s, "m", "cy", at(0))
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.RemoteProfileGetManyForUpdate(ctx, "n", []string{"bob", "ann", "cy", "nobody"})
				if err != nil {
					return err
				}
				require.Len(t, got, 2, "cy is another network's, nobody is unknown")
				require.Equal(t, int64(1), got["ann"].PingSeq)
				require.Equal(t, int64(2), got["bob"].PingSeq)
				none, err := tx.RemoteProfileGetManyForUpdate(ctx, "n", nil)
				require.NoError(t, err)
				require.Empty(t, none)
				return nil
			}))
		}},
		{"ConcurrentBatchesDoNotDeadlock", func(t *testing.T, s store.Store) {
			// Batches over the same users in opposite orders, each in a
			// transaction that first locks with GetManyForUpdate as the hub
			// does: the rows are locked in key order, so none deadlocks.
			ctx := ctxFor(t)
			const users = 20
			ids := make([]string, users)
			for i := range ids {
				ids[i] = fmt.Sprintf("u%02d", i)
				touch(t, s, "n", ids[i], at(0))
			}
			const workers, rounds = 4, 10
			errs := make(chan error, workers*rounds)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						order := make([]string, users)
						for i := range order {
							if (w+r)%2 == 0 {
								order[i] = ids[i]
							} else {
								order[i] = ids[users-1-i]
							}
						}
						errs <- s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
							if _, err := tx.RemoteProfileGetManyForUpdate(ctx, "n", order); err != nil {
								return err
							}
							params := make([]store.RemoteProfilePullParams, len(order))
							for i, u := range order {
								params[i] = store.RemoteProfilePullParams{Network: "n", UserID: u, Seq: 1,
									At: at(time.Duration(r) * time.Second), Status: store.RemoteProfileOK,
									Data: json.RawMessage(fmt.Sprintf(`{"id":%q,"w":%d}`, u, w)), Result: "ok"}
							}
							_, err := tx.RemoteProfileRecordPulls(ctx, params)
							return err
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
				p, err := s.RemoteProfileGet(ctx, "n", u)
				require.NoError(t, err)
				require.Equal(t, int64(1), p.PulledSeq)
				require.Equal(t, store.RemoteProfileOK, p.Status)
			}
		}},
	})
}
