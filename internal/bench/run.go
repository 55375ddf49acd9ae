package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// warmupTimeout bounds the first round trip of a step (registration of the
// pull URL included).
const warmupTimeout = 90 * time.Second

// Dist summarizes latencies.
type Dist struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

// distOf returns the nearest-rank percentiles of d (sorted in place).
func distOf(d []time.Duration) Dist {
	if len(d) == 0 {
		return Dist{}
	}
	slices.Sort(d)
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(d)))) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return Dist{N: len(d), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: d[len(d)-1]}
}

// ProcResult is one child's resource use over a step.
type ProcResult struct {
	Role string
	// CPU is user+system time from the end of the warm-up to the end of
	// the drain; Cores is CPU over that wall time.
	CPU   time.Duration
	Cores float64
	// PeakRSS is VmHWM at the end of the step (the process started with the
	// step).
	PeakRSS int64
}

// StepResult is one target at one offered rate.
type StepResult struct {
	Target   string
	Rate     int
	Duration time.Duration
	// Err is set when the step could not run; the other fields are then
	// partial or zero.
	Err string

	Sent     int
	Accepted int
	// Superseded counts 202 answers "stale" (or "unchanged"): a newer
	// change of the same user had committed first, so this one applied
	// nothing and counts as delivered when the hub shows that newer one.
	// They happen when webhooks for one user wait long enough to commit out
	// of the order they arrived in.
	Superseded int
	Errors     int
	ErrorKind  map[string]int
	// Accept is the webhook answer latency, from the intended send time.
	Accept Dist
	// Update is the webhook → remote profile updated latency, from the
	// intended send time to the update seen on the hub's stream.
	Update Dist
	// ToPing, PingToPull and PullToSeen split the update latency of the
	// changes the stream showed exactly, with the hub's timestamps in the
	// event: intended send → the hub received the (oldest pending) ping,
	// → the pull recorded the profile, → the harness read the event.
	ToPing, PingToPull, PullToSeen Dist
	// AcceptedPerSec is accepted webhooks over the load duration;
	// DeliveredPerSec delivered changes over the time from the first
	// intended send to the last delivery (the sustained rate).
	AcceptedPerSec, DeliveredPerSec float64
	// Lost counts accepted changes the hub had not shown when the drain
	// deadline passed (late or lost: never dropped from the figures).
	Lost int
	// Reread counts changes found by reading the hub's profiles after the
	// drain because the stream never showed them (missed notifications).
	Reread int
	// Lagged counts "lagged" events on the update stream.
	Lagged int
	// Saturated counts sends that waited for a free sender.
	Saturated int
	// DrainTime is from the last intended send to the last delivery.
	DrainTime time.Duration
	// MaxGatewayQueue and MaxHubQueue are the largest depths scraped (NaN
	// for the floor).
	MaxGatewayQueue, MaxHubQueue float64
	Procs                        []ProcResult
	// HarnessCores is the load generator's own CPU use over the step;
	// MachineCores the whole machine's (all processes, the database server
	// included).
	HarnessCores, MachineCores float64
	// Xacts is what a PostgreSQL target committed over the measured window
	// (see Xacts for how it is counted); nil for SQLite, the floor, and
	// PostgreSQL in the schema fallback (one database for both roles).
	Xacts *Xacts
	// AnalyzeInWindow is how many times the harness ran ANALYZE during the
	// measured window (PostgreSQL with Config.PostgresAnalyzeEvery; 0
	// otherwise: the one ANALYZE after the warm-up is before the window).
	AnalyzeInWindow int
	Samples         []Sample
}

// prepareRun checks cfg (with its defaults applied) and makes the output's
// log directory, which it returns: the start of Run, Resync and Faults.
func prepareRun(cfg Config) (string, error) {
	if err := cfg.validate(); err != nil {
		return "", err
	}
	logDir := filepath.Join(cfg.Out, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return "", fmt.Errorf("bench: output directory: %w", err)
	}
	return logDir, nil
}

// Run measures every target at every rate and writes the reports under
// cfg.Out. It returns the results and an error naming the steps that could
// not run (the reports include what could).
//
// With cfg.Resync it runs the resync instead (see Resync) and returns no
// step results.
func Run(ctx context.Context, cfg Config) ([]StepResult, error) {
	if cfg.Resync > 0 {
		_, err := Resync(ctx, cfg)
		return nil, err
	}
	cfg = cfg.WithDefaults()
	logDir, err := prepareRun(cfg)
	if err != nil {
		return nil, err
	}
	var results []StepResult
	var errs []error
	for _, spec := range cfg.Targets {
		for _, rate := range cfg.Rates {
			if err := ctx.Err(); err != nil {
				return results, err
			}
			cfg.Logger.InfoContext(ctx, "step", "target", spec.Name(), "rate", rate, "duration", cfg.Duration)
			res, err := runStep(ctx, cfg, spec, rate, logDir)
			if err != nil {
				res.Err = err.Error()
				errs = append(errs, fmt.Errorf("%s at %d/s: %w", spec.Name(), rate, err))
				cfg.Logger.ErrorContext(ctx, "step failed", "target", spec.Name(), "rate", rate, "error", err)
			} else {
				cfg.Logger.InfoContext(ctx, "step done", "target", spec.Name(), "rate", rate,
					"update_p50", res.Update.P50, "update_p99", res.Update.P99, "lost", res.Lost, "errors", res.Errors,
					"commits_per_change", fmtXacts(res.Xacts), "analyze_during_load", fmtAnalyze(&res))
			}
			results = append(results, res)
		}
	}
	var browser *BrowserResult
	if cfg.Browser {
		cfg.Logger.InfoContext(ctx, "browser latency", "demo", "ssogate demo (SQLite)")
		br, err := BrowserLatency(ctx, BrowserOptions{SsogateBin: cfg.SsogateBin, WorkDir: cfg.WorkDir,
			Logf: func(format string, args ...any) { cfg.Logger.InfoContext(ctx, fmt.Sprintf(format, args...)) }})
		if err != nil {
			errs = append(errs, err)
		} else {
			browser = br
			cfg.Logger.InfoContext(ctx, "browser latency done", "p50", br.Latency.P50, "p99", br.Latency.P99, "lost", br.Lost)
		}
	}
	if err := writeReports(cfg, results, browser); err != nil {
		errs = append(errs, err)
	}
	return results, errors.Join(errs...)
}

// runStep starts a fresh system, warms it up, drives rate for
// cfg.Duration, drains and measures.
func runStep(ctx context.Context, cfg Config, spec TargetSpec, rate int, logDir string) (res StepResult, err error) {
	res = StepResult{Target: spec.Name(), Rate: rate, Duration: cfg.Duration, ErrorKind: map[string]int{},
		MaxGatewayQueue: math.NaN(), MaxHubQueue: math.NaN()}
	label := spec.Name() + "-" + strconv.Itoa(rate)
	sys, err := startSystem(ctx, cfg, spec, logDir, label)
	if err != nil {
		return res, err
	}
	defer func() {
		if stopErr := sys.stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()

	stepCtx := ctx // outlives the cancel of unanswered sends below
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := int(math.Round(float64(rate) * cfg.Duration.Seconds()))
	t := newTracker(n, cfg.Users)
	s, streamDone, err := startLoad(ctx, sys, t, cfg.MaxInFlight)
	if err != nil {
		return res, err
	}
	defer s.close()

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
	var stopAnalyze func() (int, map[string]int64)
	if len(sys.pgURLs) > 0 && cfg.PostgresAnalyzeEvery > 0 {
		stopAnalyze = analyzeEvery(ctx, sys.pgURLs, cfg.PostgresAnalyzeEvery, cfg.Logger)
		defer func() {
			if stopAnalyze != nil {
				stopAnalyze()
			}
		}()
	}
	before := map[int]procSample{}
	for _, c := range sys.children() {
		if before[c.pid()], err = readProc(c.pid()); err != nil {
			return res, err
		}
	}
	var prof *profiler
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return res, fmt.Errorf("bench: profile directory: %w", err)
		}
		prof = startProfiles(ctx, sys, cfg.ProfileDir, label, cfg.Duration)
	}
	selfBefore, machineBefore, wallBefore := selfCPU(), machineBusy(), time.Now()
	smp := startSampler(sys, t, time.Now(), time.Second)
	var wg sync.WaitGroup
	start, saturated := drive(ctx, s, t, rate, cfg.MaxInFlight, &wg)
	if prof != nil {
		for _, err := range prof.wait() {
			cfg.Logger.WarnContext(ctx, "profile", "target", spec.Name(), "rate", rate, "error", err)
		}
		if cfg.ProfileContention {
			prof.contention(ctx, sys, cfg.ProfileDir, label)
		}
	}
	loadEnd := start.Add(cfg.Duration)
	drainDeadline := time.Now().Add(cfg.Drain)
	if err := waitDrained(ctx, t, drainDeadline, streamDone); err != nil {
		cfg.Logger.WarnContext(ctx, "drain", "target", spec.Name(), "rate", rate, "error", err)
	}
	if _, behind := t.outstanding(); behind > 0 {
		res.Reread = reread(ctx, sys, t)
	}
	harnessXacts := map[string]int64{}
	if stopAnalyze != nil {
		runs, committed := stopAnalyze()
		stopAnalyze = nil
		res.AnalyzeInWindow = runs
		for i, db := range sys.pgDBs {
			harnessXacts[db] = committed[sys.pgURLs[i]]
		}
	}
	res.Samples = smp.stop()
	wall := time.Since(wallBefore)
	for _, c := range sys.children() {
		after, err := readProc(c.pid())
		if err != nil {
			return res, err
		}
		cpu := after.CPU - before[c.pid()].CPU
		res.Procs = append(res.Procs, ProcResult{Role: c.role, CPU: cpu, Cores: cpu.Seconds() / wall.Seconds(), PeakRSS: after.PeakR})
	}
	res.HarnessCores = (selfCPU() - selfBefore).Seconds() / wall.Seconds()
	res.MachineCores = (machineBusy() - machineBefore).Seconds() / wall.Seconds()
	// Answers still missing after the drain: the sends are cancelled and
	// counted as errors below.
	cancel()
	wg.Wait()
	res.Saturated = saturated
	summarize(&res, t, start, loadEnd)
	if sys.pgDBs != nil {
		after, err := settledXacts(stepCtx, spec.DatabaseURL, sys.pgDBs)
		if err != nil {
			return res, err
		}
		x := xactsBetween(xactsBefore, after, time.Now(), sys.pgDBs[0], sys.pgDBs[1], harnessXacts, res.Update.N)
		res.Xacts = &x
	}
	return res, nil
}

// startLoad follows the hub's update stream into t, opens the webhook
// sender and warms the path up; close the sender when done.
func startLoad(ctx context.Context, sys *system, t *tracker, maxInFlight int) (*sender, <-chan error, error) {
	streamDone, err := followUpdates(ctx, sys.updatesURL(), t)
	if err != nil {
		return nil, nil, err
	}
	s, err := newSender(sys.webhookURL(), sys.secrets.webhookSecret, maxInFlight)
	if err != nil {
		return nil, nil, err
	}
	if err := warmup(ctx, s, t, streamDone); err != nil {
		s.close()
		return nil, nil, fmt.Errorf("%w (logs: %s, %s)", err, sys.gateway.logPath, sys.hub.logPath)
	}
	return s, streamDone, nil
}

// warmup sends changes to the user "warmup" until one reaches the update
// stream: the gateway registered its pull URL and the whole path works.
func warmup(ctx context.Context, s *sender, t *tracker, streamDone <-chan error) error {
	deadline := time.After(warmupTimeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last string
	for k := 0; ; k++ {
		name := warmupName(k)
		status, result, _ := s.send(ctx, s.runID+"-warmup-"+strconv.Itoa(k), "warmup", name)
		if status != http.StatusAccepted {
			last = fmt.Sprintf("webhook answered %d (%s)", status, result)
		}
		for waiting := true; waiting; {
			select {
			case got := <-t.warmup:
				if got == name {
					return nil
				}
			case err := <-streamDone:
				return fmt.Errorf("bench: warm-up: the update stream ended: %v", err)
			case <-ctx.Done():
				return ctx.Err()
			case <-deadline:
				if last == "" {
					last = "webhooks accepted, no update on the hub's stream"
				}
				return fmt.Errorf("bench: warm-up: no round trip in %s: %s", warmupTimeout, last)
			case <-tick.C:
				waiting = false
			}
		}
	}
}

// waitDrained waits until every webhook was answered and the hub showed
// every user's newest accepted change, or the deadline.
func waitDrained(ctx context.Context, t *tracker, deadline time.Time, streamDone <-chan error) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		pending, behind := t.outstanding()
		if pending == 0 && behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %d webhooks unanswered and %d users behind at the drain deadline", pending, behind)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-streamDone:
			return fmt.Errorf("bench: the update stream ended: %v", err)
		case <-tick.C:
		}
	}
}

// reread reads the hub's profile of every user the stream left behind and
// counts the changes found that way.
func reread(ctx context.Context, sys *system, t *tracker) int {
	client := &http.Client{Timeout: 5 * time.Second}
	found := 0
	for _, user := range t.behindUsers() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, sys.userURL(userID(user)), nil)
		if err != nil {
			continue
		}
		req.Header.Set("Authorization", "Bearer "+sys.secrets.adminToken)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		var p struct {
			DisplayName string `json:"display_name"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK && json.Unmarshal(raw, &p) == nil && t.rereadName(user, p.DisplayName, time.Now()) {
			found++
		}
	}
	return found
}

// summarize fills res from the tracker.
func summarize(res *StepResult, t *tracker, start, loadEnd time.Time) {
	delivered := t.delivery()
	t.mu.Lock()
	defer t.mu.Unlock()
	res.Lagged = t.lagged
	var accept, update, toPing, pingToPull, pullToSeen []time.Duration
	var last time.Time
	deliveredN := 0
	for seq := range t.changes {
		c := &t.changes[seq]
		if c.intended.IsZero() {
			continue // never sent (the run was cancelled)
		}
		res.Sent++
		switch {
		case c.accepted():
			res.Accepted++
			if !c.seen.IsZero() && !c.pingAt.IsZero() && !c.pulledAt.IsZero() && !c.reread {
				toPing = append(toPing, c.pingAt.Sub(c.intended))
				pingToPull = append(pingToPull, c.pulledAt.Sub(c.pingAt))
				pullToSeen = append(pullToSeen, c.seen.Sub(c.pulledAt))
			}
			if c.result != "queued" {
				res.Superseded++
			}
			accept = append(accept, c.done.Sub(c.intended))
			if d := delivered[seq]; d.IsZero() {
				res.Lost++
			} else {
				deliveredN++
				update = append(update, d.Sub(c.intended))
				if d.After(last) {
					last = d
				}
			}
		default:
			res.Errors++
			kind := c.result
			if kind == "" {
				kind = "no_answer"
			}
			res.ErrorKind[kind]++
		}
	}
	res.Accept = distOf(accept)
	res.Update = distOf(update)
	res.ToPing, res.PingToPull, res.PullToSeen = distOf(toPing), distOf(pingToPull), distOf(pullToSeen)
	res.AcceptedPerSec = float64(res.Accepted) / res.Duration.Seconds()
	if deliveredN > 0 {
		span := max(last.Sub(start), res.Duration)
		res.DeliveredPerSec = float64(deliveredN) / span.Seconds()
		res.DrainTime = max(last.Sub(loadEnd), 0)
	}
	for _, s := range res.Samples {
		res.MaxGatewayQueue = nanMax(res.MaxGatewayQueue, s.GatewayQueue)
		res.MaxHubQueue = nanMax(res.MaxHubQueue, s.HubQueue)
	}
}

func nanMax(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return math.Max(a, b)
}

// sortResults orders results by target (in cfg order) then rate.
func sortResults(cfg Config, rs []StepResult) {
	order := map[string]int{}
	for i, t := range cfg.Targets {
		order[t.Name()] = i
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if order[rs[i].Target] != order[rs[j].Target] {
			return order[rs[i].Target] < order[rs[j].Target]
		}
		return rs[i].Rate < rs[j].Rate
	})
}
