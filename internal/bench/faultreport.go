package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// writeFaultReports writes faults.csv and faults.md under cfg.Out and
// prints the Markdown table to cfg.Stdout.
func writeFaultReports(cfg Config, runs []FaultRun) error {
	if err := writeFile(filepath.Join(cfg.Out, "faults.csv"), func(w io.Writer) error { return writeFaultsCSV(w, runs) }); err != nil {
		return err
	}
	var md strings.Builder
	writeFaultsMarkdown(&md, runs)
	if err := os.WriteFile(filepath.Join(cfg.Out, "faults.md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("bench: write faults.md: %w", err)
	}
	if cfg.Stdout != nil {
		_, _ = io.WriteString(cfg.Stdout, md.String())
	}
	return nil
}

// writeFaultsCSV writes one row per target and fault.
func writeFaultsCSV(w io.Writer, runs []FaultRun) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"target", "fault", "at_s", "downtime_s", "ready_s", "accepted", "refused", "lost",
		"converged_s", "converged", "during_p99_ms", "during_n", "after_p99_ms", "after_n", "error"})
	sec := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	for _, r := range runs {
		if r.Err != "" && len(r.Faults) == 0 {
			_ = cw.Write([]string{r.Target, "", "", "", "", "", "", "", "", "", "", "", "", "", r.Err})
			continue
		}
		for _, f := range r.Faults {
			_ = cw.Write([]string{r.Target, f.Target, sec(f.At.Seconds()), sec(f.Downtime.Seconds()), sec(f.Ready.Seconds()),
				strconv.Itoa(f.Accepted), strconv.Itoa(f.Refused), strconv.Itoa(f.Lost),
				sec(f.Converged.Seconds()), strconv.FormatBool(!f.NotConverged),
				sec(float64(f.During.P99.Microseconds()) / 1000), strconv.Itoa(f.During.N),
				sec(float64(f.After.P99.Microseconds()) / 1000), strconv.Itoa(f.After.N), r.Err})
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeFaultsMarkdown writes one table per target.
func writeFaultsMarkdown(w io.Writer, runs []FaultRun) {
	fmt.Fprintf(w, "## Faults: children SIGKILLed and restarted under load\n\n")
	for _, r := range runs {
		fmt.Fprintf(w, "### %s: %d users at %d/s for %s, downtime %s\n\n", r.Target, r.Users, r.Rate, fmtDur(r.Duration), fmtDur(r.Downtime))
		if r.Err != "" {
			fmt.Fprintf(w, "Failed: %s\n\n", strings.ReplaceAll(firstLine(r.Err), "|", "/"))
		}
		fmt.Fprintln(w, "| fault | at | restart → ready | accepted | refused | lost | restart → converged | p99 during | p99 after |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, f := range r.Faults {
			conv := fmtDur(f.Converged)
			if f.NotConverged {
				conv = "never"
			}
			during := "–"
			if f.During.N > 0 {
				during = fmtDur(f.During.P99) + " (n " + strconv.Itoa(f.During.N) + ")"
			}
			after := "–"
			if f.After.N > 0 {
				after = fmtDur(f.After.P99) + " (n " + strconv.Itoa(f.After.N) + ")"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %s | %s | %s |\n",
				f.Target, fmtDur(f.At), fmtDur(f.Ready), f.Accepted, f.Refused, f.Lost, conv, during, after)
		}
		for _, f := range r.Faults {
			if len(f.RefusedKind) == 0 {
				continue
			}
			kinds := make([]string, 0, len(f.RefusedKind))
			for k, n := range f.RefusedKind {
				kinds = append(kinds, k+" "+strconv.Itoa(n))
			}
			slices.Sort(kinds)
			fmt.Fprintf(w, "\nRefused in %s: %s.\n", f.Target, strings.Join(kinds, ", "))
		}
		fmt.Fprintf(w, "\nTotal: sent %d, accepted %d, refused %d, lost %d; stream reconnects %d, changes found by re-reading %d; drain %s.\n\n",
			r.Sent, r.Accepted, r.Refused, r.Lost, r.Reconnects, r.Rereads, fmtDur(r.DrainTime))
	}
}
