package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// writeReports writes results.csv, timeseries.csv, results.md and the
// charts under cfg.Out, and prints the Markdown to cfg.Stdout.
func writeReports(cfg Config, results []StepResult, browser *BrowserResult) error {
	sortResults(cfg, results)
	var errs []string
	if err := writeFile(filepath.Join(cfg.Out, "results.csv"), func(w io.Writer) error { return writeResultsCSV(w, results, browser) }); err != nil {
		errs = append(errs, err.Error())
	}
	if err := writeFile(filepath.Join(cfg.Out, "timeseries.csv"), func(w io.Writer) error { return writeTimeseriesCSV(w, results) }); err != nil {
		errs = append(errs, err.Error())
	}
	var md strings.Builder
	writeMarkdown(&md, cfg, results, browser)
	if err := os.WriteFile(filepath.Join(cfg.Out, "results.md"), []byte(md.String()), 0o644); err != nil {
		errs = append(errs, err.Error())
	}
	_, _ = io.WriteString(cfg.Stdout, md.String())
	if err := writeCharts(cfg, results); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("bench: reports: %s", strings.Join(errs, "; "))
	}
	return nil
}

func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// floorOf returns the floor's result at rate, or nil.
func floorOf(results []StepResult, rate int) *StepResult {
	for i := range results {
		if results[i].Target == KindFloor && results[i].Rate == rate && results[i].Err == "" {
			return &results[i]
		}
	}
	return nil
}

// ratio is a/b, NaN when b is zero.
func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// writeResultsCSV writes one row per target, rate and metric.
func writeResultsCSV(w io.Writer, results []StepResult, browser *BrowserResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"target", "rate", "metric", "value", "unit"})
	row := func(r *StepResult, metric string, v float64, unit string) {
		_ = cw.Write([]string{r.Target, strconv.Itoa(r.Rate), metric, strconv.FormatFloat(v, 'f', -1, 64), unit})
	}
	for i := range results {
		r := &results[i]
		if r.Err != "" {
			_ = cw.Write([]string{r.Target, strconv.Itoa(r.Rate), "error", r.Err, ""})
			continue
		}
		row(r, "offered", float64(r.Rate), "changes/s")
		row(r, "duration", r.Duration.Seconds(), "s")
		row(r, "sent", float64(r.Sent), "changes")
		row(r, "accepted", float64(r.Accepted), "changes")
		row(r, "accepted_rate", r.AcceptedPerSec, "changes/s")
		row(r, "delivered_rate", r.DeliveredPerSec, "changes/s")
		for _, d := range []struct {
			name string
			d    Dist
		}{{"accept", r.Accept}, {"update", r.Update}, {"segment_to_ping", r.ToPing}, {"segment_ping_to_pull", r.PingToPull}, {"segment_pull_to_seen", r.PullToSeen}} {
			row(r, d.name+"_p50", ms(d.d.P50), "ms")
			row(r, d.name+"_p95", ms(d.d.P95), "ms")
			row(r, d.name+"_p99", ms(d.d.P99), "ms")
			row(r, d.name+"_max", ms(d.d.Max), "ms")
		}
		row(r, "errors", float64(r.Errors), "requests")
		kinds := make([]string, 0, len(r.ErrorKind))
		for k := range r.ErrorKind {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			row(r, "errors_"+k, float64(r.ErrorKind[k]), "requests")
		}
		row(r, "superseded", float64(r.Superseded), "changes")
		row(r, "lost", float64(r.Lost), "changes")
		row(r, "reread", float64(r.Reread), "changes")
		row(r, "lagged", float64(r.Lagged), "events")
		row(r, "saturated", float64(r.Saturated), "sends")
		row(r, "drain_time", r.DrainTime.Seconds(), "s")
		if !math.IsNaN(r.MaxGatewayQueue) {
			row(r, "gateway_queue_max", r.MaxGatewayQueue, "jobs")
		}
		if !math.IsNaN(r.MaxHubQueue) {
			row(r, "hub_queue_max", r.MaxHubQueue, "jobs")
		}
		for _, p := range r.Procs {
			row(r, p.Role+"_cpu", p.CPU.Seconds(), "s")
			row(r, p.Role+"_cores", p.Cores, "cores")
			row(r, p.Role+"_peak_rss", float64(p.PeakRSS)/(1<<20), "MiB")
		}
		row(r, "harness_cores", r.HarnessCores, "cores")
		row(r, "machine_cores_busy", r.MachineCores, "cores")
		if x := r.Xacts; x != nil {
			gw, hub, total := x.PerChange()
			row(r, "xacts_gateway", float64(x.Gateway), "commits")
			row(r, "xacts_hub", float64(x.Hub), "commits")
			row(r, "xacts_harness_subtracted", float64(x.Harness), "commits")
			row(r, "xacts_per_change_gateway", gw, "commits/change")
			row(r, "xacts_per_change_hub", hub, "commits/change")
			row(r, "xacts_per_change_total", total, "commits/change")
			writeXactsExtraCSV(func(m string, v float64, u string) { row(r, m, v, u) }, x)
		}
		if r.Target == KindPostgres {
			row(r, "analyze_in_window", float64(r.AnalyzeInWindow), "runs")
		}
		if f := floorOf(results, r.Rate); f != nil && r.Target != KindFloor {
			row(r, "update_p50_vs_floor", ratio(r.Update.P50, f.Update.P50), "x")
			row(r, "update_p95_vs_floor", ratio(r.Update.P95, f.Update.P95), "x")
			row(r, "update_p99_vs_floor", ratio(r.Update.P99, f.Update.P99), "x")
			row(r, "update_max_vs_floor", ratio(r.Update.Max, f.Update.Max), "x")
		}
	}
	if b := browser; b != nil {
		r := &StepResult{Target: "browser-demo-sqlite", Rate: 0}
		row(r, "dom_p50", ms(b.Latency.P50), "ms")
		row(r, "dom_p95", ms(b.Latency.P95), "ms")
		row(r, "dom_p99", ms(b.Latency.P99), "ms")
		row(r, "dom_max", ms(b.Latency.Max), "ms")
		row(r, "dom_samples", float64(b.Latency.N), "changes")
		row(r, "dom_lost", float64(b.Lost), "changes")
	}
	cw.Flush()
	return cw.Error()
}

// writeTimeseriesCSV writes the per-second samples.
func writeTimeseriesCSV(w io.Writer, results []StepResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"target", "rate", "t_s", "gateway_queue", "hub_queue", "gateway_cores", "hub_cores",
		"gateway_rss_mib", "hub_rss_mib", "pending_webhooks", "users_behind"})
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	for _, r := range results {
		for _, s := range r.Samples {
			_ = cw.Write([]string{r.Target, strconv.Itoa(r.Rate), f(s.At.Seconds()), f(s.GatewayQueue), f(s.HubQueue),
				f(s.GatewayCPU), f(s.HubCPU), f(float64(s.GatewayRSS) / (1 << 20)), f(float64(s.HubRSS) / (1 << 20)),
				strconv.Itoa(s.Pending), strconv.Itoa(s.Behind)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// fmtDur prints a latency compactly: 0.8ms, 12ms, 1.25s.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(ms(d), 'f', 1, 64) + "ms"
	case d < time.Second:
		return strconv.FormatFloat(ms(d), 'f', 0, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "×"
}

func fmtQueue(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// fmtXacts prints commits per delivered change, gateway / hub / total,
// or n/a without counts (SQLite, the floor).
func fmtXacts(x *Xacts) string {
	if x == nil {
		return "n/a"
	}
	return fmtTriple(x.PerChange())
}

// fmtXactsNet is fmtXacts net of the idle rate.
func fmtXactsNet(x *Xacts) string {
	if x == nil {
		return "n/a"
	}
	return fmtTriple(x.NetPerChange())
}

// fmtIdle prints the idle commit rates, gateway / hub.
func fmtIdle(x *Xacts) string {
	if x == nil {
		return "n/a"
	}
	return fmtOne(x.IdleGateway) + " / " + fmtOne(x.IdleHub)
}

func fmtTriple(a, b, c float64) string { return fmtOne(a) + " / " + fmtOne(b) + " / " + fmtOne(c) }

func fmtOne(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// fmtAnalyze says whether the harness's ANALYZE ran in r's measured
// window (PostgreSQL only).
func fmtAnalyze(r *StepResult) string {
	switch {
	case r.Target != KindPostgres:
		return "n/a"
	case r.AnalyzeInWindow == 0:
		return "no"
	}
	return "yes (" + strconv.Itoa(r.AnalyzeInWindow) + "×)"
}

// analyzeNote says when the harness analyzes PostgreSQL, for the table's
// heading ("" without a PostgreSQL target).
func analyzeNote(cfg Config) string {
	hasPG := false
	for _, t := range cfg.Targets {
		hasPG = hasPG || t.Kind == KindPostgres
	}
	switch {
	case !hasPG:
		return ""
	case cfg.PostgresSkipAnalyze:
		return "PostgreSQL: no ANALYZE at all (--pg-skip-analyze)."
	case cfg.PostgresAnalyzeEvery > 0:
		return "PostgreSQL: ANALYZE after the warm-up and every " + cfg.PostgresAnalyzeEvery.String() + " during the load (its cost is in the figures, its own commits are not)."
	}
	return "PostgreSQL: ANALYZE once after the warm-up, outside the measured window; commits from pg_stat_database over the window, per delivered change."
}

func procOf(r *StepResult, role string) ProcResult { return roleProc(r.Procs, role) }

func roleProc(procs []ProcResult, role string) ProcResult {
	for _, p := range procs {
		if p.Role == role {
			return p
		}
	}
	return ProcResult{}
}

// writeMarkdown writes the summary table, the details table and the
// machine.
func writeMarkdown(w io.Writer, cfg Config, results []StepResult, browser *BrowserResult) {
	fmt.Fprintf(w, "## Webhook → remote profile updated\n\n")
	fmt.Fprintf(w, "Open loop, %s per step, %d users, latencies from the intended send time. %s\n\n", cfg.Duration, cfg.Users, analyzeNote(cfg))
	fmt.Fprintln(w, "| target | offered/s | accepted/s | delivered/s | accept p50 | accept p99 | update p50 | update p95 | update p99 | update max | vs floor p50 / p99 | errors | lost | max queue ping / pull | CPU cores gw / hub | peak RSS MiB gw / hub | commits/change gw / hub / total | ANALYZE during load |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for i := range results {
		r := &results[i]
		if r.Err != "" {
			fmt.Fprintf(w, "| %s | %d | failed: %s ||||||||||||||||\n", r.Target, r.Rate, strings.ReplaceAll(firstLine(r.Err), "|", "/"))
			continue
		}
		vs := "–"
		if f := floorOf(results, r.Rate); f != nil && r.Target != KindFloor {
			vs = fmtRatio(ratio(r.Update.P50, f.Update.P50)) + " / " + fmtRatio(ratio(r.Update.P99, f.Update.P99))
		}
		gw, hub := procOf(r, "gateway"), procOf(r, "hub")
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s | %d | %d | %s / %s | %.2f / %.2f | %.0f / %.0f | %s | %s |\n",
			r.Target, r.Rate, r.AcceptedPerSec, r.DeliveredPerSec,
			fmtDur(r.Accept.P50), fmtDur(r.Accept.P99),
			fmtDur(r.Update.P50), fmtDur(r.Update.P95), fmtDur(r.Update.P99), fmtDur(r.Update.Max),
			vs, r.Errors, r.Lost, fmtQueue(r.MaxGatewayQueue), fmtQueue(r.MaxHubQueue),
			gw.Cores, hub.Cores, float64(gw.PeakRSS)/(1<<20), float64(hub.PeakRSS)/(1<<20),
			fmtXacts(r.Xacts), fmtAnalyze(r))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | offered/s | sent | accepted | superseded (stale) | → ping p50 / p99 | ping → pulled p50 / p99 | pulled → seen p50 / p99 | drain after load | machine cores busy | harness cores | stream lagged | found by re-read | sender waits | idle commits/s gw / hub | commits/change net of idle gw / hub / total | errors by kind |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for i := range results {
		r := &results[i]
		if r.Err != "" {
			continue
		}
		kinds := make([]string, 0, len(r.ErrorKind))
		for k, n := range r.ErrorKind {
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %s / %s | %s / %s | %s / %s | %s | %.2f | %.2f | %d | %d | %d | %s | %s | %s |\n", r.Target, r.Rate, r.Sent, r.Accepted, r.Superseded,
			fmtDur(r.ToPing.P50), fmtDur(r.ToPing.P99), fmtDur(r.PingToPull.P50), fmtDur(r.PingToPull.P99), fmtDur(r.PullToSeen.P50), fmtDur(r.PullToSeen.P99),
			fmtDur(r.DrainTime), r.MachineCores, r.HarnessCores, r.Lagged, r.Reread, r.Saturated, fmtIdle(r.Xacts), fmtXactsNet(r.Xacts), strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w)
	if b := browser; b != nil {
		fmt.Fprintf(w, "Webhook → DOM through Chromium (`ssogate demo`, SQLite, %d changes one at a time, the last of %d tabs, from the 202): p50 %s, p95 %s, p99 %s, max %s, lost %d.\n\n",
			b.Latency.N, b.Tabs, fmtDur(b.Latency.P50), fmtDur(b.Latency.P95), fmtDur(b.Latency.P99), fmtDur(b.Latency.Max), b.Lost)
	}
	if best := sustained(cfg, results); best != "" {
		fmt.Fprintln(w, best)
	}
	fmt.Fprintf(w, "Machine: %s, %d CPUs, %s RAM, %s/%s, %s.\n", cpuModel(), runtime.NumCPU(), memTotal(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// sustained names, per target, the highest rate with update p99 under 1s,
// nothing lost and no errors.
func sustained(cfg Config, results []StepResult) string {
	var parts []string
	for _, t := range cfg.Targets {
		best := 0
		for _, r := range results {
			if r.Target == t.Name() && r.Err == "" && r.Lost == 0 && r.Errors == 0 && r.Update.N > 0 && r.Update.P99 < time.Second && r.Rate > best {
				best = r.Rate
			}
		}
		if best > 0 {
			parts = append(parts, fmt.Sprintf("%s %d/s", t.Name(), best))
		} else {
			parts = append(parts, t.Name()+" none of the rates")
		}
	}
	return "Highest offered rate with update p99 < 1s, nothing lost and no errors: " + strings.Join(parts, ", ") + ".\n"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(v)
			if n, err := strconv.ParseFloat(f[0], 64); err == nil {
				return strconv.FormatFloat(n/(1<<20), 'f', 1, 64) + " GiB"
			}
		}
	}
	return "unknown"
}

// writeResyncCSV writes the resync results as results.csv rows (rate 0:
// the comparison charts skip them).
func writeResyncCSV(w io.Writer, rs []ResyncResult) {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"target", "rate", "metric", "value", "unit"})
	for _, r := range rs {
		row := func(metric string, v float64, unit string) {
			_ = cw.Write([]string{r.Target, "0", metric, strconv.FormatFloat(v, 'f', -1, 64), unit})
		}
		if r.Err != "" {
			_ = cw.Write([]string{r.Target, "0", "error", r.Err, ""})
		}
		row("resync_users", float64(r.Users), "users")
		row("resync_seed", r.Seed.Seconds(), "s")
		row("resync_elapsed", r.Elapsed.Seconds(), "s")
		row("resync_pulled", float64(r.Pulled), "users")
		row("resync_rate", r.PerSec, "changes/s")
		row("resync_hours_for_10m_users", r.HoursFor10M(), "h")
		row("resync_ping_exit", r.PingExit.Seconds(), "s")
		row("resync_ping_cpu", r.PingCPU.Seconds(), "s")
		for _, p := range r.Procs {
			row(p.Role+"_cpu", p.CPU.Seconds(), "s")
			row(p.Role+"_cores", p.Cores, "cores")
		}
		if x := r.Xacts; x != nil {
			gw, hub, total := x.PerChange()
			row("xacts_gateway", float64(x.Gateway), "commits")
			row("xacts_hub", float64(x.Hub), "commits")
			row("xacts_per_change_gateway", gw, "commits/change")
			row("xacts_per_change_hub", hub, "commits/change")
			row("xacts_per_change_total", total, "commits/change")
			writeXactsExtraCSV(row, x)
		}
	}
	cw.Flush()
}

// writeXactsExtraCSV writes the window, the idle rates and the per-change
// counts net of them.
func writeXactsExtraCSV(row func(metric string, v float64, unit string), x *Xacts) {
	gw, hub, total := x.NetPerChange()
	row("xacts_window", x.Window.Seconds(), "s")
	row("xacts_idle_rate_gateway", x.IdleGateway, "commits/s")
	row("xacts_idle_rate_hub", x.IdleHub, "commits/s")
	row("xacts_per_change_net_gateway", gw, "commits/change")
	row("xacts_per_change_net_hub", hub, "commits/change")
	row("xacts_per_change_net_total", total, "commits/change")
}

// writeResyncMarkdown writes the resync table.
func writeResyncMarkdown(w io.Writer, rs []ResyncResult) {
	fmt.Fprintf(w, "## Resync: `ssogate ping --stdin` with every user → every user pulled again by the hub\n\n")
	fmt.Fprintln(w, "Users seeded through signed webhooks first; timed from the ping command's start to the hub's last new pull (read from the hub's database).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | users | seeding | resync time | pulled | changes/s | hours for 10 M users | ping exited | CPU s gw / hub / ping | CPU cores gw / hub | commits/change gw / hub / total |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	var unfinished []string
	for i := range rs {
		r := &rs[i]
		if r.Err != "" && r.Elapsed == 0 {
			fmt.Fprintf(w, "| %s | %d | failed: %s |||||||||\n", r.Target, r.Users, strings.ReplaceAll(firstLine(r.Err), "|", "/"))
			continue
		}
		gw, hub := roleProc(r.Procs, "gateway"), roleProc(r.Procs, "hub")
		hours := "–"
		if h := r.HoursFor10M(); !math.IsNaN(h) {
			hours = strconv.FormatFloat(h, 'f', 1, 64)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %d | %.0f | %s | %s | %.1f / %.1f / %.1f | %.2f / %.2f | %s |\n",
			r.Target, r.Users, fmtDur(r.Seed), fmtDur(r.Elapsed), r.Pulled, r.PerSec, hours, fmtDur(r.PingExit),
			gw.CPU.Seconds(), hub.CPU.Seconds(), r.PingCPU.Seconds(), gw.Cores, hub.Cores, fmtXacts(r.Xacts))
		if r.Err != "" {
			unfinished = append(unfinished, r.Target+" did not finish: "+firstLine(r.Err))
		}
	}
	fmt.Fprintln(w)
	for _, u := range unfinished {
		fmt.Fprintln(w, u)
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Machine: %s, %d CPUs, %s RAM, %s/%s, %s.\n", cpuModel(), runtime.NumCPU(), memTotal(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
