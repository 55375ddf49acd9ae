package main

import (
	"context"
	"flag"
	"fmt"
)

// migrateCommand applies the database migrations (ours and River's) and
// exits.
func migrateCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	return func(ctx context.Context, e *env, args []string) error {
		return runMigrate(ctx, e, flags, args)
	}
}

func runMigrate(ctx context.Context, e *env, flags *configFlags, args []string) error {
	cfg, err := loadCommandConfig(e, "migrate", flags, args, requirements{})
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
