package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func TestMapError(t *testing.T) {
	t.Parallel()

	ctx := t.Context()
	db, err := sql.Open("sqlite", Config{Path: filepath.Join(t.TempDir(), "e.db")}.WithDefaults().dsn())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, `CREATE TABLE t (id TEXT PRIMARY KEY, u TEXT UNIQUE, n INTEGER NOT NULL)`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO t VALUES ('a', 'x', 1)`)
	require.NoError(t, err)

	closed, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	require.NoError(t, closed.Close())

	tests := []struct {
		name    string
		err     func() error
		wantErr error // nil: no sentinel
	}{
		{"Nil", func() error { return nil }, nil},
		{"NoRows", func() error {
			var id string
			return db.QueryRowContext(ctx, `SELECT id FROM t WHERE id = 'zz'`).Scan(&id)
		}, store.ErrNotFound},
		{"PrimaryKey", func() error {
			_, err := db.ExecContext(ctx, `INSERT INTO t VALUES ('a', 'y', 1)`)
			return err
		}, store.ErrConflict},
		{"Unique", func() error {
			_, err := db.ExecContext(ctx, `INSERT INTO t VALUES ('b', 'x', 1)`)
			return err
		}, store.ErrConflict},
		{"NotNullIsNoConflict", func() error {
			_, err := db.ExecContext(ctx, `INSERT INTO t VALUES ('c', 'z', NULL)`)
			return err
		}, nil},
		{"SyntaxError", func() error {
			_, err := db.ExecContext(ctx, `SELEC 1`)
			return err
		}, nil},
		{"Closed", func() error {
			_, err := closed.ExecContext(ctx, `SELECT 1`)
			return err
		}, store.ErrClosed},
		{"Other", func() error { return context.Canceled }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			native := tt.err()
			got := mapError(native)
			if native == nil {
				require.NoError(t, got)
				return
			}
			require.ErrorIs(t, got, native, "the native error stays in the chain")
			for _, sentinel := range []error{store.ErrNotFound, store.ErrConflict, store.ErrClosed} {
				require.Equal(t, sentinel == tt.wantErr, errors.Is(got, sentinel), "errors.Is(%v, %v)", got, sentinel)
			}
		})
	}
}
