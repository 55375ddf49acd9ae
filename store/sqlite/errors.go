package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ssogate/ssogate/store"
)

// mapError is the one place native errors become the store's sentinels: a
// unique or primary key violation is store.ErrConflict, no rows is
// store.ErrNotFound, a closed database is store.ErrClosed. The native error
// stays in the chain.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	if err.Error() == "sql: database is closed" {
		return fmt.Errorf("%w: %w", store.ErrClosed, err)
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}
