package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements store.Queries on the pool (Store) or on a transaction
// (Tx).
type queries struct {
	db querier
	// read serves the methods that only read: the pool of read-only
	// connections (WAL lets them read while the one writer writes), or the
	// transaction inside InTx.
	read  querier
	tx    *sql.Tx // set inside InTx
	store *Store
}

// atomic runs fn in the current transaction, or in a new one when there is
// none, for the methods that read before they write.
func (q queries) atomic(ctx context.Context, fn func(db querier) error) error {
	if q.tx != nil {
		return fn(q.tx)
	}
	tx, err := q.store.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapError(err))
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapError(err))
	}
	return nil
}

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface {
	Scan(dest ...any) error
}

// Times are stored as integer Unix microseconds; NULL is the zero time.

func micros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// truncMicro drops what the database cannot keep, so comparisons in Go
// agree with what is stored.
func truncMicro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return fromMicros(t.UnixMicro())
}

// clampLimit applies a list's default and maximum page size.
func clampLimit(limit, def, maximum int) int {
	switch {
	case limit <= 0:
		return def
	case limit > maximum:
		return maximum
	default:
		return limit
	}
}

// rowsAffected returns how many rows res touched.
func rowsAffected(res sql.Result) (int, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: rows affected: %w", err)
	}
	return int(n), nil
}
