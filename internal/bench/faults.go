package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault targets: which child processes a fault kills.
const (
	FaultGateway = "gateway"
	FaultHub     = "hub"
	FaultBoth    = "both"
)

// Defaults of a fault run (Config.Faults).
const (
	DefaultFaultSchedule = "8s:gateway,18s:hub,28s:both"
	DefaultFaultDowntime = 2 * time.Second
	DefaultFaultRate     = 100
	DefaultFaultDuration = 40 * time.Second
	DefaultFaultUsers    = 40
	// DefaultFaultDrain is longer than the steps' drain: a change held by
	// a killed process that waits for River's stuck-job rescue (a minute
	// and more) must show as a long time to converge, not as lost.
	DefaultFaultDrain = 2 * time.Minute
)

// Fault is one scripted kill: at At after the load started, the named
// children get SIGKILL; they are started again (same address, same data)
// after the run's downtime.
type Fault struct {
	At     time.Duration
	Target string // FaultGateway, FaultHub or FaultBoth
}

// roles are the children the fault kills, the hub first (a restarted
// gateway registers with it).
func (f Fault) roles() []string {
	switch f.Target {
	case FaultGateway:
		return []string{"gateway"}
	case FaultHub:
		return []string{"hub"}
	}
	return []string{"hub", "gateway"}
}

// ParseFaultSchedule reads "8s:gateway,18s:hub,28s:both".
func ParseFaultSchedule(s string) ([]Fault, error) {
	var out []Fault
	var errs []error
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		at, target, ok := strings.Cut(item, ":")
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not OFFSET:TARGET", item))
			continue
		}
		d, err := time.ParseDuration(at)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%q: the offset must be a positive duration", item))
			continue
		}
		switch target {
		case FaultGateway, FaultHub, FaultBoth:
		default:
			errs = append(errs, fmt.Errorf("%q: the target must be gateway, hub or both", item))
			continue
		}
		out = append(out, Fault{At: d, Target: target})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bench: fault schedule: %w", err)
	}
	return out, nil
}

// FaultResult is one fault of a run (or, with Target "none", the load
// before the first fault). The changes counted are those whose webhook was
// due from the kill to the next fault's kill (or the end of the load);
// a refusal counts where it happened, in the span its answer (or failure)
// came in: a change due just before a kill that the kill cut off is the
// fault's, not the span before.
type FaultResult struct {
	Target string
	// At is the kill's offset from the start of the load; Downtime from the
	// kill to the restart; Ready from the restart until every restarted
	// child answered /readyz.
	At, Downtime, Ready time.Duration
	// Accepted changes (202), Refused (any other answer, a connection
	// refused or reset while a child was down, a timeout: the sender does
	// not retry them, and they count neither as accepted nor as lost),
	// Lost: accepted changes whose version (or a newer one of the user)
	// never reached the hub by the drain deadline.
	Accepted, Refused, Lost int
	RefusedKind             map[string]int
	// Converged is from the restart until every change accepted before the
	// restart (of this span or any earlier one) was at the hub, its version
	// or a newer one of the same user; 0 when it already was. NotConverged
	// is set when that never happened by the drain deadline.
	Converged    time.Duration
	NotConverged bool
	// During is the update latency of the accepted changes due from the
	// kill until the restarted children were ready; After of those due from
	// then to the next kill (or the end of the load).
	During, After Dist
}

// FaultRun is one target's fault run.
type FaultRun struct {
	Target   string
	Rate     int
	Users    int
	Duration time.Duration
	Downtime time.Duration
	Err      string
	// Faults holds the baseline (Target "none") first, then each fault.
	Faults []FaultResult
	// Sent, Accepted, Refused and Lost are over the whole load.
	Sent, Accepted, Refused, Lost int
	// Reconnects counts the update stream's reconnections; Rereads the
	// changes found by reading the hub's profiles after a reconnection or a
	// "lagged" event (notifications missed while the stream was away).
	Reconnects, Rereads int
	// DrainTime is from the end of the load until every user had its
	// newest accepted change at the hub.
	DrainTime time.Duration
}

// faultTimes is what happened to one fault, as it ran.
type faultTimes struct {
	fault                 Fault
	kill, restart, ready  time.Time
	restartErr            error
	killedPIDs, restarted []int
}

// Faults runs the fault mode on every target of cfg (Config.Faults) and
// writes the reports under cfg.Out.
func Faults(ctx context.Context, cfg Config) ([]FaultRun, error) {
	cfg = cfg.WithDefaults()
	if !cfg.Faults {
		return nil, errors.New("bench: faults: Config.Faults is not set")
	}
	logDir, err := prepareRun(cfg)
	if err != nil {
		return nil, err
	}
	var out []FaultRun
	var errs []error
	for _, spec := range cfg.Targets {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		cfg.Logger.InfoContext(ctx, "fault run", "target", spec.Name(), "rate", cfg.Rates[0], "users", cfg.Users,
			"duration", cfg.Duration, "faults", len(cfg.FaultSchedule), "downtime", cfg.FaultDowntime)
		res, err := runFaults(ctx, cfg, spec, logDir)
		if err != nil {
			res.Err = err.Error()
			errs = append(errs, fmt.Errorf("%s faults: %w", spec.Name(), err))
			cfg.Logger.ErrorContext(ctx, "fault run failed", "target", spec.Name(), "error", err)
		} else {
			cfg.Logger.InfoContext(ctx, "fault run done", "target", spec.Name(), "accepted", res.Accepted,
				"refused", res.Refused, "lost", res.Lost, "reconnects", res.Reconnects)
		}
		out = append(out, res)
	}
	if err := writeFaultReports(cfg, out); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func runFaults(ctx context.Context, cfg Config, spec TargetSpec, logDir string) (res FaultRun, err error) {
	rate := cfg.Rates[0]
	res = FaultRun{Target: spec.Name(), Rate: rate, Users: cfg.Users, Duration: cfg.Duration, Downtime: cfg.FaultDowntime}
	label := spec.Name() + "-faults"
	sys, err := startSystem(ctx, cfg, spec, logDir, label)
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

	n := int(math.Round(float64(rate) * cfg.Duration.Seconds()))
	t := newTracker(n, cfg.Users)
	f, err := startFollower(ctx, sys, t)
	if err != nil {
		return res, err
	}
	defer f.stop()
	s, err := newSender(sys.webhookURL(), sys.secrets.webhookSecret, cfg.MaxInFlight)
	if err != nil {
		return res, err
	}
	defer s.close()
	if err := warmup(ctx, s, t, nil); err != nil {
		return res, fmt.Errorf("%w (logs: %s, %s)", err, sys.gateway.logPath, sys.hub.logPath)
	}

	var wg sync.WaitGroup
	start := time.Now().Add(20 * time.Millisecond)
	times := make([]faultTimes, len(cfg.FaultSchedule))
	faultsDone := make(chan error, 1)
	go func() { faultsDone <- runSchedule(ctx, cfg, sys, start, times, logDir, label) }()
	driveFrom(ctx, s, t, rate, cfg.MaxInFlight, &wg, start)
	loadEnd := start.Add(cfg.Duration)
	scheduleErr := <-faultsDone
	drainErr := waitDrained(ctx, t, time.Now().Add(cfg.Drain), nil)
	if drainErr != nil {
		cfg.Logger.WarnContext(ctx, "drain", "target", spec.Name(), "error", drainErr)
	}
	// A last read of every profile, in case the stream missed the end.
	if _, behind := t.outstanding(); behind > 0 {
		f.rereadAll(ctx)
	}
	cancel()
	wg.Wait()
	f.stop()
	res.Reconnects, res.Rereads = f.counts()
	summarizeFaults(&res, t, start, loadEnd, times)
	return res, scheduleErr
}

// runSchedule kills and restarts children on cfg.FaultSchedule, filling
// times. It returns the first restart that failed (the run goes on without
// that child).
func runSchedule(ctx context.Context, cfg Config, sys *system, start time.Time, times []faultTimes, logDir, label string) error {
	var errs []error
	for i, fault := range cfg.FaultSchedule {
		ft := &times[i]
		ft.fault = fault
		if !sleepUntil(ctx, start.Add(fault.At)) {
			return ctx.Err()
		}
		ft.kill = time.Now()
		for _, role := range fault.roles() {
			c := sys.child(role)
			ft.killedPIDs = append(ft.killedPIDs, c.pid())
			c.kill()
		}
		cfg.Logger.InfoContext(ctx, "killed", "fault", fault.Target, "at", ft.kill.Sub(start).Round(time.Millisecond))
		if !sleepUntil(ctx, ft.kill.Add(cfg.FaultDowntime)) {
			return ctx.Err()
		}
		ft.restart = time.Now()
		var started []*child
		for _, role := range fault.roles() {
			c, err := sys.restart(role, filepath.Join(logDir, label+"-"+role+"-"+strconv.Itoa(i+1)+".log"))
			if err != nil {
				ft.restartErr = err
				break
			}
			started = append(started, c)
			ft.restarted = append(ft.restarted, c.pid())
		}
		for _, c := range started {
			if err := c.waitReady(ctx, readyTimeout); err != nil && ft.restartErr == nil {
				ft.restartErr = err
			}
		}
		ft.ready = time.Now()
		if ft.restartErr != nil {
			errs = append(errs, fmt.Errorf("bench: fault %d (%s): restart: %w", i+1, fault.Target, ft.restartErr))
			cfg.Logger.ErrorContext(ctx, "restart failed", "fault", fault.Target, "error", ft.restartErr)
			continue
		}
		cfg.Logger.InfoContext(ctx, "restarted", "fault", fault.Target, "ready_after", ft.ready.Sub(ft.restart).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// child returns the running child of role.
func (s *system) child(role string) *child {
	if role == "hub" {
		return s.hub
	}
	return s.gateway
}

// restart starts role again as it was first started: the same command,
// environment, listen address and data, so that the new process takes
// back the River jobs its killed predecessor held (ssogate's jobs client
// id is the role and the listen address). It does not wait for ready.
func (s *system) restart(role, logPath string) (*child, error) {
	l := s.launch[role]
	c, err := startChild(role, l.bin, l.args, l.env, l.baseURL, logPath)
	if err != nil {
		return nil, err
	}
	if role == "hub" {
		s.hub = c
	} else {
		s.gateway = c
	}
	return c, nil
}

// follower follows the hub's update stream into a tracker across hub
// restarts: when the stream ends it reconnects, and once the new stream is
// open it reads every user's profile from the hub, so that changes the hub
// recorded while the stream was away still count. A "lagged" event also
// triggers that read.
type follower struct {
	// updates, users and adminToken are read from the system once at the
	// start: a restarted child keeps its address, and the system's child
	// pointers change under the schedule.
	updates    string
	users      func(id string) string
	adminToken string
	t          *tracker
	client     *http.Client
	cancel     context.CancelFunc
	done       chan struct{}
	reread     chan struct{}

	mu         sync.Mutex
	reconnects int
	rereads    int
	stopOnce   sync.Once
}

// startFollower opens the stream and returns once it is open.
func startFollower(ctx context.Context, sys *system, t *tracker) (*follower, error) {
	ctx, cancel := context.WithCancel(ctx)
	updates, hubBase := sys.updatesURL(), sys.hub.baseURL
	f := &follower{updates: updates, adminToken: sys.secrets.adminToken, t: t, client: &http.Client{}, cancel: cancel, done: make(chan struct{}), reread: make(chan struct{}, 1)}
	f.users = func(id string) string {
		return hubBase + "/api/networks/" + url.PathEscape(sys.network) + "/users/" + url.PathEscape(id)
	}
	opened := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(f.done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.rereadLoop(ctx)
		}()
		defer wg.Wait()
		everOpen := false
		for ctx.Err() == nil {
			body, err := f.open(ctx)
			if err != nil {
				if !sleepUntil(ctx, time.Now().Add(50*time.Millisecond)) {
					return
				}
				continue
			}
			reconnect := everOpen
			everOpen = true
			if reconnect {
				f.mu.Lock()
				f.reconnects++
				f.mu.Unlock()
			}
			_ = readSSE(body, func() {
				once.Do(func() { close(opened) })
				if reconnect {
					f.askReread()
				}
			}, func(ev sseEvent) {
				if f.t.updateEvent(ev) {
					f.askReread()
				}
			})
			_ = body.Close()
		}
	}()
	select {
	case <-opened:
		return f, nil
	case <-time.After(30 * time.Second):
		f.stop()
		return nil, fmt.Errorf("bench: update stream %s sent nothing in 30s", updates)
	}
}

// open connects to the update stream.
func (f *follower) open(ctx context.Context) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.updates, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("bench: update stream answered %d", resp.StatusCode)
	}
	return resp.Body, nil
}

func (f *follower) askReread() {
	select {
	case f.reread <- struct{}{}:
	default:
	}
}

func (f *follower) rereadLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.reread:
			f.rereadAll(ctx)
		}
	}
}

// rereadAll reads every user's profile from the hub.
func (f *follower) rereadAll(ctx context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	found := 0
	for user := range len(f.t.users) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.users(userID(user)), nil)
		if err != nil {
			continue
		}
		req.Header.Set("Authorization", "Bearer "+f.adminToken)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		var p struct {
			DisplayName string `json:"display_name"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK && json.Unmarshal(raw, &p) == nil && f.t.snapshot(user, p.DisplayName, time.Now()) {
			found++
		}
	}
	f.mu.Lock()
	f.rereads += found
	f.mu.Unlock()
}

func (f *follower) counts() (reconnects, rereads int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reconnects, f.rereads
}

// stop ends the follower and waits for it.
func (f *follower) stop() {
	f.stopOnce.Do(func() {
		f.cancel()
		<-f.done
	})
}

// summarizeFaults fills res from the tracker and the fault times.
func summarizeFaults(res *FaultRun, t *tracker, start, loadEnd time.Time, times []faultTimes) {
	delivered := t.delivery()
	t.mu.Lock()
	defer t.mu.Unlock()
	// Spans: the baseline, then one per fault from its kill to the next.
	type span struct {
		from, to, ready time.Time
		ft              *faultTimes
	}
	spans := []span{{from: start, to: loadEnd}}
	for i := range times {
		ft := &times[i]
		if ft.kill.IsZero() {
			break // the run ended before this fault
		}
		spans[len(spans)-1].to = ft.kill
		spans = append(spans, span{from: ft.kill, to: loadEnd, ready: ft.ready, ft: ft})
	}
	res.Faults = make([]FaultResult, len(spans))
	during := make([][]time.Duration, len(spans))
	after := make([][]time.Duration, len(spans))
	for i, sp := range spans {
		fr := &res.Faults[i]
		fr.Target, fr.RefusedKind = "none", map[string]int{}
		if sp.ft != nil {
			fr.Target = sp.ft.fault.Target
			fr.At = sp.ft.kill.Sub(start)
			fr.Downtime = sp.ft.restart.Sub(sp.ft.kill)
			fr.Ready = sp.ft.ready.Sub(sp.ft.restart)
		}
	}
	spanOf := func(at time.Time) int {
		i := len(spans) - 1
		for i > 0 && at.Before(spans[i].from) {
			i--
		}
		return i
	}
	var lastDelivery time.Time
	for seq := range t.changes {
		c := &t.changes[seq]
		if c.intended.IsZero() {
			continue
		}
		res.Sent++
		i := spanOf(c.intended)
		if !c.accepted() && !c.done.IsZero() {
			i = spanOf(c.done)
		}
		fr := &res.Faults[i]
		if !c.accepted() {
			res.Refused++
			fr.Refused++
			kind := c.result
			if kind == "" {
				kind = "no_answer"
			}
			fr.RefusedKind[kind]++
			continue
		}
		res.Accepted++
		fr.Accepted++
		d := delivered[seq]
		if d.IsZero() {
			res.Lost++
			fr.Lost++
			continue
		}
		if d.After(lastDelivery) {
			lastDelivery = d
		}
		lat := d.Sub(c.intended)
		if sp := spans[i]; sp.ft != nil && c.intended.Before(sp.ready) {
			during[i] = append(during[i], lat)
		} else {
			after[i] = append(after[i], lat)
		}
	}
	for i, sp := range spans {
		fr := &res.Faults[i]
		fr.During, fr.After = distOf(during[i]), distOf(after[i])
		if sp.ft == nil {
			continue
		}
		// Converged: every change accepted before the restart is at the hub.
		restart := sp.ft.restart
		var last time.Time
		for seq := range t.changes {
			c := &t.changes[seq]
			if c.intended.IsZero() || !c.accepted() || !c.intended.Before(restart) {
				continue
			}
			d := delivered[seq]
			if d.IsZero() {
				fr.NotConverged = true
				break
			}
			if d.After(last) {
				last = d
			}
		}
		if !fr.NotConverged {
			fr.Converged = max(last.Sub(restart), 0)
		}
	}
	if !lastDelivery.IsZero() {
		res.DrainTime = max(lastDelivery.Sub(loadEnd), 0)
	}
}
