// Command ssogate-bench measures ssogate's webhook → remote profile
// updated latency and throughput under open-loop load, on SQLite and
// PostgreSQL, next to a floor (plain net/http, no queue, no database), and
// draws the results. See internal/bench.
//
//	ssogate-bench [--database-url sqlite|postgres://…]… [--backends sqlite,postgres --postgres-url URL]
//	              [--rates 50,200,500,1000,2000] [--duration 30s] [--quick] [--users N]
//	              [--out bench-out] [--browser] [--ssogate-bin PATH] [--pg-analyze-every 5s]
//	ssogate-bench --resync N [--backends sqlite,postgres --postgres-url URL] [--resync-seed-rate 200]
//	ssogate-bench --faults [--backends sqlite,postgres --postgres-url URL] [--fault-schedule 8s:gateway,18s:hub,28s:both]
//	              [--fault-downtime 2s] [--users 40] [--rates 100] [--duration 40s]
//
// It starts `ssogate serve` and `ssogate hub` as child processes (the
// binary from --ssogate-bin, else `ssogate` next to this binary, else
// built with `go build` into a temporary directory), and the floor as
// `ssogate-bench floor-gateway` / `floor-hub` (hidden subcommands).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ssogate/ssogate/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		switch args[0] {
		case "floor-gateway", "floor-hub":
			return runFloor(ctx, args[0], stderr, getenv)
		case "compare":
			return runCompare(args[1:], stdout, stderr)
		}
	}
	cfg, err := parseFlags(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if err.Error() != "" {
			fmt.Fprintln(stderr, "ssogate-bench:", err)
		}
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Logger = logger
	cfg.Stdout = stdout
	if needsSsogate(cfg) && cfg.SsogateBin == "" {
		bin, cleanup, err := findSsogate(ctx, logger)
		if err != nil {
			fmt.Fprintln(stderr, "ssogate-bench:", err)
			return 1
		}
		defer cleanup()
		cfg.SsogateBin = bin
	}
	if cfg.SelfBin, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "ssogate-bench: find own binary:", err)
		return 1
	}
	if cfg.Faults {
		if _, err := bench.Faults(ctx, cfg); err != nil {
			fmt.Fprintln(stderr, "ssogate-bench:", err)
			return 1
		}
		return 0
	}
	if _, err := bench.Run(ctx, cfg); err != nil {
		fmt.Fprintln(stderr, "ssogate-bench:", err)
		return 1
	}
	return 0
}

// parseFlags reads the command line into a bench.Config.
func parseFlags(args []string, stdout, stderr io.Writer) (bench.Config, error) {
	var cfg bench.Config
	fs := flag.NewFlagSet("ssogate-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dbURLs []string
	fs.Func("database-url", "a target: sqlite, sqlite:PATH (a fresh database per step) or postgres://… (a database per process and step is created there); repeat for several", func(s string) error {
		dbURLs = append(dbURLs, s)
		return nil
	})
	backends := fs.String("backends", "", "targets by name, comma-separated: sqlite,postgres (postgres needs --postgres-url)")
	pgURL := fs.String("postgres-url", "", "PostgreSQL server for --backends postgres")
	rates := fs.String("rates", "", "offered rates in changes per second, comma-separated (default 50,200,500,1000,2000; --quick 20,100)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "load per step (default 30s; --quick 3s)")
	fs.BoolVar(&cfg.Quick, "quick", false, "a short run for CI: 2 short steps")
	fs.IntVar(&cfg.Users, "users", 0, "distinct users the changes spread over (default 1000; --quick 50)")
	fs.DurationVar(&cfg.Drain, "drain", 0, "how long to wait after the load for changes to arrive before counting them lost (default 30s; --quick 15s)")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", 0, "concurrent webhook requests at most (default 8192)")
	fs.StringVar(&cfg.Out, "out", "", "output directory (default bench-out)")
	fs.BoolVar(&cfg.Browser, "browser", false, "also measure webhook → DOM latency through Chromium")
	fs.StringVar(&cfg.SsogateBin, "ssogate-bin", "", "the ssogate binary (default: next to this one, else go build)")
	fs.BoolVar(&cfg.SkipFloor, "no-floor", false, "leave the floor out")
	fs.StringVar(&cfg.ChildLogLevel, "child-log-level", "", "SSOGATE_LOG_LEVEL of the ssogate children (default: ssogate's, info)")
	fs.Func("child-env", "KEY=VALUE added to the ssogate children's environment; repeatable", func(s string) error {
		if !strings.Contains(s, "=") {
			return errors.New("want KEY=VALUE")
		}
		cfg.ChildEnv = append(cfg.ChildEnv, s)
		return nil
	})
	fs.BoolVar(&cfg.PostgresSkipAnalyze, "pg-skip-analyze", false, "do not ANALYZE the fresh PostgreSQL databases after the warm-up (measures a just-created database: River's job updates then scan river_job)")
	fs.DurationVar(&cfg.PostgresAnalyzeEvery, "pg-analyze-every", 0, "also ANALYZE the PostgreSQL databases at this interval during the load, e.g. 5s (default: only once after the warm-up, outside the measured window)")
	fs.IntVar(&cfg.Resync, "resync", 0, "instead of the rate steps: seed N users through webhooks, re-ping all of them with `ssogate ping --stdin` and time until the hub pulled every one (per --backends target; no floor)")
	fs.IntVar(&cfg.ResyncSeedRate, "resync-seed-rate", 0, "webhooks per second of the resync's seeding (default 200)")
	fs.BoolVar(&cfg.Faults, "faults", false, "instead of the rate steps: one load per --backends target (--users, default 40, at the first --rates, default 100/s, for --duration, default 40s) while --fault-schedule SIGKILLs and restarts the children; reports per fault accepted, refused, lost, restart → converged and p99 during/after (faults.md, faults.csv)")
	faultSchedule := fs.String("fault-schedule", "", "with --faults: comma-separated OFFSET:WHO kills, WHO one of gateway, hub, both (default "+bench.DefaultFaultSchedule+")")
	fs.DurationVar(&cfg.FaultDowntime, "fault-downtime", 0, "with --faults: how long a killed child stays down before it is restarted with the same address and database (default 2s)")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "write CPU profiles of every child per step to this directory, from their debug listeners (SSOGATE_DEBUG_LISTEN)")
	fs.BoolVar(&cfg.ProfileContention, "profile-contention", false, "with --profile, also write mutex and block profiles")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "where per-step data directories go (default the system temp dir)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ssogate-bench [flags]\n\nMeasures webhook → remote profile updated latency under open-loop load.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, errors.New("")
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *faultSchedule != "" {
		sched, err := bench.ParseFaultSchedule(*faultSchedule)
		if err != nil {
			return cfg, fmt.Errorf("--fault-schedule: %w", err)
		}
		cfg.FaultSchedule = sched
	}
	var problems []string
	for _, u := range dbURLs {
		t, err := bench.ParseTarget(u)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	if *backends != "" {
		for _, b := range strings.Split(*backends, ",") {
			switch b = strings.TrimSpace(b); b {
			case bench.KindSQLite:
				cfg.Targets = append(cfg.Targets, bench.TargetSpec{Kind: bench.KindSQLite})
			case bench.KindPostgres:
				if *pgURL == "" {
					problems = append(problems, "--backends postgres needs --postgres-url")
					continue
				}
				cfg.Targets = append(cfg.Targets, bench.TargetSpec{Kind: bench.KindPostgres, DatabaseURL: *pgURL})
			case bench.KindFloor:
				cfg.Targets = append(cfg.Targets, bench.TargetSpec{Kind: bench.KindFloor})
			default:
				problems = append(problems, fmt.Sprintf("--backends: unknown backend %q (sqlite, postgres, floor)", b))
			}
		}
	}
	if *rates != "" {
		for _, f := range strings.Split(*rates, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				problems = append(problems, fmt.Sprintf("--rates: %q is not a number", f))
				continue
			}
			cfg.Rates = append(cfg.Rates, n)
		}
	}
	if len(problems) > 0 {
		return cfg, errors.New(strings.Join(problems, "; "))
	}
	return cfg, nil
}

func needsSsogate(cfg bench.Config) bool {
	if len(cfg.Targets) == 0 || cfg.Browser {
		return true // the default target is SQLite
	}
	for _, t := range cfg.Targets {
		if t.Kind != bench.KindFloor {
			return true
		}
	}
	return false
}

// findSsogate returns `ssogate` next to this binary, or builds it into a
// temporary directory (removed by cleanup).
func findSsogate(ctx context.Context, log *slog.Logger) (string, func(), error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "ssogate")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, func() {}, nil
		}
	}
	dir, err := os.MkdirTemp("", "ssogate-bench-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	bin := filepath.Join(dir, "ssogate")
	args := []string{"build", "-o", bin}
	log.InfoContext(ctx, "building ssogate", "output", bin)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", append(args, "github.com/ssogate/ssogate/cmd/ssogate")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("go build ssogate (run from the module, or pass --ssogate-bin): %v\n%s", err, out)
	}
	log.InfoContext(ctx, "built ssogate", "took", time.Since(start).Round(time.Millisecond))
	return bin, cleanup, nil
}

// runFloor runs a floor half, configured like ssogate by SSOGATE_…
// variables.
func runFloor(ctx context.Context, role string, stderr io.Writer, getenv func(string) string) int {
	cfg := bench.FloorConfig{
		Listen:    getenv("SSOGATE_LISTEN"),
		Network:   getenv("SSOGATE_NETWORK_NAME"),
		Key:       getenv("SSOGATE_NETWORK_KEY"),
		HubURL:    getenv("SSOGATE_HUB_URL"),
		PublicURL: getenv("SSOGATE_PUBLIC_URL"),
		Logger:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if s := getenv("SSOGATE_WEBHOOK_SECRETS"); s != "" {
		cfg.WebhookSecrets = strings.Split(s, ",")
	}
	run := bench.RunFloorHub
	if role == "floor-gateway" {
		run = bench.RunFloorGateway
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "ssogate-bench %s: %v\n", role, err)
		return 1
	}
	return 0
}

// runCompare draws several earlier runs in one pair of charts:
//
//	ssogate-bench compare --out DIR LABEL=PATH/results.csv[#target,…]…
//
// LABEL is appended to the run's target names ("-" for none); #targets
// keeps only those targets of that run.
func runCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ssogate-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "bench-out/compare", "output directory")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ssogate-bench compare [--out DIR] LABEL=PATH/results.csv[#target,…]…\n\n"+
			"Draws earlier runs together (LABEL is appended to their target names; - for none).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var inputs []bench.CompareInput
	for _, a := range fs.Args() {
		label, path, ok := strings.Cut(a, "=")
		if !ok {
			fmt.Fprintf(stderr, "ssogate-bench compare: %q is not LABEL=PATH\n", a)
			return 2
		}
		if label == "-" {
			label = ""
		}
		in := bench.CompareInput{Label: label, CSV: path}
		if p, sel, ok := strings.Cut(path, "#"); ok {
			in.CSV, in.Select = p, strings.Split(sel, ",")
		}
		inputs = append(inputs, in)
	}
	md, err := bench.Compare(*out, inputs)
	if err != nil {
		fmt.Fprintln(stderr, "ssogate-bench compare:", err)
		return 1
	}
	_, _ = io.WriteString(stdout, md)
	return 0
}
