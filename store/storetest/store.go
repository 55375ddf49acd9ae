package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testStore(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"Backend", func(t *testing.T, s store.Store) {
			require.Contains(t, []string{"sqlite", "postgres"}, s.Backend())
		}},
		{"Ping", func(t *testing.T, s store.Store) {
			require.NoError(t, s.Ping(ctxFor(t)))
		}},
		{"MigrateIsIdempotent", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			current, err := s.MigrationsCurrent(ctx)
			require.NoError(t, err)
			require.True(t, current, "the store under test is migrated")
			upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			require.NoError(t, s.Migrate(ctx))
			current, err = s.MigrationsCurrent(ctx)
			require.NoError(t, err)
			require.True(t, current)
			p, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(1), p.Version, "data survives a second Migrate")
		}},
	})
}
