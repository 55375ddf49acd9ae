package postgres

import (
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"github.com/riverqueue/river/rivertype"

	"github.com/ssogate/ssogate/store"
)

// PostgreSQL error codes that map onto store sentinels.
const pgUniqueViolation = "23505"

// mapError is the one place that maps native errors onto the store's
// sentinels. The native error stays in the chain (errors.As still finds a
// *pgconn.PgError); errors that mean nothing to the store pass unchanged.
func mapError(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows), errors.Is(err, rivertype.ErrNotFound):
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	case errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case errors.Is(err, puddle.ErrClosedPool):
		return fmt.Errorf("%w: %w", store.ErrClosed, err)
	default:
		return err
	}
}

// wrap maps err and prefixes it with the package and operation.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", op, mapError(err))
}

// lockKey derives a 64-bit advisory lock key from a purpose and the schema,
// so stores in different schemas never wait on each other.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("ssogate:" + purpose + ":" + schema))
	return int64(h.Sum64()) //nolint:gosec // a lock key, wrap-around is fine
}

// wrapConflict reports a create that found its key taken (detected with ON
// CONFLICT DO NOTHING, which keeps a surrounding transaction usable).
func wrapConflict(op string) error {
	return fmt.Errorf("postgres: %s: %w", op, store.ErrConflict)
}
