package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/sqlite"
)

// TestRunBackup copies the configured SQLite database while another
// connection holds it open (as a running server does), and refuses what it
// cannot do with the exit code and a message that says what to do instead.
func TestRunBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "ssogate.db")
	environ := map[string]string{"SSOGATE_DATABASE_URL": "sqlite:" + db, "SSOGATE_LOG_LEVEL": "warn"}
	r := runCmd(t, environ, "", "migrate")
	require.Equal(t, 0, r.code, r.stderr)

	live, err := sqlite.Open(t.Context(), sqlite.Config{Path: db})
	require.NoError(t, err)
	t.Cleanup(func() { _ = live.Close() })
	_, _, err = live.ProfileUpsert(t.Context(), store.ProfileUpsertParams{
		UserID: "alice", Data: []byte(`{"display_name":"Alice"}`), Now: time.Now(),
	})
	require.NoError(t, err)

	dest := filepath.Join(dir, "ssogate-backup.db")
	r = runCmd(t, environ, "", "backup", "--to", dest)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "copied to "+dest)
	info, err := os.Stat(dest)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	cp, err := sqlite.Open(t.Context(), sqlite.Config{Path: dest})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Close() })
	current, err := cp.MigrationsCurrent(t.Context())
	require.NoError(t, err)
	require.True(t, current, "the copy has every migration")
	p, err := cp.ProfileGet(t.Context(), "alice")
	require.NoError(t, err)
	require.JSONEq(t, `{"display_name":"Alice"}`, string(p.Data))

	// A second run never overwrites the first copy.
	r = runCmd(t, environ, "", "backup", "--to", dest)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "exists")

	r = runCmd(t, environ, "", "backup")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "--to FILE is required")

	r = runCmd(t, environ, "", "backup", "--to", dest, "extra")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "backup takes no arguments")

	pg := map[string]string{"SSOGATE_DATABASE_URL": "postgres://ssogate:secret-password@db.internal:5432/ssogate"}
	r = runCmd(t, pg, "", "backup", "--to", filepath.Join(dir, "pg.db"))
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "pg_dump")
	require.NotContains(t, r.stderr, "secret-password")
	require.NoFileExists(t, filepath.Join(dir, "pg.db"))
}
