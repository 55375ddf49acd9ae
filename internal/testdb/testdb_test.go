package testdb_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

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
	if os.Getenv(testdb.EnvDatabaseURL) == "" {
		t.Skip(testdb.EnvDatabaseURL + " is not set")
	}
	a, b := testdb.Postgres(t), testdb.Postgres(t)
	ctx := context.Background()
	_, _, err := a.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{}`), Now: testNow})
	require.NoError(t, err)
	_, err = b.ProfileGet(ctx, "ann")
	require.ErrorIs(t, err, store.ErrNotFound, "each store has its own schema")
}

var testNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
