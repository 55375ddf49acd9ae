package bench

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the hub's SQLite database, read-only
)

// resyncPoll is how often the harness reads the hub's remote profiles
// during a resync.
const resyncPoll = 100 * time.Millisecond

// ResyncResult is one target's resync: Users profiles seeded at the
// gateway through signed webhooks, then all of them pinged again by one
// `ssogate ping --stdin` (an initial or repair sync), timed from the
// command's start until the hub had pulled every user.
type ResyncResult struct {
	Target string
	Users  int
	// Err is set when the resync could not run or did not finish.
	Err string
	// Seed is how long seeding took: from the first webhook until the hub
	// showed every user.
	Seed time.Duration
	// Elapsed is from the start of `ssogate ping` until the hub recorded a
	// new pull of every user (or the deadline).
	Elapsed time.Duration
	// Pulled is how many users the hub pulled again within Elapsed.
	Pulled int
	// PerSec is Pulled over Elapsed.
	PerSec float64
	// PingExit is when the ping command exited, from its start (it follows
	// delivery through the gateway's timelines, polling, so it ends a
	// little after the hub's last pull); PingCPU its CPU time.
	PingExit, PingCPU time.Duration
	// Procs are the gateway's and hub's CPU over Elapsed.
	Procs []ProcResult
	// Xacts is what a PostgreSQL target committed from the start of the
	// ping command to the hub's last pull (plus the stats waits), per user
	// pulled, the harness's polls of the hub's database subtracted; the
	// ping command's own transactions count as the gateway's. Nil
	// otherwise.
	Xacts *Xacts
}

// HoursFor10M extrapolates the rate to ten million users, in hours (NaN
// without a rate).
func (r ResyncResult) HoursFor10M() float64 {
	if r.PerSec <= 0 {
		return math.NaN()
	}
	return 10e6 / r.PerSec / 3600
}

// resyncTimeout bounds the wait for n users' pulls: ten minutes and 10ms a
// user.
func resyncTimeout(n int) time.Duration { return 10*time.Minute + time.Duration(n)*10*time.Millisecond }

// Resync runs the resync measurement on every target of cfg (cfg.Resync
// users) and writes the reports under cfg.Out.
func Resync(ctx context.Context, cfg Config) ([]ResyncResult, error) {
	cfg = cfg.WithDefaults()
	if cfg.Resync <= 0 {
		return nil, errors.New("bench: resync: Config.Resync must be positive")
	}
	logDir, err := prepareRun(cfg)
	if err != nil {
		return nil, err
	}
	var out []ResyncResult
	var errs []error
	for _, spec := range cfg.Targets {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		cfg.Logger.InfoContext(ctx, "resync", "target", spec.Name(), "users", cfg.Resync, "seed_rate", cfg.ResyncSeedRate)
		res, err := runResync(ctx, cfg, spec, logDir)
		if err != nil {
			res.Err = err.Error()
			errs = append(errs, fmt.Errorf("%s resync: %w", spec.Name(), err))
			cfg.Logger.ErrorContext(ctx, "resync failed", "target", spec.Name(), "error", err)
		} else {
			cfg.Logger.InfoContext(ctx, "resync done", "target", spec.Name(), "users", res.Users, "elapsed", res.Elapsed,
				"per_sec", res.PerSec, "hours_for_10M", res.HoursFor10M())
		}
		out = append(out, res)
	}
	if err := writeResyncReports(cfg, out); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func runResync(ctx context.Context, cfg Config, spec TargetSpec, logDir string) (res ResyncResult, err error) {
	n := cfg.Resync
	res = ResyncResult{Target: spec.Name(), Users: n}
	sys, err := startSystem(ctx, cfg, spec, logDir, spec.Name()+"-resync")
	if err != nil {
		return res, err
	}
	defer func() {
		if stopErr := sys.stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Seed: one change per user, through the webhook, until the hub shows
	// every user.
	t := newTracker(n, n)
	s, streamDone, err := startLoad(ctx, sys, t, cfg.MaxInFlight)
	if err != nil {
		return res, err
	}
	defer s.close()
	var wg sync.WaitGroup
	seedStart, _ := drive(ctx, s, t, cfg.ResyncSeedRate, cfg.MaxInFlight, &wg)
	seedDeadline := time.Now().Add(cfg.Drain + time.Duration(n)*10*time.Millisecond)
	if err := waitDrained(ctx, t, seedDeadline, streamDone); err != nil {
		return res, fmt.Errorf("bench: resync: seeding: %w", err)
	}
	wg.Wait()
	res.Seed = time.Since(seedStart)

	hub, err := openHubDB(ctx, sys)
	if err != nil {
		return res, err
	}
	defer hub.close()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = userID(i)
	}
	// Nothing may still be pending at the hub (the seed's pulls are
	// recorded before the stream shows them, but a coalesced ping may come
	// after): wait for quiet, and take each user's pulled_seq as the base.
	base, err := waitHubQuiet(ctx, hub, sys.network, ids, time.Now().Add(cfg.Drain))
	if err != nil {
		return res, err
	}
	if len(sys.pgURLs) > 0 && !cfg.PostgresSkipAnalyze {
		if _, err := analyzePostgres(ctx, sys.pgURLs); err != nil {
			return res, err
		}
	}
	var xactsBefore xactStart
	if sys.pgDBs != nil {
		if xactsBefore, err = startXacts(ctx, spec.DatabaseURL, sys.pgDBs); err != nil {
			return res, err
		}
	}

	pollsBefore := hub.polls
	before := map[int]procSample{}
	for _, c := range sys.children() {
		if before[c.pid()], err = readProc(c.pid()); err != nil {
			return res, err
		}
	}
	timeout := resyncTimeout(n)
	// With --profile, the children's CPU over the resync's first
	// --duration (the profiles are taken however long it runs).
	var prof *profiler
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return res, fmt.Errorf("bench: profile directory: %w", err)
		}
		prof = startProfiles(ctx, sys, cfg.ProfileDir, spec.Name()+"-resync", cfg.Duration)
	}
	start := time.Now()
	ping, err := startPing(ctx, cfg.SsogateBin, sys.gwEnv, ids, timeout, filepath.Join(logDir, spec.Name()+"-resync-ping.log"))
	if err != nil {
		return res, err
	}
	pulled, waitErr := waitHubPulled(ctx, hub, sys.network, base, start, start.Add(timeout), ping.exited)
	res.Elapsed = time.Since(start)
	res.Pulled = pulled
	res.PerSec = float64(pulled) / res.Elapsed.Seconds()
	for _, c := range sys.children() {
		after, err := readProc(c.pid())
		if err != nil {
			return res, err
		}
		cpu := after.CPU - before[c.pid()].CPU
		res.Procs = append(res.Procs, ProcResult{Role: c.role, CPU: cpu, Cores: cpu.Seconds() / res.Elapsed.Seconds(), PeakRSS: after.PeakR})
	}
	pingErr := ping.wait(ctx, 30*time.Second)
	res.PingExit, res.PingCPU = ping.exitAt.Sub(start), ping.cpu
	if prof != nil {
		for _, err := range prof.wait() {
			cfg.Logger.WarnContext(ctx, "profile", "target", spec.Name(), "error", err)
		}
	}
	if sys.pgDBs != nil {
		after, err := settledXacts(ctx, spec.DatabaseURL, sys.pgDBs)
		if err != nil {
			return res, err
		}
		harness := map[string]int64{sys.pgDBs[1]: hub.polls - pollsBefore}
		x := xactsBetween(xactsBefore, after, time.Now(), sys.pgDBs[0], sys.pgDBs[1], harness, pulled)
		res.Xacts = &x
	}
	if waitErr != nil {
		return res, errors.Join(waitErr, pingErr)
	}
	return res, pingErr
}

// pingRun is a running `ssogate ping --stdin`.
type pingRun struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
	exitAt  time.Time
	cpu     time.Duration
}

// startPing runs `ssogate ping --stdin --wait` with the gateway's
// configuration (its listeners left out) and ids on standard input.
func startPing(ctx context.Context, bin string, gwEnv, ids []string, timeout time.Duration, logPath string) (*pingRun, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: ping log: %w", err)
	}
	env := cleanEnv(os.Environ())
	for _, kv := range gwEnv {
		k, _, _ := strings.Cut(kv, "=")
		if k != "SSOGATE_LISTEN" && k != envPprofAddr && k != envPprofContention {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin, "ping", "--stdin", "--wait", "--wait-timeout", timeout.String())
	cmd.Env = env
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("bench: start ssogate ping: %w", err)
	}
	p := &pingRun{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		p.exitAt = time.Now()
		if st := cmd.ProcessState; st != nil {
			p.cpu = st.UserTime() + st.SystemTime()
		}
		_ = f.Close()
		close(p.exited)
	}()
	return p, nil
}

// wait waits up to grace for the command to end (then kills it) and
// reports how it ended.
func (p *pingRun) wait(ctx context.Context, grace time.Duration) error {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.exited
		return ctx.Err()
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("bench: ssogate ping still ran %s after the hub had every pull; killed (log %s)", grace, p.logPath)
	}
	if p.waitErr != nil {
		tail, _ := os.ReadFile(p.logPath)
		return fmt.Errorf("bench: ssogate ping: %v; log %s:\n%s", p.waitErr, p.logPath, lastLines(string(tail), 10))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// hubDB reads the hub's remote profiles straight from its database:
// polling the users API instead would put the harness's reads on the hub's
// CPU, which the resync measures. A PostgreSQL read commits one
// transaction in the hub's database (one simple-protocol query, so no
// separate prepare); polls counts them, and a resync's Xacts subtract
// those of its window.
type hubDB struct {
	pg    *pgx.Conn
	sql   *sql.DB
	polls int64
}

func openHubDB(ctx context.Context, sys *system) (*hubDB, error) {
	if len(sys.pgURLs) == 2 {
		conn, err := pgx.Connect(ctx, sys.pgURLs[1])
		if err != nil {
			return nil, fmt.Errorf("bench: hub database: %w", err)
		}
		return &hubDB{pg: conn}, nil
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(sys.dataDirs["hub"], "ssogate.db")+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("bench: hub database: %w", err)
	}
	db.SetMaxOpenConns(1)
	return &hubDB{sql: db}, nil
}

func (h *hubDB) close() {
	if h.pg != nil {
		_ = h.pg.Close(context.Background())
	}
	if h.sql != nil {
		_ = h.sql.Close()
	}
}

// seqs is a remote profile's ping and pull counters.
type seqs struct{ ping, pulled int64 }

// profiles reads every remote profile's counters of network.
func (h *hubDB) profiles(ctx context.Context, network string) (map[string]seqs, error) {
	out := map[string]seqs{}
	add := func(id string, ping, pulled int64) { out[id] = seqs{ping: ping, pulled: pulled} }
	// The same table is remote_profile in SQLite and hub_remote_profile in
	// PostgreSQL (store/*/migrations).
	const cols = "SELECT user_id, ping_seq, pulled_seq FROM "
	if h.pg != nil {
		h.polls++
		rows, err := h.pg.Query(ctx, cols+"hub_remote_profile WHERE network = $1", pgx.QueryExecModeSimpleProtocol, network)
		if err != nil {
			return nil, fmt.Errorf("bench: read the hub's remote profiles: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var ping, pulled int64
			if err := rows.Scan(&id, &ping, &pulled); err != nil {
				return nil, fmt.Errorf("bench: read the hub's remote profiles: %w", err)
			}
			add(id, ping, pulled)
		}
		return out, rows.Err()
	}
	rows, err := h.sql.QueryContext(ctx, cols+"remote_profile WHERE network = ?", network)
	if err != nil {
		return nil, fmt.Errorf("bench: read the hub's remote profiles: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id string
		var ping, pulled int64
		if err := rows.Scan(&id, &ping, &pulled); err != nil {
			return nil, fmt.Errorf("bench: read the hub's remote profiles: %w", err)
		}
		add(id, ping, pulled)
	}
	return out, rows.Err()
}

// quietBase returns each id's pulled_seq when every id is at the hub with
// nothing pending (pulled_seq = ping_seq), else nil and how many are not.
func quietBase(profiles map[string]seqs, ids []string) (map[string]int64, int) {
	base := make(map[string]int64, len(ids))
	notQuiet := 0
	for _, id := range ids {
		p, ok := profiles[id]
		if !ok || p.pulled < p.ping {
			notQuiet++
			continue
		}
		base[id] = p.pulled
	}
	if notQuiet > 0 {
		return nil, notQuiet
	}
	return base, 0
}

// pulledSince counts the ids whose pulled_seq moved past base.
func pulledSince(profiles map[string]seqs, base map[string]int64) int {
	n := 0
	for id, b := range base {
		if p, ok := profiles[id]; ok && p.pulled > b {
			n++
		}
	}
	return n
}

// waitHubQuiet polls until every id is at the hub with nothing pending and
// returns their pulled_seq.
func waitHubQuiet(ctx context.Context, hub *hubDB, network string, ids []string, deadline time.Time) (map[string]int64, error) {
	tick := time.NewTicker(resyncPoll)
	defer tick.Stop()
	for {
		profiles, err := hub.profiles(ctx, network)
		if err != nil {
			return nil, err
		}
		base, notQuiet := quietBase(profiles, ids)
		if base != nil {
			return base, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bench: resync: %d of %d seeded users missing or pending at the hub", notQuiet, len(ids))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// waitHubPulled polls until every user of base was pulled again or the
// deadline, and returns how many were. When the ping command ends first
// (its own view, the gateway's timelines, has every pull, or it failed),
// the deadline shrinks to a moment later: the hub records a pull just
// after the gateway served it. On PostgreSQL the polls count the profiles
// pulled since start in the database (one row back, not every profile:
// reading them all every poll cost the server about a fifth of a core,
// which the measured system shares); the answer is always checked against
// every profile's pulled_seq.
func waitHubPulled(ctx context.Context, hub *hubDB, network string, base map[string]int64, start, deadline time.Time, pingExited <-chan struct{}) (int, error) {
	tick := time.NewTicker(resyncPoll)
	defer tick.Stop()
	exact := func() (int, error) {
		profiles, err := hub.profiles(ctx, network)
		if err != nil {
			return 0, err
		}
		return pulledSince(profiles, base), nil
	}
	for {
		var n int
		var err error
		if hub.pg != nil {
			n, err = hub.pulledCount(ctx, network, start)
		}
		if err == nil && (hub.pg == nil || n >= len(base) || time.Now().After(deadline)) {
			n, err = exact()
		}
		if err != nil {
			return 0, err
		}
		if n == len(base) {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("bench: resync: %d of %d users pulled again at the hub by the deadline", n, len(base))
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-pingExited:
			pingExited = nil
			if d := time.Now().Add(5 * time.Second); d.Before(deadline) {
				deadline = d
			}
		case <-tick.C:
		}
	}
}

// pulledCount counts network's remote profiles (PostgreSQL) whose last
// pull attempt since start succeeded: a cheap progress figure, not the
// exact one (a later failed attempt hides an earlier success).
func (h *hubDB) pulledCount(ctx context.Context, network string, since time.Time) (int, error) {
	h.polls++
	var n int
	err := h.pg.QueryRow(ctx,
		`SELECT count(*) FROM hub_remote_profile
		 WHERE network = $1 AND last_pull_at >= $2 AND last_pull_result NOT LIKE 'error%'`,
		pgx.QueryExecModeSimpleProtocol, network, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("bench: count the hub's pulls: %w", err)
	}
	return n, nil
}

// writeResyncReports writes results.csv and results.md under cfg.Out and
// prints the Markdown.
func writeResyncReports(cfg Config, rs []ResyncResult) error {
	var csvBuf bytes.Buffer
	writeResyncCSV(&csvBuf, rs)
	var md strings.Builder
	writeResyncMarkdown(&md, rs)
	var errs []string
	if err := os.WriteFile(filepath.Join(cfg.Out, "results.csv"), csvBuf.Bytes(), 0o644); err != nil {
		errs = append(errs, err.Error())
	}
	if err := os.WriteFile(filepath.Join(cfg.Out, "results.md"), []byte(md.String()), 0o644); err != nil {
		errs = append(errs, err.Error())
	}
	_, _ = fmt.Fprint(cfg.Stdout, md.String())
	if len(errs) > 0 {
		return fmt.Errorf("bench: reports: %s", strings.Join(errs, "; "))
	}
	return nil
}
