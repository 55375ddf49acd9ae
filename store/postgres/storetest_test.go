package postgres

import (
	"testing"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/storetest"
)

// TestConformance runs the shared store suite, each case on a fresh
// migrated store in its own schema.
func TestConformance(t *testing.T) {
	t.Parallel()
	testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t) })
}

// BenchmarkStore is issue 2's Measure: one profile upsert plus one job
// insert in one InTx, against River's bare insert.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, newTestStore(b))
}
