package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// dbtx is what the queries need; both *pgxpool.Pool and pgx.Tx have it.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// queries implements store.Queries on the pool (Store) or on a transaction
// (pgTx).
type queries struct {
	db dbtx
	s  *Store
}

// inTx runs fn in the caller's transaction when there is one, else in a new
// one. Multi-statement operations (read with FOR UPDATE, then write) use it.
func (q queries) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if tx, ok := q.db.(pgx.Tx); ok {
		return fn(tx)
	}
	return pgx.BeginFunc(ctx, q.db, fn)
}

// clampLimit applies a list's default and maximum.
func clampLimit(limit, def, maxLimit int) int {
	switch {
	case limit <= 0:
		return def
	case limit > maxLimit:
		return maxLimit
	default:
		return limit
	}
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNullTime reads NULL as the zero time; times come back in UTC.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
