package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/postgres"
)

// TEMPORARY until internal/testdb lands.
func newTestStore(t *testing.T) store.Store {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "hubtest_" + hex.EncodeToString(b)
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	t.Cleanup(func() {
		_ = s.Close()
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = conn.Close(ctx)
		}
	})
	return s
}
