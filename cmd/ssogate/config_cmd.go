package main

import (
	"context"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// runConfig checks the configuration like serve would and prints the
// effective values as YAML, secrets redacted.
func runConfig(_ context.Context, e *env, args []string) error {
	cfg, err := parseConfigCommand(e, "config", "config [flags]", args, requirements{})
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
