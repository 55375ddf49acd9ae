package sqlite_test

import (
	"testing"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
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
