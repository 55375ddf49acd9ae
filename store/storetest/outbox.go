package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
)

// testOutbox covers the ping outbox and the hub's pull leases: the two
// queues issue 13 drains in batches.
func testOutbox(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"OldestIsTheFirstPutOfAnEntryStillWaiting", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			oldest, err := s.PingOutboxOldest(ctx)
			require.NoError(t, err)
			require.True(t, oldest.IsZero(), "empty outbox")
			before := time.Now().Add(-time.Second)
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 1}))
			first, err := s.PingOutboxOldest(ctx)
			require.NoError(t, err)
			require.True(t, first.After(before) && first.Before(time.Now().Add(time.Second)), "%v", first)
			// Later puts, of ann (an update) and of others, keep ann's time.
			require.Eventually(t, func() bool { return time.Since(first) > 2*time.Millisecond }, time.Second, time.Millisecond)
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 2}))
			require.NoError(t, s.PingOutboxPutMany(ctx, []store.PingOutboxEntry{{UserID: "ann", Version: 3}, {UserID: "bob"}}, "", time.Time{}))
			got, err := s.PingOutboxOldest(ctx)
			require.NoError(t, err)
			require.True(t, got.Equal(first), "%v, want %v", got, first)
			// Once ann is delivered, bob's put is the oldest.
			n, err := s.PingOutboxDelete(ctx, []store.PingOutboxEntry{{UserID: "ann", Version: 3}})
			require.NoError(t, err)
			require.Equal(t, 1, n)
			got, err = s.PingOutboxOldest(ctx)
			require.NoError(t, err)
			require.True(t, got.After(first), "%v after %v", got, first)
		}},
		{"PutKeepsMaxVersionAndReplacesLease", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			requireOutboxCount(t, s, 0)
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 5, Owner: "r1", LeaseUntil: at(time.Hour)}))
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 3, Owner: "r2", LeaseUntil: at(time.Hour)}))
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "bob", Version: 0, Owner: "r1"}))
			requireOutboxCount(t, s, 2)

			// bob's zero lease is claimable at once; ann's lease holds.
			got := claimOutbox(t, s, "r3", at(time.Minute), at(2*time.Hour), 0)
			require.Equal(t, []store.PingOutboxEntry{{UserID: "bob", Version: 0}}, got)

			// The lease is replaced, not extended: ann becomes claimable now,
			// and her version never went back to 3.
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 4, Owner: "r2", LeaseUntil: at(time.Second)}))
			got = claimOutbox(t, s, "r3", at(time.Minute), at(2*time.Hour), 0)
			require.Equal(t, []store.PingOutboxEntry{{UserID: "ann", Version: 5}}, got)

			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 7, Owner: "r1"}))
			got = claimOutbox(t, s, "r3", at(time.Minute), at(2*time.Hour), 0)
			require.Equal(t, []store.PingOutboxEntry{{UserID: "ann", Version: 7}}, got)
			requireOutboxCount(t, s, 2)

			require.Error(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{Version: 1}), "UserID is required")
		}},
		{"PutInRolledBackTx", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			rollback := errors.New("rollback")
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 1}); err != nil {
					return err
				}
				if err := tx.PingOutboxPutMany(ctx, []store.PingOutboxEntry{{UserID: "bob", Version: 1}}, "", time.Time{}); err != nil {
					return err
				}
				n, err := tx.PingOutboxCount(ctx)
				require.NoError(t, err)
				require.Equal(t, 2, n, "visible inside the transaction")
				return rollback
			})
			require.ErrorIs(t, err, rollback)
			requireOutboxCount(t, s, 0)
		}},
		{"PutMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.PingOutboxPutMany(ctx, nil, "r1", at(0)), "empty is a no-op")
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "u0000", Version: 9, Owner: "r2"}))

			const n = 1200
			entries := make([]store.PingOutboxEntry, 0, n+1)
			for i := range n {
				entries = append(entries, store.PingOutboxEntry{UserID: fmt.Sprintf("u%04d", i), Version: int64(i % 3)})
			}
			// A user listed twice gets the larger version, in either order.
			entries = append(entries, store.PingOutboxEntry{UserID: "u0001", Version: 8}, store.PingOutboxEntry{UserID: "u0002", Version: 0})
			require.NoError(t, s.PingOutboxPutMany(ctx, entries, "r1", at(time.Hour)))
			requireOutboxCount(t, s, n)

			require.Empty(t, claimOutbox(t, s, "r3", at(time.Hour-time.Microsecond), at(2*time.Hour), 5000), "every lease replaced, none ended")
			got := claimOutbox(t, s, "r3", at(time.Hour), at(2*time.Hour), 5000)
			require.Len(t, got, n, "LeaseUntil <= Now is due")
			byID := map[string]int64{}
			for _, e := range got {
				byID[e.UserID] = e.Version
			}
			require.Len(t, byID, n)
			require.Equal(t, int64(9), byID["u0000"], "a stored larger version is kept")
			require.Equal(t, int64(8), byID["u0001"])
			require.Equal(t, int64(2), byID["u0002"])
			require.Equal(t, int64(1199%3), byID["u1199"])

			require.Error(t, s.PingOutboxPutMany(ctx, []store.PingOutboxEntry{{UserID: "x"}, {}}, "r1", at(0)), "UserID is required")
		}},
		{"ClaimOrderAndLeases", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			for _, e := range []struct {
				id    string
				lease time.Time
			}{
				{"c", at(3 * time.Minute)},
				{"a", at(time.Minute)},
				{"z", time.Time{}},
				{"b", at(2 * time.Minute)},
				{"y", at(10 * time.Minute)},
				{"x", at(time.Minute)},
			} {
				require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: e.id, Version: 1, Owner: "r0", LeaseUntil: e.lease}))
			}
			now, lease := at(5*time.Minute), at(time.Hour)
			require.Equal(t, []string{"z", "a"}, outboxIDs(claimOutbox(t, s, "r1", now, lease, 2)),
				"oldest lease first (zero before any), ties by user id, at most Limit")
			require.Equal(t, []string{"x", "b", "c"}, outboxIDs(claimOutbox(t, s, "r2", now, lease, 10)),
				"claimed entries are leased away; y's lease has not ended")
			require.Empty(t, claimOutbox(t, s, "r3", now, lease, 10))

			// When the claims' leases end, y (older lease) comes first.
			require.Equal(t, []string{"y", "a", "b", "c", "x", "z"}, outboxIDs(claimOutbox(t, s, "r3", at(time.Hour), at(2*time.Hour), 0)))
			requireOutboxCount(t, s, 6)

			_, err := s.PingOutboxClaim(ctx, store.PingOutboxClaimParams{Owner: "r1", LeaseUntil: lease})
			require.Error(t, err, "Now is required")
			_, err = s.PingOutboxClaim(ctx, store.PingOutboxClaimParams{Owner: "r1", Now: now})
			require.Error(t, err, "LeaseUntil is required")
		}},
		{"ClaimLimits", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			const n = 5600
			entries := make([]store.PingOutboxEntry, n)
			for i := range entries {
				entries[i] = store.PingOutboxEntry{UserID: fmt.Sprintf("u%05d", i), Version: 1}
			}
			require.NoError(t, s.PingOutboxPutMany(ctx, entries, "", time.Time{}))
			require.Len(t, claimOutbox(t, s, "r1", at(0), at(time.Hour), 0), 500, "default limit")
			require.Len(t, claimOutbox(t, s, "r1", at(0), at(time.Hour), 1_000_000), 5000, "maximum limit")
			require.Len(t, claimOutbox(t, s, "r1", at(0), at(time.Hour), 1_000_000), n-5500)
		}},
		{"ClaimRolledBack", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "ann", Version: 1}))
			rollback := errors.New("rollback")
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.PingOutboxClaim(ctx, store.PingOutboxClaimParams{Owner: "r1", Now: at(0), LeaseUntil: at(time.Hour)})
				require.NoError(t, err)
				require.Len(t, got, 1)
				return rollback
			})
			require.ErrorIs(t, err, rollback)
			require.Equal(t, []string{"ann"}, outboxIDs(claimOutbox(t, s, "r2", at(0), at(time.Hour), 0)), "the rolled-back claim left no lease")
		}},
		{"ConcurrentClaimsDisjoint", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			const n, claimers = 400, 8
			entries := make([]store.PingOutboxEntry, n)
			for i := range entries {
				entries[i] = store.PingOutboxEntry{UserID: fmt.Sprintf("u%04d", i), Version: int64(i)}
			}
			require.NoError(t, s.PingOutboxPutMany(ctx, entries, "", time.Time{}))
			results := make([][]string, claimers)
			g := asynctest.New(t)
			for c := range claimers {
				g.Go(func(t testing.TB) {
					for {
						got, err := s.PingOutboxClaim(ctx, store.PingOutboxClaimParams{
							Owner: fmt.Sprintf("r%d", c), Now: at(0), LeaseUntil: at(time.Hour), Limit: 7,
						})
						require.NoError(t, err)
						if len(got) == 0 {
							return
						}
						results[c] = append(results[c], outboxIDs(got)...)
					}
				})
			}
			g.Wait()
			requireDisjointCover(t, results, n)
		}},
		{"ClaimSkipsLockedEntries", func(t *testing.T, s store.Store) {
			if s.Backend() != "postgres" {
				t.Log("SQLite serializes claims on its write lock: nothing to skip")
				return
			}
			ctx := ctxFor(t)
			for _, id := range []string{"a", "b", "c", "d", "e"} {
				require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: id, Version: 1}))
			}
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				held, err := tx.PingOutboxClaim(ctx, store.PingOutboxClaimParams{Owner: "r1", Now: at(0), LeaseUntil: at(time.Hour), Limit: 3})
				require.NoError(t, err)
				require.Equal(t, []string{"a", "b", "c"}, outboxIDs(held))
				// Another claimer, while r1's transaction holds its rows,
				// neither waits for them nor gets them.
				otherCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				other, err := s.PingOutboxClaim(otherCtx, store.PingOutboxClaimParams{Owner: "r2", Now: at(0), LeaseUntil: at(time.Hour)})
				require.NoError(t, err, "a claimer that waits on locked rows times out here")
				require.Equal(t, []string{"d", "e"}, outboxIDs(other))
				return nil
			}))
			require.Empty(t, claimOutbox(t, s, "r3", at(0), at(time.Hour), 0))
		}},
		{"DeleteKeepsNewerVersions", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			n, err := s.PingOutboxDelete(ctx, nil)
			require.NoError(t, err)
			require.Zero(t, n)
			for id, v := range map[string]int64{"ann": 3, "bob": 5, "cid": 1, "dan": 0} {
				require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: id, Version: v}))
			}
			n, err = s.PingOutboxDelete(ctx, []store.PingOutboxEntry{
				{UserID: "ann", Version: 3}, // delivered exactly: removed
				{UserID: "bob", Version: 4}, // changed since the claim: kept
				{UserID: "cid", Version: 2}, // removed
				{UserID: "nobody", Version: 9},
				{UserID: "cid", Version: 2}, // listed twice, removed once
			})
			require.NoError(t, err)
			require.Equal(t, 2, n)
			requireOutboxCount(t, s, 2)
			require.Equal(t, []store.PingOutboxEntry{{UserID: "bob", Version: 5}, {UserID: "dan", Version: 0}},
				sortedEntries(claimOutbox(t, s, "r1", at(0), at(time.Hour), 0)))

			// Inside a transaction, and rolled back with it.
			rollback := errors.New("rollback")
			err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				n, err := tx.PingOutboxDelete(ctx, []store.PingOutboxEntry{{UserID: "bob", Version: 5}, {UserID: "dan", Version: 0}})
				require.NoError(t, err)
				require.Equal(t, 2, n)
				return rollback
			})
			require.ErrorIs(t, err, rollback)
			requireOutboxCount(t, s, 2)
		}},
		{"PullLeases", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			requirePendingPulls(t, s, 0)
			require.Empty(t, claimPulls(t, s, at(0), at(time.Hour), 0))

			touchLeased(t, s, "n", "ann", at(0), time.Time{})
			touchLeased(t, s, "n", "bob", at(0), at(30*time.Minute))
			touchLeased(t, s, "n", "bob", at(0), at(time.Hour)) // every touch replaces the lease
			requirePendingPulls(t, s, 2)

			got := claimPulls(t, s, at(59*time.Minute), at(2*time.Hour), 0)
			require.Equal(t, []store.RemoteProfilePullClaim{{Network: "n", UserID: "ann", PingSeq: 1}}, got, "bob's lease holds")
			require.Equal(t, []store.RemoteProfilePullClaim{{Network: "n", UserID: "bob", PingSeq: 2}},
				claimPulls(t, s, at(time.Hour), at(2*time.Hour), 0), "bob's lease ended (<= Now); ann is leased by the claim")
			require.Empty(t, claimPulls(t, s, at(time.Hour), at(2*time.Hour), 0))

			// A new ping without a lease makes ann claimable at once.
			touchLeased(t, s, "n", "ann", at(time.Minute), time.Time{})
			require.Equal(t, []store.RemoteProfilePullClaim{{Network: "n", UserID: "ann", PingSeq: 2}},
				claimPulls(t, s, at(time.Hour), at(2*time.Hour), 0))

			// An answered pull leaves the queue whatever its lease; a pull
			// answering an older ping does not.
			_, _, err := s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 2, At: at(time.Hour), Status: store.RemoteProfileOK,
				Data: jsonDoc(t, map[string]any{"id": "ann"}), Result: "ok",
			})
			require.NoError(t, err)
			_, _, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "bob", Seq: 1, At: at(time.Hour), Status: store.RemoteProfileOK,
				Data: jsonDoc(t, map[string]any{"id": "bob"}), Result: "ok",
			})
			require.NoError(t, err)
			requirePendingPulls(t, s, 1)
			require.Equal(t, []store.RemoteProfilePullClaim{{Network: "n", UserID: "bob", PingSeq: 2}},
				claimPulls(t, s, at(3*time.Hour), at(4*time.Hour), 0))

			_, err = s.RemoteProfileClaimPulls(ctx, store.RemoteProfileClaimParams{LeaseUntil: at(time.Hour)})
			require.Error(t, err, "Now is required")
			_, err = s.RemoteProfileClaimPulls(ctx, store.RemoteProfileClaimParams{Now: at(time.Hour)})
			require.Error(t, err, "LeaseUntil is required")
		}},
		{"OldestPendingPull", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			requireOldestPending(t, s, time.Time{})
			touchLeased(t, s, "n", "ann", at(2*time.Minute), time.Time{})
			touchLeased(t, s, "n", "bob", at(time.Minute), at(time.Hour)) // leased rows wait too
			touchLeased(t, s, "n", "bob", at(3*time.Minute), at(time.Hour))
			requireOldestPending(t, s, at(time.Minute))
			require.NoError(t, s.RemoteProfileLeasePull(ctx, "n", "bob", at(24*time.Hour)))
			got, err := s.RemoteProfileOldestPending(ctx, at(24*time.Hour))
			require.NoError(t, err)
			require.True(t, at(2*time.Minute).Equal(got), "bob's lease is not before leaseBefore: %v", got)

			// bob's pull answers both pings: ann's is the oldest waiting.
			_, _, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "bob", Seq: 2, At: at(4 * time.Minute), Status: store.RemoteProfileOK,
				Data: jsonDoc(t, map[string]any{"id": "bob"}), Result: "ok",
			})
			require.NoError(t, err)
			requireOldestPending(t, s, at(2*time.Minute))
			_, _, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 1, At: at(4 * time.Minute), Status: store.RemoteProfileMissing, Result: "missing",
			})
			require.NoError(t, err)
			requireOldestPending(t, s, time.Time{})
		}},
		{"LeasePull", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.ErrorIs(t, s.RemoteProfileLeasePull(ctx, "n", "ann", at(time.Hour)), store.ErrNotFound)
			touchLeased(t, s, "n", "ann", at(0), time.Time{})
			touchLeased(t, s, "m", "ann", at(0), time.Time{})

			far := at(100 * 365 * 24 * time.Hour)
			require.NoError(t, s.RemoteProfileLeasePull(ctx, "n", "ann", far))
			require.Equal(t, []store.RemoteProfilePullClaim{{Network: "m", UserID: "ann", PingSeq: 1}},
				claimPulls(t, s, at(time.Hour), at(2*time.Hour), 0), "per network and user")
			require.Equal(t, []store.RemoteProfilePullClaim{{Network: "m", UserID: "ann", PingSeq: 1}},
				claimPulls(t, s, far.Add(-time.Microsecond), far, 0), "n/ann's lease holds until far")
			requirePendingPulls(t, s, 2)

			// A zero lease makes the row claimable at once.
			require.NoError(t, s.RemoteProfileLeasePull(ctx, "n", "ann", time.Time{}))
			require.Equal(t, []store.RemoteProfilePullClaim{{Network: "n", UserID: "ann", PingSeq: 1}},
				claimPulls(t, s, at(time.Hour), at(2*time.Hour), 0))

			// Inside a transaction, and rolled back with it.
			rollback := errors.New("rollback")
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				require.NoError(t, tx.RemoteProfileLeasePull(ctx, "m", "ann", time.Time{}))
				return rollback
			})
			require.ErrorIs(t, err, rollback)
			require.Empty(t, claimPulls(t, s, at(time.Hour), at(2*time.Hour), 0), "m/ann keeps the lease its last claim set")
		}},
		{"ClaimPullsOrderAndLimit", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touchLeased(t, s, "n", "late", at(5*time.Minute), time.Time{})
			touchLeased(t, s, "n", "early", at(time.Minute), time.Time{})
			touchLeased(t, s, "n", "leased2", at(0), at(2*time.Minute))
			touchLeased(t, s, "n", "leased1", at(0), at(time.Minute))
			touchLeased(t, s, "n", "future", at(0), at(time.Hour))
			got := claimPulls(t, s, at(10*time.Minute), at(time.Hour), 3)
			require.Equal(t, []string{"early", "late", "leased1"}, pullIDs(got),
				"never-leased rows first, by the ping's age; then by lease; at most Limit")
			require.Equal(t, []string{"leased2"}, pullIDs(claimPulls(t, s, at(10*time.Minute), at(time.Hour), 0)))

			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for i := range 501 {
					if _, err := tx.RemoteProfileTouch(ctx, store.RemoteProfileTouchParams{Network: "m", UserID: fmt.Sprintf("u%04d", i), At: at(0)}); err != nil {
						return err
					}
				}
				return nil
			}))
			requirePendingPulls(t, s, 506)
			require.Len(t, claimPulls(t, s, at(10*time.Minute), at(time.Hour), 0), 500, "default limit")
			require.Len(t, claimPulls(t, s, at(10*time.Minute), at(time.Hour), 0), 1)
		}},
		{"ConcurrentPullClaimsDisjoint", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			const n, claimers = 300, 8
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for i := range n {
					if _, err := tx.RemoteProfileTouch(ctx, store.RemoteProfileTouchParams{Network: "n", UserID: fmt.Sprintf("u%04d", i), At: at(0)}); err != nil {
						return err
					}
				}
				return nil
			}))
			results := make([][]string, claimers)
			g := asynctest.New(t)
			for c := range claimers {
				g.Go(func(t testing.TB) {
					for {
						got, err := s.RemoteProfileClaimPulls(ctx, store.RemoteProfileClaimParams{Now: at(0), LeaseUntil: at(time.Hour), Limit: 7})
						require.NoError(t, err)
						if len(got) == 0 {
							return
						}
						results[c] = append(results[c], pullIDs(got)...)
					}
				})
			}
			g.Wait()
			requireDisjointCover(t, results, n)
		}},
		{"ClaimPullsSkipsLockedRows", func(t *testing.T, s store.Store) {
			if s.Backend() != "postgres" {
				t.Log("SQLite serializes claims on its write lock: nothing to skip")
				return
			}
			ctx := ctxFor(t)
			for _, id := range []string{"a", "b", "c"} {
				touchLeased(t, s, "n", id, at(0), time.Time{})
			}
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				held, err := tx.RemoteProfileClaimPulls(ctx, store.RemoteProfileClaimParams{Now: at(0), LeaseUntil: at(time.Hour), Limit: 2})
				require.NoError(t, err)
				require.Equal(t, []string{"a", "b"}, pullIDs(held))
				otherCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				other, err := s.RemoteProfileClaimPulls(otherCtx, store.RemoteProfileClaimParams{Now: at(0), LeaseUntil: at(time.Hour)})
				require.NoError(t, err, "a claimer that waits on locked rows times out here")
				require.Equal(t, []string{"c"}, pullIDs(other))
				return nil
			}))
			require.Empty(t, claimPulls(t, s, at(0), at(time.Hour), 0))
		}},
	})
}

func claimOutbox(t *testing.T, s store.Queries, owner string, now, leaseUntil time.Time, limit int) []store.PingOutboxEntry {
	t.Helper()
	got, err := s.PingOutboxClaim(ctxFor(t), store.PingOutboxClaimParams{Owner: owner, Now: now, LeaseUntil: leaseUntil, Limit: limit})
	require.NoError(t, err)
	return got
}

func requireOutboxCount(t *testing.T, s store.Queries, want int) {
	t.Helper()
	n, err := s.PingOutboxCount(ctxFor(t))
	require.NoError(t, err)
	require.Equal(t, want, n, "ping outbox entries")
}

func outboxIDs(entries []store.PingOutboxEntry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.UserID
	}
	return ids
}

func sortedEntries(entries []store.PingOutboxEntry) []store.PingOutboxEntry {
	sort.Slice(entries, func(i, j int) bool { return entries[i].UserID < entries[j].UserID })
	return entries
}

// touchLeased records a ping for the user with the given pull lease.
func touchLeased(t *testing.T, s store.Queries, network, userID string, when, leaseUntil time.Time) {
	t.Helper()
	_, err := s.RemoteProfileTouch(ctxFor(t), store.RemoteProfileTouchParams{Network: network, UserID: userID, At: when, PullLeaseUntil: leaseUntil})
	require.NoError(t, err)
}

func claimPulls(t *testing.T, s store.Queries, now, leaseUntil time.Time, limit int) []store.RemoteProfilePullClaim {
	t.Helper()
	got, err := s.RemoteProfileClaimPulls(ctxFor(t), store.RemoteProfileClaimParams{Now: now, LeaseUntil: leaseUntil, Limit: limit})
	require.NoError(t, err)
	return got
}

func requirePendingPulls(t *testing.T, s store.Queries, want int) {
	t.Helper()
	n, err := s.RemoteProfilePendingCount(ctxFor(t))
	require.NoError(t, err)
	require.Equal(t, want, n, "pending pulls")
}

// farLease is after every lease the conformance cases set.
var farLease = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func requireOldestPending(t *testing.T, s store.Queries, want time.Time) {
	t.Helper()
	got, err := s.RemoteProfileOldestPending(ctxFor(t), farLease)
	require.NoError(t, err)
	require.True(t, want.Equal(got), "oldest pending pull: got %v, want %v", got, want)
}

func pullIDs(claims []store.RemoteProfilePullClaim) []string {
	ids := make([]string, len(claims))
	for i, c := range claims {
		ids[i] = c.UserID
	}
	return ids
}

// requireDisjointCover asserts that the claimers' results together hold
// each of the n ids exactly once.
func requireDisjointCover(t *testing.T, results [][]string, n int) {
	t.Helper()
	owner := map[string]int{}
	for c, ids := range results {
		for _, id := range ids {
			prev, dup := owner[id]
			require.False(t, dup, "%s claimed by claimer %d and claimer %d", id, prev, c)
			owner[id] = c
		}
	}
	require.Len(t, owner, n, "every entry claimed once")
}
