// Package testdb gives tests real, migrated stores: SQLite in a temporary
// directory, PostgreSQL in a fresh schema of the database named by
// TEST_DATABASE_URL, and Each to run a test on both.
//
// PostgreSQL tests skip, saying why, when TEST_DATABASE_URL is unset, and
// fail when it is set but the database cannot be reached, and when it is
// unset under CI (the rule is internal/testenv's): a missing or broken
// database there must never turn into a silent skip.
package testdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ssogate/ssogate/internal/testenv"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/postgres"
	"github.com/ssogate/ssogate/store/sqlite"
)

// EnvDatabaseURL names the environment variable holding the PostgreSQL URL
// for tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvDatabaseURL = testenv.EnvDatabaseURL

// setupTimeout bounds opening and migrating a test database.
const setupTimeout = 60 * time.Second

// logger discards the stores' logs; tests assert on behaviour, not logs.
func logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// SQLite returns a migrated SQLite store in a fresh temporary directory,
// closed at cleanup. The first call migrates a template database and keeps
// its bytes; every call starts from a copy of them, because migrating
// (River's migrations included) costs far more than copying, above all
// under the race detector.
func SQLite(tb testing.TB) store.Store {
	tb.Helper()
	template, err := sqliteTemplate()
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "ssogate.db")
	if err := os.WriteFile(path, template, 0o600); err != nil {
		tb.Fatalf("testdb: write sqlite database: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path, Logger: logger()})
	if err != nil {
		tb.Fatalf("testdb: open sqlite: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("testdb: close sqlite: %v", err)
		}
	})
	// A no-op on the migrated copy; it keeps the helper right if the
	// template ever falls behind.
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("testdb: migrate sqlite: %v", err)
	}
	return s
}

// sqliteTemplate returns the bytes of a freshly migrated database file.
var sqliteTemplate = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "ssogate-testdb-")
	if err != nil {
		return nil, fmt.Errorf("template dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	path := filepath.Join(dir, "template.db")
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path, Logger: logger()})
	if err != nil {
		return nil, fmt.Errorf("open sqlite template: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("migrate sqlite template: %w", err)
	}
	// Closing the last connection checkpoints the WAL into the file.
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("close sqlite template: %w", err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, errors.New("sqlite template: WAL file left after close")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sqlite template: %w", err)
	}
	return b, nil
})

// PostgresURL returns TEST_DATABASE_URL; when it is unset the test skips,
// or fails under CI.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	return testenv.DatabaseURL(tb)
}

// Postgres returns a migrated PostgreSQL store in a fresh schema
// ssogate_test_<random>, closed and dropped at cleanup. It skips when
// TEST_DATABASE_URL is unset (fails under CI) and fails when the database
// is unreachable.
func Postgres(tb testing.TB) store.Store {
	tb.Helper()
	// Creates the schema and drops it after the store below is closed.
	url, schema := testenv.PostgresSchema(tb, "ssogate_test")
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema, Logger: logger()})
	if err != nil {
		tb.Fatalf("testdb: open postgres: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("testdb: close postgres: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("testdb: migrate postgres: %v", err)
	}
	return s
}

// Each runs fn as parallel subtests "sqlite" and "postgres", each on its own
// fresh store. The postgres subtest skips when TEST_DATABASE_URL is unset,
// and fails then under CI.
func Each(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Helper()
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store
	}{
		{"sqlite", SQLite},
		{"postgres", Postgres},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			fn(t, backend.open(t))
		})
	}
}
