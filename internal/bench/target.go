package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// readyTimeout bounds a child's start (migrations included).
const readyTimeout = 90 * time.Second

// stopGrace is how long a child gets to stop after SIGTERM.
const stopGrace = 20 * time.Second

// secrets are one step's network key, webhook secret and admin token.
type secrets struct {
	networkKey    string
	webhookSecret string
	adminToken    string
}

func newSecrets() secrets {
	return secrets{
		networkKey:    randomHex(24),
		webhookSecret: "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(32)),
		adminToken:    randomHex(24),
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// system is a running gateway and hub.
type system struct {
	spec    TargetSpec
	network string
	secrets secrets
	gateway *child
	hub     *child
	// scrape is true when both children serve ssogate's /metrics.
	scrape bool
	// pgURLs are the PostgreSQL databases (or schemas) the step created,
	// the gateway's first; pgDBs their database names when they are
	// databases of their own (nil with the schema fallback, where both
	// roles and the harness share one database and pg_stat_database cannot
	// tell them apart).
	pgURLs  []string
	pgDBs   []string
	cleanup []func()
	// gwEnv is the gateway child's configuration (SSOGATE_… variables),
	// for one-off commands against its database (ssogate ping).
	gwEnv []string
	// dataDirs are the roles' data directories (SQLite databases).
	dataDirs map[string]string
	// launch is how each role was started, so that a fault run can start
	// it again on the same address and data (see restart).
	launch map[string]launchSpec
}

// launchSpec is one child's command line, environment and address.
type launchSpec struct {
	bin     string
	args    []string
	env     []string
	baseURL string
}

func (s *system) webhookURL() string { return s.gateway.baseURL + "/hooks/profile-changed" }

func (s *system) updatesURL() string {
	return s.hub.baseURL + "/api/networks/" + url.PathEscape(s.network) + "/updates"
}

func (s *system) userURL(id string) string {
	return s.hub.baseURL + "/api/networks/" + url.PathEscape(s.network) + "/users/" + url.PathEscape(id)
}

func (s *system) children() []*child { return []*child{s.gateway, s.hub} }

// stop stops both children (gateway first: it pings the hub) and removes
// what the step created.
func (s *system) stop() error {
	var errs []error
	for _, c := range []*child{s.gateway, s.hub} {
		if c != nil {
			if err := c.stop(stopGrace); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	return errors.Join(errs...)
}

// startSystem starts spec's hub, then its gateway, and waits for both to
// be ready. Their data directories are in a fresh directory under
// cfg.WorkDir, removed by stop; logDir holds the children's logs named
// after label.
func startSystem(ctx context.Context, cfg Config, spec TargetSpec, logDir, label string) (_ *system, err error) {
	stepDir, err := os.MkdirTemp(cfg.WorkDir, "ssogate-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: work dir: %w", err)
	}
	sys := &system{spec: spec, network: cfg.Network, secrets: newSecrets(), dataDirs: map[string]string{}, launch: map[string]launchSpec{}}
	// First in, so last out: the children and their databases go first.
	sys.cleanup = append(sys.cleanup, func() { _ = os.RemoveAll(stepDir) })
	defer func() {
		if err != nil {
			_ = sys.stop()
		}
	}()
	hubPort, err := freePort()
	if err != nil {
		return nil, err
	}
	gwPort, err := freePort()
	if err != nil {
		return nil, err
	}
	hubURL := "http://127.0.0.1:" + strconv.Itoa(hubPort)
	gwURL := "http://127.0.0.1:" + strconv.Itoa(gwPort)
	common := []string{
		"SSOGATE_NETWORK_NAME=" + cfg.Network,
		"SSOGATE_NETWORK_KEY=" + sys.secrets.networkKey,
	}
	gwEnv := []string{
		"SSOGATE_LISTEN=127.0.0.1:" + strconv.Itoa(gwPort),
		"SSOGATE_PUBLIC_URL=" + gwURL,
		"SSOGATE_HUB_URL=" + hubURL,
		"SSOGATE_WEBHOOK_SECRETS=" + sys.secrets.webhookSecret,
	}
	hubEnv := []string{
		"SSOGATE_LISTEN=127.0.0.1:" + strconv.Itoa(hubPort),
	}

	var bin string
	var gwArgs, hubArgs []string
	switch spec.Kind {
	case KindFloor:
		bin, gwArgs, hubArgs = cfg.SelfBin, []string{"floor-gateway"}, []string{"floor-hub"}
	default:
		sys.scrape = true
		bin, gwArgs, hubArgs = cfg.SsogateBin, []string{"serve"}, []string{"hub"}
		common = append(common, "SSOGATE_ADMIN_TOKEN="+sys.secrets.adminToken)
		if cfg.ChildLogLevel != "" {
			common = append(common, "SSOGATE_LOG_LEVEL="+cfg.ChildLogLevel)
		}
		gwEnv = append(gwEnv, "SSOGATE_WEBHOOK_RATE=-1") // no limit: the load is the point
		// The update stream, which times each change, is part of the
		// hub's demo app.
		hubEnv = append(hubEnv, "SSOGATE_ALLOW_PRIVATE_TARGETS=true", "SSOGATE_DEMO_APP=true")
		for _, role := range []string{"gateway", "hub"} {
			dir := filepath.Join(stepDir, role)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("bench: data dir: %w", err)
			}
			sys.dataDirs[role] = dir
			dbURL := "sqlite:" + filepath.Join(dir, "ssogate.db")
			if spec.Kind == KindPostgres {
				u, db, drop, err := provisionPostgres(ctx, spec.DatabaseURL, role)
				if err != nil {
					return nil, err
				}
				sys.cleanup = append(sys.cleanup, drop)
				sys.pgURLs = append(sys.pgURLs, u)
				if db != "" {
					sys.pgDBs = append(sys.pgDBs, db)
				}
				dbURL = u
			}
			env := []string{"SSOGATE_DATA_DIR=" + dir, "SSOGATE_DATABASE_URL=" + dbURL}
			if role == "gateway" {
				gwEnv = append(gwEnv, env...)
			} else {
				hubEnv = append(hubEnv, env...)
			}
		}
	}
	gwEnv = append(append(append([]string(nil), common...), gwEnv...), cfg.ChildEnv...)
	hubEnv = append(append(append([]string(nil), common...), hubEnv...), cfg.ChildEnv...)
	sys.gwEnv = gwEnv
	if len(sys.pgDBs) != 2 {
		sys.pgDBs = nil
	}
	var gwPprof, hubPprof string
	if cfg.ProfileDir != "" {
		if gwPprof, hubPprof, err = pprofAddrs(); err != nil {
			return nil, err
		}
		gwEnv = append(gwEnv, envPprofAddr+"="+gwPprof)
		hubEnv = append(hubEnv, envPprofAddr+"="+hubPprof)
		if cfg.ProfileContention {
			gwEnv = append(gwEnv, envPprofContention+"=1")
			hubEnv = append(hubEnv, envPprofContention+"=1")
		}
	}

	sys.launch["hub"] = launchSpec{bin: bin, args: hubArgs, env: hubEnv, baseURL: hubURL}
	sys.launch["gateway"] = launchSpec{bin: bin, args: gwArgs, env: gwEnv, baseURL: gwURL}
	// The hub first, so the gateway's registration succeeds at once.
	if sys.hub, err = startChild("hub", bin, hubArgs, hubEnv, hubURL, filepath.Join(logDir, label+"-hub.log")); err != nil {
		return nil, err
	}
	sys.hub.pprofAddr = hubPprof
	if err := sys.hub.waitReady(ctx, readyTimeout); err != nil {
		return nil, err
	}
	if sys.gateway, err = startChild("gateway", bin, gwArgs, gwEnv, gwURL, filepath.Join(logDir, label+"-gateway.log")); err != nil {
		return nil, err
	}
	sys.gateway.pprofAddr = gwPprof
	if err := sys.gateway.waitReady(ctx, readyTimeout); err != nil {
		return nil, err
	}
	return sys, nil
}

// provisionPostgres creates an empty database for one process on the
// server of base and returns its URL, its name and a function that drops
// it. Without
// the CREATE DATABASE privilege it falls back to a schema (named in the
// URL's search_path); the two processes then share the database's
// notification channels, which only costs spurious wake-ups, and the name
// returned is empty.
func provisionPostgres(ctx context.Context, base, role string) (string, string, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", "", nil, fmt.Errorf("bench: connect to PostgreSQL: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	u, err := url.Parse(base)
	if err != nil {
		return "", "", nil, errors.New("bench: the PostgreSQL URL does not parse")
	}
	name := "ssogate_bench_" + role + "_" + randomHex(4)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err = conn.Exec(ctx, "CREATE DATABASE "+ident); err == nil {
		u.Path = "/" + name
		return u.String(), name, func() { dropPostgres(base, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)") }, nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		return "", "", nil, fmt.Errorf("bench: create database: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		return "", "", nil, fmt.Errorf("bench: create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), "", func() { dropPostgres(base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE") }, nil
}

func dropPostgres(base, stmt string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, _ = conn.Exec(ctx, stmt)
}

// redactURL hides a URL's password for logs and reports.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return strings.TrimSpace(u.String())
}

// DefaultPostgresAnalyzeEvery is the interval of --pg-analyze-every when
// it is asked for without one; the harness runs no ANALYZE during the
// measured window unless asked (see analyzePostgres).
const DefaultPostgresAnalyzeEvery = 5 * time.Second

// analyzePostgres runs ANALYZE in the step's databases and returns, per
// URL, the transactions that committed there (harnessXactsPerAnalyze on
// success). Each step starts on an empty database whose river_job table
// then grows from nothing to tens of thousands of rows in seconds.
// PostgreSQL plans (and, through pgx's prepared statements, keeps) River's
// job updates for the size it last analyzed: without any statistics, a
// sequential scan of river_job per job, about 450 scans and 1.7 million
// tuples read per second at 500 changes/s. A database that has been
// running holds a day of completed jobs and is analyzed by autovacuum, so
// it never plans that way; analyzing after the warm-up stands in for that.
// Analyzing again every few seconds during the load
// (Config.PostgresAnalyzeEvery) follows the table's growth but took 16–20%
// of the server's CPU in the measured window, so it is opt-in.
//
// The ANALYZE runs in one explicit transaction: without one, ANALYZE of a
// whole database commits a transaction per table (some seventy), which
// would swamp the transaction counts of the window.
func analyzePostgres(ctx context.Context, urls []string) (map[string]int64, error) {
	committed := map[string]int64{}
	for _, u := range urls {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return committed, fmt.Errorf("bench: analyze: %w", err)
		}
		committed[u]++ // the connection's start-up transaction
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "ANALYZE")
			return err
		})
		_ = conn.Close(context.Background())
		if err != nil {
			return committed, fmt.Errorf("bench: analyze: %w", err)
		}
		committed[u]++
	}
	return committed, nil
}

// analyzeEvery runs analyzePostgres every interval until the returned
// function is called, which returns how many runs there were and what they
// committed per URL.
func analyzeEvery(ctx context.Context, urls []string, interval time.Duration, log *slog.Logger) (stop func() (runs int, committed map[string]int64)) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	runs := 0
	committed := map[string]int64{}
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				c, err := analyzePostgres(ctx, urls)
				for u, n := range c {
					committed[u] += n
				}
				runs++
				if err != nil && ctx.Err() == nil {
					log.WarnContext(ctx, "analyze", "error", err)
				}
			}
		}
	}()
	return func() (int, map[string]int64) {
		cancel()
		<-done
		return runs, committed
	}
}
