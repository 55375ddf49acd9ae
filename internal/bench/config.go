package bench

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Target kinds.
const (
	KindSQLite   = "sqlite"
	KindPostgres = "postgres"
	KindFloor    = "floor"
)

// Defaults of Config.
var (
	DefaultRates      = []int{50, 200, 500, 1000, 2000}
	DefaultQuickRates = []int{20, 100}
)

const (
	DefaultDuration      = 30 * time.Second
	DefaultQuickDuration = 3 * time.Second
	DefaultUsers         = 1000
	DefaultQuickUsers    = 50
	DefaultDrain         = 30 * time.Second
	DefaultQuickDrain    = 15 * time.Second
	DefaultMaxInFlight   = 8192
	DefaultNetwork       = "bench.fyre.co"
	DefaultOut           = "bench-out"
	DefaultResyncSeed    = 200
)

// TargetSpec names one system under test.
type TargetSpec struct {
	// Kind is KindSQLite, KindPostgres or KindFloor.
	Kind string
	// DatabaseURL is the PostgreSQL server for KindPostgres: the harness
	// creates a database per process and step there (or, without the
	// privilege, a schema) and drops it afterwards. Unused otherwise.
	DatabaseURL string
}

// Name is the target's label in tables and charts.
func (t TargetSpec) Name() string { return t.Kind }

// ParseTarget reads a --database-url value: "sqlite", "sqlite:…" (a fresh
// SQLite database per step; the path is ignored), "postgres://…", or
// "floor".
func ParseTarget(s string) (TargetSpec, error) {
	switch {
	case s == KindSQLite || strings.HasPrefix(s, "sqlite:"):
		return TargetSpec{Kind: KindSQLite}, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return TargetSpec{Kind: KindPostgres, DatabaseURL: s}, nil
	case s == KindFloor:
		return TargetSpec{Kind: KindFloor}, nil
	}
	// Not quoted: a mistyped URL may hold a password.
	return TargetSpec{}, errors.New("bench: a database URL must be sqlite, sqlite:PATH or postgres://…")
}

// Config configures a run. Every field says its default.
type Config struct {
	// Targets are measured in order. Default: SQLite. The floor is added
	// unless SkipFloor.
	Targets []TargetSpec
	// SkipFloor leaves the floor out. Default false.
	SkipFloor bool
	// Rates are the offered rates, changes per second, one step each.
	// Default DefaultRates (DefaultQuickRates with Quick).
	Rates []int
	// Duration of each step's load. Default 30s (3s with Quick).
	Duration time.Duration
	// Quick picks the quick defaults for Rates, Duration, Users and Drain
	// (fields set explicitly win).
	Quick bool
	// Users is how many distinct users the changes spread over, round
	// robin. Default 1000 (50 with Quick).
	Users int
	// Drain is how long after the last webhook the harness waits for
	// changes to reach the hub before counting the rest as lost. Default
	// 30s (15s with Quick).
	Drain time.Duration
	// MaxInFlight caps concurrent webhook requests; the scheduler waits for
	// a free sender beyond it (the wait is in the latency, measured from
	// the intended time). Default 8192.
	MaxInFlight int
	// Out is the directory for results, charts and child logs. Default
	// "bench-out".
	Out string
	// SsogateBin is the ssogate binary. Required for SQLite and PostgreSQL
	// targets (cmd/ssogate-bench finds or builds it).
	SsogateBin string
	// SelfBin is the binary with the floor-gateway and floor-hub
	// subcommands (cmd/ssogate-bench). Required with the floor.
	SelfBin string
	// WorkDir holds the per-step data directories. Default os.TempDir().
	WorkDir string
	// ChildLogLevel is SSOGATE_LOG_LEVEL for the children; empty keeps
	// ssogate's default (info).
	ChildLogLevel string
	// ChildEnv is added to every ssogate child's environment (KEY=VALUE),
	// after the harness's own settings.
	ChildEnv []string
	// PostgresSkipAnalyze leaves the step's fresh PostgreSQL databases
	// without planner statistics (see analyzePostgres), to measure a
	// just-created database. Default false: ANALYZE after the warm-up.
	PostgresSkipAnalyze bool
	// PostgresAnalyzeEvery, when positive, also runs ANALYZE at that
	// interval during the measured window (its cost is then in the
	// figures; StepResult.AnalyzeInWindow says how often it ran). Default 0:
	// ANALYZE only after the warm-up, outside the window.
	PostgresAnalyzeEvery time.Duration
	// Resync, when positive, replaces the rate steps with one resync per
	// target (the floor excluded): Resync users are seeded through
	// webhooks, then `ssogate ping --stdin` re-pings all of them and the
	// harness times until the hub pulled every one (ResyncResult).
	// Default 0.
	Resync int
	// ResyncSeedRate is the webhook rate, per second, of the resync's
	// seeding. Default 200.
	ResyncSeedRate int
	// Faults, when set, replaces the rate steps with one fault run per
	// target (the floor excluded): the load at Rates[0] (default 100/s) for
	// Users (default 40) over Duration (default 40s) while FaultSchedule
	// kills and restarts the children (Faults, FaultRun). Drain defaults to
	// 2 minutes.
	Faults bool
	// FaultSchedule is the fault run's kills. Default
	// DefaultFaultSchedule (gateway at 8s, hub at 18s, both at 28s).
	FaultSchedule []Fault
	// FaultDowntime is how long a killed child stays down before the
	// harness starts it again. Default 2s.
	FaultDowntime time.Duration
	// ProfileDir, when set, receives a CPU profile of every child per step,
	// taken over the load from each child's debug listener
	// (SSOGATE_DEBUG_LISTEN); with Resync, over the resync's first
	// Duration. Default "" (no profiles).
	ProfileDir string
	// ProfileContention also records mutex and block profiles (at the end
	// of the load). Default false.
	ProfileContention bool
	// Browser also measures webhook → DOM latency through Chromium on
	// `ssogate demo` (BrowserLatency), once per run. Default false.
	Browser bool
	// Network is the Livefyre network name. Default "bench.fyre.co".
	Network string
	// Logger receives progress. Default: text on Stderr at info.
	Logger *slog.Logger
	// Stdout receives the Markdown table. Default os.Stdout.
	Stdout io.Writer
}

// WithDefaults returns c with every unset field defaulted.
func (c Config) WithDefaults() Config {
	if len(c.Targets) == 0 {
		c.Targets = []TargetSpec{{Kind: KindSQLite}}
	}
	if c.Faults {
		c = c.faultDefaults()
	}
	if !c.SkipFloor && !c.hasFloor() && c.Resync == 0 && !c.Faults {
		c.Targets = append(c.Targets, TargetSpec{Kind: KindFloor})
	}
	if len(c.Rates) == 0 {
		c.Rates = DefaultRates
		if c.Quick {
			c.Rates = DefaultQuickRates
		}
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
		if c.Quick {
			c.Duration = DefaultQuickDuration
		}
	}
	if c.Users == 0 {
		c.Users = DefaultUsers
		if c.Quick {
			c.Users = DefaultQuickUsers
		}
	}
	if c.Drain == 0 {
		c.Drain = DefaultDrain
		if c.Quick {
			c.Drain = DefaultQuickDrain
		}
	}
	if c.ResyncSeedRate == 0 {
		c.ResyncSeedRate = DefaultResyncSeed
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Out == "" {
		c.Out = DefaultOut
	}
	if c.WorkDir == "" {
		c.WorkDir = os.TempDir()
	}
	if c.Network == "" {
		c.Network = DefaultNetwork
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return c
}

// faultDefaults sets a fault run's own defaults.
func (c Config) faultDefaults() Config {
	if len(c.Rates) == 0 {
		c.Rates = []int{DefaultFaultRate}
	}
	if c.Duration == 0 {
		c.Duration = DefaultFaultDuration
	}
	if c.Users == 0 {
		c.Users = DefaultFaultUsers
	}
	if c.Drain == 0 {
		c.Drain = DefaultFaultDrain
	}
	if c.FaultSchedule == nil {
		c.FaultSchedule, _ = ParseFaultSchedule(DefaultFaultSchedule)
	}
	if c.FaultDowntime == 0 {
		c.FaultDowntime = DefaultFaultDowntime
	}
	return c
}

func (c Config) hasFloor() bool {
	for _, t := range c.Targets {
		if t.Kind == KindFloor {
			return true
		}
	}
	return false
}

// validateFaults checks a fault run's settings.
func (c Config) validateFaults() []error {
	var errs []error
	if c.hasFloor() {
		errs = append(errs, errors.New("faults need ssogate targets: the floor is not killed"))
	}
	if c.Resync > 0 {
		errs = append(errs, errors.New("faults and resync exclude each other"))
	}
	if c.ProfileDir != "" {
		errs = append(errs, errors.New("faults and profiles exclude each other (a restarted child's profile would be cut)"))
	}
	if len(c.Rates) != 1 {
		errs = append(errs, fmt.Errorf("faults run at one rate, not %d", len(c.Rates)))
	}
	if len(c.FaultSchedule) == 0 {
		errs = append(errs, errors.New("the fault schedule is empty"))
	}
	if c.FaultDowntime <= 0 {
		errs = append(errs, fmt.Errorf("fault downtime %s must be positive", c.FaultDowntime))
	}
	var prev time.Duration
	for i, f := range c.FaultSchedule {
		switch f.Target {
		case FaultGateway, FaultHub, FaultBoth:
		default:
			errs = append(errs, fmt.Errorf("faults[%d]: unknown target %q", i, f.Target))
		}
		if f.At >= c.Duration {
			errs = append(errs, fmt.Errorf("faults[%d]: %s is not within the load (%s)", i, f.At, c.Duration))
		}
		if i > 0 && f.At < prev+c.FaultDowntime {
			errs = append(errs, fmt.Errorf("faults[%d]: %s comes before the previous fault's restart (%s + downtime %s)", i, f.At, prev, c.FaultDowntime))
		}
		prev = f.At
	}
	return errs
}

// validate reports every problem at once.
func (c Config) validate() error {
	var errs []error
	needSsogate := false
	seen := map[string]bool{}
	for i, t := range c.Targets {
		switch t.Kind {
		case KindSQLite, KindPostgres:
			needSsogate = true
		case KindFloor:
		default:
			errs = append(errs, fmt.Errorf("targets[%d]: unknown kind %q", i, t.Kind))
		}
		if t.Kind == KindPostgres && t.DatabaseURL == "" {
			errs = append(errs, fmt.Errorf("targets[%d]: postgres needs a database URL", i))
		}
		if seen[t.Kind] {
			errs = append(errs, fmt.Errorf("targets[%d]: %s is listed twice", i, t.Kind))
		}
		seen[t.Kind] = true
	}
	for i, r := range c.Rates {
		if r <= 0 || r > 100_000 {
			errs = append(errs, fmt.Errorf("rates[%d]: %d is not from 1 to 100000 per second", i, r))
		}
	}
	if c.Duration < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("duration %s is shorter than 100ms", c.Duration))
	}
	if c.Users < 1 {
		errs = append(errs, fmt.Errorf("users %d must be at least 1", c.Users))
	}
	if c.Drain <= 0 {
		errs = append(errs, fmt.Errorf("drain %s must be positive", c.Drain))
	}
	if c.PostgresAnalyzeEvery < 0 {
		errs = append(errs, fmt.Errorf("postgres analyze interval %s must not be negative", c.PostgresAnalyzeEvery))
	}
	if c.PostgresAnalyzeEvery > 0 && c.PostgresSkipAnalyze {
		errs = append(errs, errors.New("skipping ANALYZE and running it during the load exclude each other"))
	}
	if c.Resync < 0 || c.Resync > 10_000_000 {
		errs = append(errs, fmt.Errorf("resync %d is not from 0 to 10000000 users", c.Resync))
	}
	if c.Resync > 0 && seen[KindFloor] {
		errs = append(errs, errors.New("resync needs ssogate targets: the floor has no ping command"))
	}
	if c.Faults {
		errs = append(errs, c.validateFaults()...)
	}
	if c.ResyncSeedRate < 1 || c.ResyncSeedRate > 100_000 {
		errs = append(errs, fmt.Errorf("resync seed rate %d is not from 1 to 100000 per second", c.ResyncSeedRate))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("max in flight %d must be at least 1", c.MaxInFlight))
	}
	if (needSsogate || c.Browser) && c.SsogateBin == "" {
		errs = append(errs, errors.New("the ssogate binary is required for sqlite and postgres targets and --browser"))
	}
	if seen[KindFloor] && c.SelfBin == "" {
		errs = append(errs, errors.New("the ssogate-bench binary (floor-gateway, floor-hub) is required for the floor"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: invalid config: %w", err)
	}
	return nil
}
