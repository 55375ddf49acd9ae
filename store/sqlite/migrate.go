package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded SQL file, NNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 || !strings.HasSuffix(rest, ".sql") {
			return nil, fmt.Errorf("sqlite: migration file %q is not NNN_name.sql", name)
		}
		body, err := fs.ReadFile(migrationFS, path.Join("migrations", name))
		if err != nil {
			return nil, fmt.Errorf("sqlite: read migration %s: %w", name, err)
		}
		out = append(out, migration{version: version, name: strings.TrimSuffix(rest, ".sql"), sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlite: two migrations with version %d", out[i].version)
		}
	}
	return out, nil
}

const createMigrationTable = `CREATE TABLE IF NOT EXISTS ssogate_migration (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`

// Migrate applies this backend's migrations, then River's, idempotently.
// Each of ours runs in its own transaction with its version row.
func (s *Store) Migrate(ctx context.Context) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, createMigrationTable); err != nil {
		return fmt.Errorf("sqlite: create migration table: %w", mapError(err))
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		if err := s.applyMigration(ctx, m); err != nil {
			return err
		}
		s.logger.InfoContext(ctx, "sqlite: migration applied", "version", m.version, "name", m.name)
	}

	migrator, err := s.riverMigrator()
	if err != nil {
		return err
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("sqlite: river migrations: %w", err)
	}
	for _, v := range res.Versions {
		s.logger.InfoContext(ctx, "sqlite: river migration applied", "version", v.Version, "name", v.Name)
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %d: begin: %w", m.version, mapError(err))
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("sqlite: migration %d %s: %w", m.version, m.name, mapError(err))
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO ssogate_migration (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("sqlite: migration %d: record: %w", m.version, mapError(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %d: commit: %w", m.version, mapError(err))
	}
	return nil
}

// appliedMigrations returns the versions recorded in ssogate_migration; an
// empty set when the table does not exist yet.
func (s *Store) appliedMigrations(ctx context.Context) (map[int]bool, error) {
	var exists int
	err := s.db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'ssogate_migration'`).Scan(&exists)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check migration table: %w", mapError(err))
	}
	applied := map[int]bool{}
	if exists == 0 {
		return applied, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM ssogate_migration`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read migrations: %w", mapError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite: read migrations: %w", mapError(err))
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read migrations: %w", mapError(err))
	}
	return applied, nil
}

// MigrationsCurrent reports whether every embedded migration and every River
// migration has been applied.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	all, err := migrations()
	if err != nil {
		return false, err
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return false, err
	}
	for _, m := range all {
		if !applied[m.version] {
			return false, nil
		}
	}

	migrator, err := s.riverMigrator()
	if err != nil {
		return false, err
	}
	existing, err := migrator.ExistingVersions(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlite: river migration versions: %w", err)
	}
	have := map[int]bool{}
	for _, m := range existing {
		have[m.Version] = true
	}
	for _, m := range migrator.AllVersions() {
		if !have[m.Version] {
			return false, nil
		}
	}
	return true, nil
}

func (s *Store) riverMigrator() (*rivermigrate.Migrator[*sql.Tx], error) {
	migrator, err := rivermigrate.New(riversqlite.New(s.db), &rivermigrate.Config{Logger: s.logger})
	if err != nil {
		return nil, fmt.Errorf("sqlite: river migrator: %w", err)
	}
	return migrator, nil
}
