package sqlite

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
)

// TestBackgroundCheckpoint: the writer leaves checkpoints to the
// background connection (its own automatic one only bounds the WAL), and
// that connection copies what the writer committed into the database file.
func TestBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "ck.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(t.Context()))
	require.NotNil(t, s.checkpoints)

	var pages int
	require.NoError(t, s.db.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&pages))
	require.Equal(t, autoCheckpointPages, pages)

	// Far fewer pages than the writer's bound: only the background
	// connection checkpoints them.
	for i := range 200 {
		data, _ := json.Marshal(map[string]string{"display_name": fmt.Sprint("user ", i), "bio": strings.Repeat("b", 2048)})
		_, _, err := s.ProfileUpsert(t.Context(), store.ProfileUpsertParams{UserID: fmt.Sprint("u", i), Data: data, Now: time.Now()})
		require.NoError(t, err)
	}
	asynctest.Eventually(t, 10*time.Second, "a checkpoint of every frame written", func() bool {
		r := s.checkpoints.last.Load()
		return r != nil && r.log > 0 && r.checkpointed == r.log
	})
}

// TestNoCheckpointerInMemory: an in-memory database has no file to copy
// the WAL into.
func TestNoCheckpointerInMemory(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), Config{Path: ":memory:"})
	require.NoError(t, err)
	require.Nil(t, s.checkpoints)
	require.NoError(t, s.Close())
}
