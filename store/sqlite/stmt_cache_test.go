package sqlite

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCacheable(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		"SELECT 1":                               true,
		"SELECT 1;":                              true,
		"SELECT 1; ":                             true,
		"SELECT ';' -- a; b\n FROM x":            true,
		"/* a;b */ SELECT 1":                     true,
		"SELECT 1; SELECT 2":                     false,
		"CREATE TABLE a(x);\nCREATE TABLE b(y);": false,
		"SELECT 'unterminated":                   false,
		"SELECT 1 /* unterminated":               false,
	} {
		require.Equal(t, want, cacheable(q), "cacheable(%q)", q)
	}
}

// TestStatementCacheUnderUse runs the same query while its rows are still
// open (the cached statement is busy: a fresh one is prepared) and after an
// error, on the one write connection.
func TestStatementCacheUnderUse(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), Config{Path: t.TempDir() + "/cache.db"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.db.ExecContext(t.Context(), `CREATE TABLE t (n INTEGER PRIMARY KEY)`)
	require.NoError(t, err)
	for n := range 3 {
		_, err = s.db.ExecContext(t.Context(), `INSERT INTO t (n) VALUES (?)`, n)
		require.NoError(t, err)
	}
	_, err = s.db.ExecContext(t.Context(), `INSERT INTO t (n) VALUES (?)`, 1)
	require.Error(t, err, "duplicate key")
	_, err = s.db.ExecContext(t.Context(), `INSERT INTO t (n) VALUES (?)`, 3)
	require.NoError(t, err, "the cached statement works after an error")

	tx, err := s.db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	const q = `SELECT n FROM t WHERE n >= ? ORDER BY n`
	outer, err := tx.QueryContext(t.Context(), q, 0)
	require.NoError(t, err)
	var got []int
	for outer.Next() {
		var n int
		require.NoError(t, outer.Scan(&n))
		var count int
		require.NoError(t, tx.QueryRowContext(t.Context(), `SELECT count(*) FROM (`+q+`)`, n).Scan(&count))
		inner, err := tx.QueryContext(t.Context(), q, n)
		require.NoError(t, err)
		seen := 0
		for inner.Next() {
			seen++
		}
		require.NoError(t, inner.Close())
		require.Equal(t, count, seen)
		got = append(got, n)
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.Equal(t, []int{0, 1, 2, 3}, got)
}
