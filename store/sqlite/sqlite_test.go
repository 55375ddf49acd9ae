package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/sqlite"
	"github.com/ssogate/ssogate/store/storetest"
)

// TestConformance runs the shared store suite, each case on a fresh
// migrated database file.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return testdb.SQLite(t) })
}

// BenchmarkStore is issue 2's Measure: one profile upsert plus one job
// insert in one InTx, against River's bare insert.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, testdb.SQLite(b))
}

// TestRescueOwnJobs: a restart with the client id of a process killed
// mid-job gets the job back at once.
func TestRescueOwnJobs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ssogate.db")
	storetest.RescueOwnJobs(t, func(t *testing.T) store.Store {
		ctx := context.Background()
		s, err := sqlite.Open(ctx, sqlite.Config{Path: path})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		require.NoError(t, s.Migrate(ctx))
		return s
	})
}
