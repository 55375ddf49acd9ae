//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store/sqlite"
)

// TestOpenCreatesPrivateFiles checks issue 11's item 15: the database holds
// sessions and e-mail addresses, so the file Open creates, and the WAL and
// shared-memory files SQLite creates beside it, are 0600 under the common
// umask 022 (which leaves SQLite's own default at 0644). Not parallel: the
// umask belongs to the whole process, and parallel tests start only after
// this one has put it back.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "private.db")
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	// Migrating writes, which makes SQLite create the -wal and -shm files.
	require.NoError(t, s.Migrate(ctx))

	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		require.NoError(t, err, "SQLite in WAL mode keeps %s while open", filepath.Base(name))
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "mode of %s", filepath.Base(name))
	}
}

// TestOpenKeepsExistingMode checks that Open does not change the mode of a
// database file that already exists: its owner chose it.
func TestOpenKeepsExistingMode(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "existing.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	require.NoError(t, os.Chmod(path, 0o640))
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
}
