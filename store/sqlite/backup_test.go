package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/sqlite"
)

func openMigrated(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Config{Path: path})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(t.Context()))
	return s
}

func userID(i int64) string { return fmt.Sprintf("u-%06d", i) }

func upsert(ctx context.Context, s store.Store, i int64) error {
	data, _ := json.Marshal(map[string]string{"display_name": userID(i), "bio": strings.Repeat("b", 512)})
	_, _, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: userID(i), Data: data, Now: time.Now()})
	return err
}

// TestBackupWhileWriting backs a database up while another connection keeps
// writing profiles one after the other: the copy opens, passes SQLite's
// integrity check, is mode 0600, and holds a consistent prefix of the
// writes — every profile written before the backup started, none missing
// below the last one it holds.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "ssogate.db")
	s := openMigrated(t, src)
	ctx := t.Context()
	for i := range int64(2000) {
		require.NoError(t, upsert(ctx, s, i))
	}

	var written atomic.Int64
	written.Store(2000)
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			if err := upsert(ctx, s, written.Load()); err != nil {
				writerDone <- err
				return
			}
			written.Add(1)
		}
	}()
	// The writer is under way before the backup starts.
	require.Eventually(t, func() bool { return written.Load() >= 2050 }, 30*time.Second, time.Millisecond)

	dest := filepath.Join(dir, "backup", "copy.db")
	require.NoError(t, os.Mkdir(filepath.Dir(dest), 0o700))
	before := written.Load()
	require.NoError(t, sqlite.Backup(ctx, src, dest))
	after := written.Load()
	close(stop)
	require.NoError(t, <-writerDone)
	t.Logf("profiles written before the backup: %d, after: %d", before, after)

	info, err := os.Stat(dest)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(dest))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left beside the copy")

	cp := openMigrated(t, dest)
	var check string
	require.NoError(t, cp.DB().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check))
	require.Equal(t, "ok", check)
	var n int64
	var maxID string
	require.NoError(t, cp.DB().QueryRowContext(ctx, `SELECT count(*), max(user_id) FROM profile`).Scan(&n, &maxID))
	require.GreaterOrEqual(t, n, before, "the copy lacks profiles written before the backup started")
	require.LessOrEqual(t, n, after+1)
	require.Equal(t, userID(n-1), maxID, "the copy is not a prefix of the writes: %d rows, last %s", n, maxID)
	p, err := cp.ProfileGet(ctx, userID(before-1))
	require.NoError(t, err)
	require.Contains(t, string(p.Data), userID(before-1))
}

// TestBackupRefuses: an existing destination is left alone, a missing
// database is not created, and a database that is not a file is refused.
func TestBackupRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "ssogate.db")
	openMigrated(t, src)
	ctx := t.Context()

	existing := filepath.Join(dir, "existing.db")
	require.NoError(t, os.WriteFile(existing, []byte("keep me"), 0o600))
	err := sqlite.Backup(ctx, src, existing)
	require.ErrorContains(t, err, "exists")
	data, err := os.ReadFile(existing)
	require.NoError(t, err)
	require.Equal(t, "keep me", string(data))

	missing := filepath.Join(dir, "missing.db")
	err = sqlite.Backup(ctx, missing, filepath.Join(dir, "copy.db"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoFileExists(t, missing)
	require.NoFileExists(t, filepath.Join(dir, "copy.db"))

	require.ErrorContains(t, sqlite.Backup(ctx, ":memory:", filepath.Join(dir, "copy.db")), "not a database file")

	err = sqlite.Backup(ctx, src, filepath.Join(dir, "no-such-dir", "copy.db"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
