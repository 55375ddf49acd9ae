package testenv

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// schemaExists asks the database whether schema is there.
func schemaExists(t *testing.T, url, schema string) bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n))
	return n == 1
}

// TestPostgresSchemaDroppedAtCleanup checks that a test's schema is gone
// once the test (here a subtest) has ended: its cleanup must not run on the
// test's context, which is cancelled by then.
func TestPostgresSchemaDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var url, schema string
	t.Run("uses a schema", func(t *testing.T) {
		url, schema = PostgresSchema(t, "testenv")
		require.True(t, schemaExists(t, url, schema), "the schema is created")
		conn, err := pgx.Connect(t.Context(), url)
		require.NoError(t, err)
		defer func() { _ = conn.Close(context.Background()) }()
		_, err = conn.Exec(t.Context(), `CREATE TABLE `+pgx.Identifier{schema, "t"}.Sanitize()+` (id int)`)
		require.NoError(t, err)
	})
	require.NotEmpty(t, schema)
	require.False(t, schemaExists(t, url, schema), "schema %s leaked: it is still there after its test ended", schema)
}
