package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestRunMigratePostgres opens PostgreSQL by URL scheme. It runs when
// TEST_DATABASE_URL is set, in a schema of its own (search_path in the URL).
func TestRunMigratePostgres(t *testing.T) {
	t.Parallel()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set: PostgreSQL not tested")
	}
	conn, err := pgx.Connect(t.Context(), base)
	require.NoError(t, err, "TEST_DATABASE_URL is set but PostgreSQL is unreachable")
	t.Cleanup(func() { _ = conn.Close(t.Context()) })

	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "cmd_migrate_" + hex.EncodeToString(b[:])
	_, err = conn.Exec(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = conn.Exec(t.Context(), "DROP SCHEMA "+schema+" CASCADE")
	})

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
