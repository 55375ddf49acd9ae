package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/ssogate/ssogate/store/sqlite"
)

// backupCommand writes a consistent copy of the configured SQLite database
// to --to while servers keep using it. PostgreSQL has its own tools: the
// command says so instead of doing half a job.
func backupCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	to := fs.String("to", "", "file to write the copy to (created mode 0600; must not exist)")
	return func(ctx context.Context, e *env, args []string) error {
		return runBackup(ctx, e, flags, *to, args)
	}
}

func runBackup(ctx context.Context, e *env, flags *configFlags, to string, args []string) error {
	if err := noArgs("backup", args); err != nil {
		return err
	}
	if to == "" {
		return usageErrorf("backup: --to FILE is required")
	}
	cfg, err := loadConfig(flags, e.getenv, requirements{})
	if err != nil {
		return err
	}
	backend, target, err := parseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return err // validated already
	}
	if backend != "sqlite" {
		return &exitError{code: 1, msg: "ssogate: backup copies SQLite databases only; back PostgreSQL up with pg_dump " +
			"(pg_dump --format=custom --file=ssogate.dump \"$SSOGATE_DATABASE_URL\"; see docs/operations.md)"}
	}
	if err := sqlite.Backup(ctx, target, to); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ssogate: SQLite database %s copied to %s\n", target, to)
	return nil
}
