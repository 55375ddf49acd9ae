package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/ssogate/ssogate/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded SQL file, named NNN_name.sql.
type migration struct {
	Version int
	Name    string
	SQL     string
}

// migrations returns the embedded migrations ordered by version.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %q: name must be NNN_name.sql", name)
		}
		body, err := fs.ReadFile(migrationFS, path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{Version: version, Name: rest, SQL: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migration version %d appears twice", out[i].Version)
		}
	}
	return out, nil
}

const createMigrationTable = `CREATE TABLE IF NOT EXISTS ssogate_migration (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// Migrate applies this backend's migrations, then River's, idempotently.
// Replicas starting together serialize on a session advisory lock (per
// schema) held on one connection for the whole run; each of our migrations
// commits in its own transaction together with its version row.
func (s *Store) Migrate(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	all, err := migrations()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return wrap("migrate: acquire", err)
	}
	defer conn.Release()
	key := lockKey("migrate", s.cfg.Schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return wrap("migrate: lock", err)
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// A connection that cannot unlock must not go back to the pool
			// holding the lock.
			_ = conn.Conn().Close(unlockCtx)
		}
	}()

	if _, err := conn.Exec(ctx, createMigrationTable); err != nil {
		return wrap("migrate: version table", err)
	}
	applied, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return err
	}
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		start := time.Now()
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO ssogate_migration (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return wrap(fmt.Sprintf("migrate: apply %03d_%s", m.Version, m.Name), err)
		}
		s.logger.InfoContext(ctx, "postgres: migration applied",
			slog.Int("version", m.Version), slog.String("name", m.Name), slog.Duration("duration", time.Since(start)))
	}

	if _, err := s.migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return wrap("migrate: river", err)
	}
	return nil
}

// appliedVersions reads the version table.
func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int]bool, error) {
	rows, err := conn.Query(ctx, `SELECT version FROM ssogate_migration`)
	if err != nil {
		return nil, wrap("migrate: read versions", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, wrap("migrate: read versions", err)
	}
	applied := make(map[int]bool, len(versions))
	for _, v := range versions {
		applied[int(v)] = true
	}
	return applied, nil
}

// MigrationsCurrent reports whether every embedded migration and every
// River migration has been applied.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	if s.closed.Load() {
		return false, store.ErrClosed
	}
	all, err := migrations()
	if err != nil {
		return false, fmt.Errorf("postgres: migrations current: %w", err)
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('ssogate_migration') IS NOT NULL`).Scan(&exists); err != nil {
		return false, wrap("migrations current", err)
	}
	if !exists {
		return false, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, wrap("migrations current", err)
	}
	applied, err := appliedVersions(ctx, conn.Conn())
	conn.Release()
	if err != nil {
		return false, err
	}
	for _, m := range all {
		if !applied[m.Version] {
			return false, nil
		}
	}
	res, err := s.migrator.Validate(ctx, nil)
	if err != nil {
		return false, wrap("migrations current: river", err)
	}
	return res.OK, nil
}
