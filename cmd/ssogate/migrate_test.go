package main

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testenv"
)

// TestRunMigratePostgres opens PostgreSQL by URL scheme, in a schema of its
// own (search_path in the URL). It skips when TEST_DATABASE_URL is unset,
// and fails then under CI.
func TestRunMigratePostgres(t *testing.T) {
	t.Parallel()
	base, schema := testenv.PostgresSchema(t, "cmd_migrate")
	conn, err := pgx.Connect(t.Context(), base)
	require.NoError(t, err, "TEST_DATABASE_URL is set but PostgreSQL is unreachable")
	// t.Context() is cancelled before cleanups run: close on a live one.
	t.Cleanup(func() { _ = conn.Close(context.Background()) })

	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	environ := map[string]string{"SSOGATE_DATABASE_URL": u.String(), "SSOGATE_DATA_DIR": t.TempDir()}
	for range 2 {
		r := runCmd(t, environ, "", "migrate")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, "ssogate: postgres database migrated\n", r.stdout)
	}
	var tables int
	require.NoError(t, conn.QueryRow(t.Context(),
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'river_job'", schema).Scan(&tables))
	require.Equal(t, 1, tables, "River's tables are in the test schema")
}
