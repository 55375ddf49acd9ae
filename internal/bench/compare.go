package bench

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CompareInput is one earlier run to draw next to others: the results.csv
// it wrote, and a prefix for its target names ("before" turns "sqlite"
// into "sqlite before"; empty keeps them).
type CompareInput struct {
	CSV    string
	Label  string
	Select []string // target names to keep; empty keeps all
}

// Compare draws the latency and throughput charts of several runs in one
// pair of charts under out (latency.svg/.png, throughput.svg/.png) and
// returns a Markdown table of the update latencies, so that a change can
// be shown before and after.
func Compare(out string, inputs []CompareInput) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("bench: compare: %w", err)
	}
	var names []string
	var all []StepResult
	for _, in := range inputs {
		f, err := os.Open(in.CSV)
		if err != nil {
			return "", fmt.Errorf("bench: compare: %w", err)
		}
		rs, err := readResultsCSV(f)
		_ = f.Close()
		if err != nil {
			return "", fmt.Errorf("bench: compare %s: %w", in.CSV, err)
		}
		for _, r := range rs {
			if len(in.Select) > 0 && !contains(in.Select, r.Target) {
				continue
			}
			if in.Label != "" {
				r.Target += " " + in.Label
			}
			if !contains(names, r.Target) {
				names = append(names, r.Target)
			}
			all = append(all, r)
		}
	}
	if len(all) == 0 {
		return "", errors.New("bench: compare: no results")
	}
	if err := drawCharts(out, names, all); err != nil {
		return "", err
	}
	var md strings.Builder
	fmt.Fprintln(&md, "| target | offered/s | delivered/s | update p50 | update p95 | update p99 | update max | lost |")
	fmt.Fprintln(&md, "|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, name := range names {
		for _, r := range all {
			if r.Target == name {
				fmt.Fprintf(&md, "| %s | %d | %.0f | %s | %s | %s | %s | %d |\n", r.Target, r.Rate, r.DeliveredPerSec,
					fmtDur(r.Update.P50), fmtDur(r.Update.P95), fmtDur(r.Update.P99), fmtDur(r.Update.Max), r.Lost)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(out, "compare.md"), []byte(md.String()), 0o644); err != nil {
		return "", fmt.Errorf("bench: compare: %w", err)
	}
	return md.String(), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readResultsCSV reads what writeResultsCSV wrote back into results (the
// fields the charts and the comparison table use).
func readResultsCSV(r io.Reader) ([]StepResult, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "target,rate,metric,value,unit" {
		return nil, errors.New("not a results.csv (header target,rate,metric,value,unit)")
	}
	var out []StepResult
	index := map[string]int{}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	for _, row := range rows[1:] {
		if len(row) != 5 {
			return nil, fmt.Errorf("row %q: want 5 fields", row)
		}
		rate, err := strconv.Atoi(row[1])
		if err != nil {
			return nil, fmt.Errorf("row %q: bad rate", row)
		}
		if rate <= 0 {
			continue // the browser measurement has no rate
		}
		key := row[0] + "\x00" + row[1]
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, StepResult{Target: row[0], Rate: rate})
		}
		res := &out[i]
		if row[2] == "error" {
			res.Err = row[3]
			continue
		}
		v, err := strconv.ParseFloat(row[3], 64)
		if err != nil {
			return nil, fmt.Errorf("row %q: bad value", row)
		}
		switch row[2] {
		case "update_p50":
			res.Update.P50 = ms(v)
			if v > 0 {
				res.Update.N = 1 // only its being > 0 matters here
			}
		case "update_p95":
			res.Update.P95 = ms(v)
		case "update_p99":
			res.Update.P99 = ms(v)
		case "update_max":
			res.Update.Max = ms(v)
		case "accepted":
			res.Accepted = int(v)
		case "delivered_rate":
			res.DeliveredPerSec = v
		case "lost":
			res.Lost = int(v)
		}
	}
	return out, nil
}
