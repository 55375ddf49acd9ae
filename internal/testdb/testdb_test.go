package testdb_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

func TestEach(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		current, err := s.MigrationsCurrent(ctx)
		require.NoError(t, err)
		require.True(t, current)
		_, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{}`), Now: testNow})
		require.NoError(t, err)
		require.Equal(t, store.ProfileCreated, status, "every store starts empty")
	})
}

func TestPostgresIsolated(t *testing.T) {
	t.Parallel()
	a, b := testdb.Postgres(t), testdb.Postgres(t)
	ctx := context.Background()
	_, _, err := a.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{}`), Now: testNow})
	require.NoError(t, err)
	_, err = b.ProfileGet(ctx, "ann")
	require.ErrorIs(t, err, store.ErrNotFound, "each store has its own schema")
}

var testNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// TestPostgresSchemaDropped checks that the schema of a Postgres store is
// gone once its test has ended (the store closed first, then the drop).
func TestPostgresSchemaDropped(t *testing.T) {
	t.Parallel()
	var schema string
	t.Run("uses a store", func(t *testing.T) {
		s := testdb.Postgres(t)
		schema = s.(interface{ Schema() string }).Schema()
		_, _, err := s.ProfileUpsert(t.Context(), store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{}`), Now: testNow})
		require.NoError(t, err)
	})
	require.NotEmpty(t, schema)
	conn, err := pgx.Connect(t.Context(), testdb.PostgresURL(t))
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n))
	require.Zero(t, n, "schema %s leaked: still there after its test ended", schema)
}
