package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func TestMapError(t *testing.T) {
	t.Parallel()

	uniqueViolation := &pgconn.PgError{Code: "23505", ConstraintName: "profile_pkey"}
	otherPgError := &pgconn.PgError{Code: "23503"}
	plain := errors.New("boom")

	tests := []struct {
		name   string
		in     error
		want   error // sentinel expected via errors.Is; nil: none
		native error // must stay in the chain
	}{
		{name: "nil", in: nil},
		{name: "no rows is not found", in: pgx.ErrNoRows, want: store.ErrNotFound, native: pgx.ErrNoRows},
		{name: "wrapped no rows is not found", in: fmt.Errorf("scan: %w", pgx.ErrNoRows), want: store.ErrNotFound, native: pgx.ErrNoRows},
		{name: "river not found is not found", in: rivertype.ErrNotFound, want: store.ErrNotFound, native: rivertype.ErrNotFound},
		{name: "unique violation is conflict", in: uniqueViolation, want: store.ErrConflict, native: uniqueViolation},
		{name: "wrapped unique violation is conflict", in: fmt.Errorf("insert: %w", uniqueViolation), want: store.ErrConflict, native: uniqueViolation},
		{name: "closed pool is closed", in: puddle.ErrClosedPool, want: store.ErrClosed, native: puddle.ErrClosedPool},
		{name: "other pg error unchanged", in: otherPgError, native: otherPgError},
		{name: "context canceled unchanged", in: context.Canceled, native: context.Canceled},
		{name: "plain error unchanged", in: plain, native: plain},
	}
	sentinels := []error{store.ErrNotFound, store.ErrConflict, store.ErrClosed}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mapError(tt.in)
			if tt.in == nil {
				require.NoError(t, got)
				return
			}
			require.ErrorIs(t, got, tt.native)
			for _, s := range sentinels {
				require.Equal(t, s == tt.want, errors.Is(got, s), "errors.Is(%v, %v)", got, s)
			}
			if tt.want == nil {
				require.Same(t, tt.in, got, "unmapped errors pass unchanged")
			}
		})
	}
}

func TestWrapKeepsSentinel(t *testing.T) {
	t.Parallel()
	err := wrap("profile get", pgx.ErrNoRows)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Contains(t, err.Error(), "postgres: profile get:")
	require.NoError(t, wrap("x", nil))
	require.ErrorIs(t, wrapConflict("session create"), store.ErrConflict)
}
