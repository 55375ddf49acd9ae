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

func testProfile(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"GetMissing", func(t *testing.T, s store.Store) {
			_, err := s.ProfileGet(ctxFor(t), "nobody")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Create", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			data := json.RawMessage(`{"display_name":"Ann","email":"ann@example.com"}`)
			p, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
				UserID: "ann", Data: data, UpdatedAt: at(-time.Minute), Now: at(0),
			})
			require.NoError(t, err)
			require.Equal(t, store.ProfileCreated, status)
			requireProfile(t, &store.Profile{
				UserID: "ann", Version: 1, Data: data, UpdatedAt: at(-time.Minute),
				CreatedAt: at(0), ModifiedAt: at(0),
			}, p)

			got, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			requireProfile(t, p, got)
		}},
		{"GetMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			got, err := s.ProfileGetMany(ctx, nil)
			require.NoError(t, err)
			require.Empty(t, got)
			ann := upsertProfile(t, s, "ann", `{"display_name":"Ann"}`, at(0), at(0))
			upsertProfile(t, s, "bob", `{"display_name":"Bob"}`, at(0), at(0))
			ann2 := upsertProfile(t, s, "ann", `{"display_name":"Ann B"}`, at(time.Second), at(time.Second))
			require.Equal(t, ann.Version+1, ann2.Version)
			cal := upsertProfile(t, s, "cal", `{"display_name":"Cal"}`, at(0), at(0))
			got, err = s.ProfileGetMany(ctx, []string{"ann", "cal", "nobody", "ann"})
			require.NoError(t, err)
			require.Len(t, got, 2, "only the users asked for that exist, once each")
			requireProfile(t, ann2, got["ann"])
			requireProfile(t, cal, got["cal"])
		}},
		{"ZeroUpdatedAtMeansNow", func(t *testing.T, s store.Store) {
			p, _, err := s.ProfileUpsert(ctxFor(t), store.ProfileUpsertParams{
				UserID: "ann", Data: json.RawMessage(`{}`), Now: at(0),
			})
			require.NoError(t, err)
			requireTime(t, at(0), p.UpdatedAt)
		}},
		{"DataKeptByteForByte", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			// Key order and spacing that a JSON-normalizing column would
			// change.
			data := json.RawMessage(`{"z":1, "a":{"y":"\u00e9","b":[1,2]}}`)
			_, _, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: data, Now: at(0)})
			require.NoError(t, err)
			got, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, string(data), string(got.Data))

			// Same meaning, other bytes: a change.
			p, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
				UserID: "ann", Data: json.RawMessage(`{"a":{"b":[1,2],"y":"é"},"z":1}`), Now: at(time.Second),
			})
			require.NoError(t, err)
			require.Equal(t, store.ProfileUpdated, status)
			require.Equal(t, int64(2), p.Version)
		}},
		{"Updated", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			first := upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			p, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
				UserID: "ann", Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(time.Hour), Now: at(2 * time.Hour),
			})
			require.NoError(t, err)
			require.Equal(t, store.ProfileUpdated, status)
			requireProfile(t, &store.Profile{
				UserID: "ann", Version: 2, Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(time.Hour),
				CreatedAt: first.CreatedAt, ModifiedAt: at(2 * time.Hour),
			}, p)
			got, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			requireProfile(t, p, got)
		}},
		{"SameUpdatedAtIsNotStale", func(t *testing.T, s store.Store) {
			upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			p, status, err := s.ProfileUpsert(ctxFor(t), store.ProfileUpsertParams{
				UserID: "ann", Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(0), Now: at(time.Second),
			})
			require.NoError(t, err)
			require.Equal(t, store.ProfileUpdated, status)
			require.Equal(t, int64(2), p.Version)
		}},
		{"Unchanged", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			first := upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			p, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
				UserID: "ann", Data: json.RawMessage(`{"n":1}`), UpdatedAt: at(time.Hour), Now: at(time.Hour),
			})
			require.NoError(t, err)
			require.Equal(t, store.ProfileUnchanged, status)
			require.Equal(t, int64(1), p.Version)
			require.Equal(t, `{"n":1}`, string(p.Data))
			requireTime(t, first.CreatedAt, p.CreatedAt)
			// UpdatedAt may move forward, never back and never past the
			// given time.
			require.False(t, p.UpdatedAt.Before(at(0)), "UpdatedAt moved back: %s", p.UpdatedAt)
			require.False(t, p.UpdatedAt.After(at(time.Hour)), "UpdatedAt past the change: %s", p.UpdatedAt)

			got, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			requireProfile(t, p, got)
		}},
		{"Stale", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			first := upsertProfile(t, s, "ann", `{"n":1}`, at(time.Hour), at(time.Hour))
			p, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
				UserID: "ann", Data: json.RawMessage(`{"n":2}`), UpdatedAt: at(time.Hour - time.Microsecond), Now: at(2 * time.Hour),
			})
			require.NoError(t, err)
			require.Equal(t, store.ProfileStale, status)
			requireProfile(t, first, p)
			got, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			requireProfile(t, first, got)
		}},
		{"VersionIncreasesByOnePerChange", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			datas := []string{`{"n":1}`, `{"n":2}`, `{"n":2}`, `{"n":3}`, `{"n":1}`, `{"n":1}`, `{"n":4}`}
			wantVersions := []int64{1, 2, 2, 3, 4, 4, 5}
			for i, data := range datas {
				p, _, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
					UserID: "ann", Data: json.RawMessage(data), Now: at(time.Duration(i) * time.Second),
				})
				require.NoError(t, err)
				require.Equal(t, wantVersions[i], p.Version, "upsert %d", i)
			}
			// A stale change in between does not bump it either.
			p, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
				UserID: "ann", Data: json.RawMessage(`{"n":9}`), UpdatedAt: at(-time.Hour), Now: at(time.Hour),
			})
			require.NoError(t, err)
			require.Equal(t, store.ProfileStale, status)
			require.Equal(t, int64(5), p.Version)
		}},
		{"UsersAreIndependent", func(t *testing.T, s store.Store) {
			upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			upsertProfile(t, s, "ann", `{"n":2}`, at(0), at(0))
			bob := upsertProfile(t, s, "bob", `{"n":1}`, at(0), at(0))
			require.Equal(t, int64(1), bob.Version)
		}},
		{"VersionForUpdate", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			_, err := s.ProfileVersionForUpdate(ctx, "ann")
			require.ErrorIs(t, err, store.ErrNotFound)

			upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			upsertProfile(t, s, "ann", `{"n":2}`, at(0), at(0))
			v, err := s.ProfileVersionForUpdate(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(2), v)

			var missingErr error
			err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				if v, err = tx.ProfileVersionForUpdate(ctx, "ann"); err != nil {
					return err
				}
				_, missingErr = tx.ProfileVersionForUpdate(ctx, "bob")
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, int64(2), v)
			require.ErrorIs(t, missingErr, store.ErrNotFound)
		}},
		{"MarkServed", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.ErrorIs(t, s.ProfileMarkServed(ctx, "ann", 1, at(0)), store.ErrNotFound)

			upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			upsertProfile(t, s, "ann", `{"n":2}`, at(0), at(0))
			upsertProfile(t, s, "ann", `{"n":3}`, at(0), at(0))

			require.NoError(t, s.ProfileMarkServed(ctx, "ann", 2, at(time.Minute)))
			p, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(2), p.ServedVersion)
			requireTime(t, at(time.Minute), p.ServedAt)
			require.Equal(t, int64(3), p.Version, "marking served changes no version")

			// Never backwards.
			require.NoError(t, s.ProfileMarkServed(ctx, "ann", 1, at(2*time.Minute)))
			p, err = s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(2), p.ServedVersion)
			requireTime(t, at(time.Minute), p.ServedAt)

			require.NoError(t, s.ProfileMarkServed(ctx, "ann", 3, at(3*time.Minute)))
			p, err = s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(3), p.ServedVersion)
			requireTime(t, at(3*time.Minute), p.ServedAt)
		}},
		{"ServedVersionNeverBackwardsConcurrently", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			for i := range 20 {
				upsertProfile(t, s, "ann", fmt.Sprintf(`{"n":%d}`, i), at(0), at(0))
			}
			var wg sync.WaitGroup
			for v := int64(1); v <= 20; v++ {
				wg.Go(func() {
					assertNoError(t, s.ProfileMarkServed(ctx, "ann", v, at(time.Duration(v)*time.Second)))
				})
			}
			wg.Wait()
			p, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(20), p.ServedVersion)
			requireTime(t, at(20*time.Second), p.ServedAt)
		}},
		{"List", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			got, err := s.ProfileList(ctx, store.ProfileListParams{})
			require.NoError(t, err)
			require.Empty(t, got)

			for _, id := range []string{"carl", "ann", "bob", "dora"} {
				upsertProfile(t, s, id, `{}`, at(0), at(0))
			}
			got, err = s.ProfileList(ctx, store.ProfileListParams{Limit: 2})
			require.NoError(t, err)
			require.Equal(t, []string{"ann", "bob"}, profileIDs(got))
			require.Equal(t, `{}`, string(got[0].Data))
			got, err = s.ProfileList(ctx, store.ProfileListParams{After: "bob", Limit: 2})
			require.NoError(t, err)
			require.Equal(t, []string{"carl", "dora"}, profileIDs(got))
			got, err = s.ProfileList(ctx, store.ProfileListParams{After: "dora"})
			require.NoError(t, err)
			require.Empty(t, got)
			got, err = s.ProfileList(ctx, store.ProfileListParams{After: "b"})
			require.NoError(t, err)
			require.Equal(t, []string{"bob", "carl", "dora"}, profileIDs(got))
		}},
		{"ListLimits", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for i := range 1001 {
					_, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{
						UserID: fmt.Sprintf("u%04d", i), Data: json.RawMessage(`{}`), Now: at(0),
					})
					if err != nil {
						return err
					}
				}
				return nil
			}))
			got, err := s.ProfileList(ctx, store.ProfileListParams{})
			require.NoError(t, err)
			require.Len(t, got, 100, "default limit")
			got, err = s.ProfileList(ctx, store.ProfileListParams{Limit: 5000})
			require.NoError(t, err)
			require.Len(t, got, 1000, "maximum limit")
			require.Equal(t, "u0999", got[999].UserID)
		}},
		{"ConcurrentWriters", testProfileConcurrentWriters},
	})
}

// testProfileConcurrentWriters has several goroutines upsert one profile
// with data drawn from a small set, so that some upserts change it and some
// do not. Every change must get its own version, with no gap and no
// duplicate, and the final version must count the changes.
func testProfileConcurrentWriters(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const writers, upserts = 4, 25

	type result struct {
		status  store.ProfileUpsertStatus
		version int64
		data    string
	}
	results := make(chan result, writers*upserts)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range upserts {
				data := fmt.Sprintf(`{"n":%d}`, (w*upserts+i)%3)
				// Half the writes go through a transaction, as the webhook
				// does.
				var (
					p      *store.Profile
					status store.ProfileUpsertStatus
					err    error
				)
				params := store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(data), UpdatedAt: at(0), Now: at(time.Second)}
				if i%2 == 0 {
					p, status, err = s.ProfileUpsert(ctx, params)
				} else {
					err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
						var err error
						p, status, err = tx.ProfileUpsert(ctx, params)
						return err
					})
				}
				if !assertNoError(t, err) {
					return
				}
				results <- result{status, p.Version, string(p.Data)}
			}
		})
	}
	wg.Wait()
	close(results)

	versions := map[int64]string{}
	changes := 0
	for r := range results {
		switch r.status {
		case store.ProfileCreated, store.ProfileUpdated:
			changes++
			_, dup := versions[r.version]
			require.False(t, dup, "version %d given to two changes", r.version)
			versions[r.version] = r.data
		case store.ProfileUnchanged:
		default:
			require.FailNow(t, "unexpected status "+string(r.status))
		}
	}
	p, err := s.ProfileGet(ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, int64(changes), p.Version)
	for v := int64(1); v <= p.Version; v++ {
		require.Contains(t, versions, v, "no change got version %d", v)
	}
	require.Equal(t, versions[p.Version], string(p.Data), "the last version holds the last change's data")
	for v := int64(2); v <= p.Version; v++ {
		require.NotEqual(t, versions[v-1], versions[v], "version %d repeats the data of %d", v, v-1)
	}
}

// upsertProfile writes a profile and returns the stored row.
func upsertProfile(t *testing.T, s store.Queries, userID, data string, updatedAt, now time.Time) *store.Profile {
	t.Helper()
	p, _, err := s.ProfileUpsert(ctxFor(t), store.ProfileUpsertParams{
		UserID: userID, Data: json.RawMessage(data), UpdatedAt: updatedAt, Now: now,
	})
	require.NoError(t, err)
	return p
}

// requireProfile compares two profiles field by field, times as instants.
func requireProfile(t *testing.T, want, got *store.Profile) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, want.UserID, got.UserID)
	require.Equal(t, want.Version, got.Version)
	require.Equal(t, string(want.Data), string(got.Data))
	requireTime(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt")
	require.Equal(t, want.ServedVersion, got.ServedVersion)
	requireTime(t, want.ServedAt, got.ServedAt, "ServedAt")
	requireTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	requireTime(t, want.ModifiedAt, got.ModifiedAt, "ModifiedAt")
}

func profileIDs(ps []*store.Profile) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.UserID
	}
	return ids
}

// assertNoError reports err without stopping the goroutine's test (FailNow
// must only run on the test goroutine).
func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}
