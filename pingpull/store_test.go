package pingpull

import (
	"testing"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// newTestStore is a migrated SQLite store in a temp dir.
func newTestStore(t testing.TB) store.Store {
	t.Helper()
	return testdb.SQLite(t)
}

// eachBackend runs fn on SQLite and, when TEST_DATABASE_URL is set, on
// PostgreSQL, as parallel subtests.
func eachBackend(t *testing.T, fn func(t *testing.T, opts setupOpts)) {
	t.Helper()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		fn(t, setupOpts{store: s})
	})
}
