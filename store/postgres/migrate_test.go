package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

func TestMigrateConcurrentReplicas(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const replicas = 3
	stores := make([]*Store, replicas)
	for i := range stores {
		stores[i] = openTestStore(t, schema, false)
	}
	current, err := stores[0].MigrationsCurrent(ctx)
	require.NoError(t, err)
	require.False(t, current, "nothing applied yet")

	var g errgroup.Group
	for _, s := range stores {
		g.Go(func() error { return s.Migrate(ctx) })
	}
	require.NoError(t, g.Wait(), "replicas migrating together serialize on the advisory lock")

	for _, s := range stores {
		current, err := s.MigrationsCurrent(ctx)
		require.NoError(t, err)
		require.True(t, current)
	}
	require.NoError(t, stores[0].Migrate(ctx), "idempotent")

	var n int
	require.NoError(t, stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM ssogate_migration`).Scan(&n))
	all, err := migrations()
	require.NoError(t, err)
	require.Equal(t, len(all), n, "each migration recorded once")

	// Everything lives in the test schema, River's tables included.
	var tables int
	require.NoError(t, stores[0].pool.QueryRow(ctx,
		`SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN ('river_job', 'profile', 'ssogate_migration')`,
		schema).Scan(&tables))
	require.Equal(t, 3, tables)
}

func TestMigrationsCurrentAfterRiverRollback(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	current, err := s.MigrationsCurrent(ctx)
	require.NoError(t, err)
	require.True(t, current)

	// Forget River's last migration: no longer current.
	_, err = s.pool.Exec(ctx, `DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)`)
	require.NoError(t, err)
	current, err = s.MigrationsCurrent(ctx)
	require.NoError(t, err)
	require.False(t, current)
}

func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	all, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	for i, m := range all {
		require.Equal(t, i+1, m.Version, "versions are contiguous from 1")
		require.NotEmpty(t, m.Name)
		require.NotEmpty(t, m.SQL)
	}
}
