package main

import (
	"context"
	"fmt"
)

// runMigrate applies the database migrations (ours and River's) and exits.
func runMigrate(ctx context.Context, e *env, args []string) error {
	cfg, err := parseConfigCommand(e, "migrate", "migrate [flags]", args, requirements{})
	if err != nil {
		return err
	}
	log := newLogger(cfg, e.stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate the %s database: %w", st.Backend(), err)
	}
	current, err := st.MigrationsCurrent(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if !current {
		return fmt.Errorf("migrations are still not current after migrating")
	}
	fmt.Fprintf(e.stdout, "ssogate: %s database migrated\n", st.Backend())
	return nil
}
