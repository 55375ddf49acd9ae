package pingpull

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/sqlite"
)

// newTestStore is a migrated SQLite store in a temp dir. TODO: testdb.SQLite
// once internal/testdb lands.
func newTestStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "test.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Migrate(context.Background()))
	return s
}
