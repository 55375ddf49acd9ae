package postgres

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/testenv"
)

// testURL returns TEST_DATABASE_URL; when it is unset the test skips, or
// fails under CI.
func testURL(tb testing.TB) string {
	tb.Helper()
	return testenv.DatabaseURL(tb)
}

// testSchema creates a fresh schema and drops it at cleanup (after the
// stores using it are closed: cleanups run last-in first-out).
func testSchema(tb testing.TB) string {
	tb.Helper()
	_, schema := testenv.PostgresSchema(tb, "pgtest")
	return schema
}

// testLogger keeps River's and the store's logs out of test output unless
// they matter.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openTestStore opens a store on schema; it fails (never skips) when
// TEST_DATABASE_URL is set but the database does not answer.
func openTestStore(tb testing.TB, schema string, migrate bool) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{URL: testURL(tb), Schema: schema, Logger: testLogger(), MaxConns: 4})
	require.NoError(tb, err, "TEST_DATABASE_URL is set but the database cannot be used")
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	if migrate {
		require.NoError(tb, s.Migrate(ctx))
	}
	return s
}

// newTestStore is a migrated store in its own schema.
func newTestStore(tb testing.TB) *Store {
	tb.Helper()
	return openTestStore(tb, testSchema(tb), true)
}

// eventually polls cond until it holds or ten seconds pass.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	asynctest.Eventually(tb, 10*time.Second, what, cond)
}
