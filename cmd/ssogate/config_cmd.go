package main

import (
	"context"
	"flag"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// configCommand checks the configuration like serve would and prints the
// effective values as YAML, secrets redacted.
func configCommand(fs *flag.FlagSet) runFunc {
	flags := registerConfigFlags(fs)
	return func(_ context.Context, e *env, args []string) error {
		return runConfig(e, flags, args)
	}
}

func runConfig(e *env, flags *configFlags, args []string) error {
	cfg, err := loadCommandConfig(e, "config", flags, args, requirements{})
	if err != nil {
		return err
	}
	out, err := yaml.Marshal(cfg.Redacted())
	if err != nil {
		return fmt.Errorf("encode the configuration: %w", err)
	}
	if cfg.ConfigFile != "" {
		fmt.Fprintf(e.stdout, "# from %s, the environment and flags\n", cfg.ConfigFile)
	}
	_, err = e.stdout.Write(out)
	return err
}
