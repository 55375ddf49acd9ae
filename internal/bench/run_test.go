package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/e2e"
	"github.com/ssogate/ssogate/internal/testenv"
)

// buildBinaries builds ssogate and ssogate-bench into a temporary
// directory. A build that fails fails the test: broken code is never a
// reason to skip. Only a missing go command skips (and fails under CI).
func buildBinaries(t *testing.T) (ssogate, self string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		testenv.Missing(t, "the go command is not on PATH: cannot build the binaries under test")
	}
	dir := t.TempDir()
	for _, pkg := range []string{"cmd/ssogate", "cmd/ssogate-bench"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, filepath.Base(pkg)), "github.com/ssogate/ssogate/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	return filepath.Join(dir, "ssogate"), filepath.Join(dir, "ssogate-bench")
}

// TestQuickRun runs the quick mode end to end against the real binaries
// (SQLite, PostgreSQL when TEST_DATABASE_URL is set, and the floor). It
// asserts only that results were produced and nothing was lost: speed is
// for the harness to report, not for a test to judge.
func TestQuickRun(t *testing.T) {
	t.Parallel()
	ssogate, self := buildBinaries(t)
	targets := []TargetSpec{{Kind: KindSQLite}}
	if u := testenv.OptionalDatabaseURL(t); u != "" {
		targets = append(targets, TargetSpec{Kind: KindPostgres, DatabaseURL: u})
	}
	out := t.TempDir()
	var stdout bytes.Buffer
	cfg := Config{
		Targets:    targets,
		Quick:      true,
		Out:        out,
		SsogateBin: ssogate,
		SelfBin:    self,
		WorkDir:    t.TempDir(),
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Stdout:     &stdout,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := Run(ctx, cfg)
	require.NoError(t, err)

	want := len(targets) + 1 // the floor
	require.Len(t, results, want*len(DefaultQuickRates))
	for _, r := range results {
		require.Empty(t, r.Err, "%s at %d/s", r.Target, r.Rate)
		require.Positive(t, r.Sent, "%s at %d/s", r.Target, r.Rate)
		require.Equal(t, r.Sent, r.Accepted, "%s at %d/s: errors %v", r.Target, r.Rate, r.ErrorKind)
		require.Zero(t, r.Lost, "%s at %d/s lost changes", r.Target, r.Rate)
		require.Positive(t, r.Update.N, "%s at %d/s", r.Target, r.Rate)
		require.Len(t, r.Procs, 2)
		for _, p := range r.Procs {
			require.Positive(t, p.PeakRSS, "%s at %d/s: %s", r.Target, r.Rate, p.Role)
		}
		if r.Target != KindFloor {
			require.False(t, isNaN(r.MaxGatewayQueue) && isNaN(r.MaxHubQueue), "queue depths were scraped")
		}
		require.Zero(t, r.AnalyzeInWindow, "no ANALYZE during the load unless asked")
		if r.Target == KindPostgres {
			require.NotNil(t, r.Xacts, "postgres at %d/s: commits counted", r.Rate)
			require.Equal(t, r.Update.N, r.Xacts.Delivered)
			// Every delivered change commits at least its webhook at the
			// gateway and its pull at the hub.
			require.GreaterOrEqual(t, r.Xacts.Gateway, int64(r.Xacts.Delivered), "postgres at %d/s", r.Rate)
			require.GreaterOrEqual(t, r.Xacts.Hub, int64(r.Xacts.Delivered), "postgres at %d/s", r.Rate)
			require.Zero(t, r.Xacts.Harness)
		} else {
			require.Nil(t, r.Xacts, "%s at %d/s", r.Target, r.Rate)
		}
	}
	for _, name := range []string{"results.csv", "timeseries.csv", "results.md", "latency.svg", "latency.png", "throughput.svg", "throughput.png"} {
		st, err := os.Stat(filepath.Join(out, name))
		require.NoError(t, err, name)
		require.Positive(t, st.Size(), name)
	}
	f, err := os.Open(filepath.Join(out, "results.csv"))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"target", "rate", "metric", "value", "unit"}, rows[0])
	require.Greater(t, len(rows), 20)
	require.Contains(t, stdout.String(), "| floor | 20 |")
	require.Contains(t, stdout.String(), "| sqlite | 100 |")
}

func isNaN(f float64) bool { return f != f }

// TestResyncRun seeds a few users and resyncs them with the real binaries
// (SQLite, and PostgreSQL when TEST_DATABASE_URL is set): every user must
// be pulled again and the figures filled in.
func TestResyncRun(t *testing.T) {
	t.Parallel()
	ssogate, _ := buildBinaries(t)
	targets := []TargetSpec{{Kind: KindSQLite}}
	if u := testenv.OptionalDatabaseURL(t); u != "" {
		targets = append(targets, TargetSpec{Kind: KindPostgres, DatabaseURL: u})
	}
	out := t.TempDir()
	var stdout bytes.Buffer
	cfg := Config{
		Targets:        targets,
		Resync:         100,
		ResyncSeedRate: 100,
		Quick:          true,
		Out:            out,
		SsogateBin:     ssogate,
		WorkDir:        t.TempDir(),
		Logger:         slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Stdout:         &stdout,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := Resync(ctx, cfg)
	require.NoError(t, err)
	require.Len(t, results, len(targets))
	for _, r := range results {
		require.Empty(t, r.Err, r.Target)
		require.Equal(t, 100, r.Pulled, r.Target)
		require.Positive(t, r.PerSec, r.Target)
		require.Positive(t, r.Seed, r.Target)
		require.False(t, isNaN(r.HoursFor10M()), r.Target)
		require.Positive(t, r.PingExit, r.Target)
		require.Len(t, r.Procs, 2)
		if r.Target == KindPostgres {
			require.NotNil(t, r.Xacts)
			// Pings and pulls commit in groups: fewer commits than users
			// is the point, none at all would be a miscount.
			require.Positive(t, r.Xacts.Hub, "the hub's commits are counted")
			require.Positive(t, r.Xacts.Harness, "the harness's polls were subtracted")
		} else {
			require.Nil(t, r.Xacts)
		}
	}
	require.Contains(t, stdout.String(), "| sqlite | 100 |")
	for _, name := range []string{"results.csv", "results.md", "logs/sqlite-resync-ping.log"} {
		st, err := os.Stat(filepath.Join(out, name))
		require.NoError(t, err, name)
		require.Positive(t, st.Size(), name)
	}
}

// testWriter sends the harness's log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// TestBrowserLatency runs the Chromium measurement on `ssogate demo` with a
// few changes. It skips without Chromium, except in CI.
func TestBrowserLatency(t *testing.T) {
	t.Parallel()
	if err := e2e.CheckChromium(); err != nil {
		testenv.Missing(t, "browser latency not measured: %v", err)
	}
	ssogate, _ := buildBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := BrowserLatency(ctx, BrowserOptions{SsogateBin: ssogate, WorkDir: t.TempDir(), Samples: 3, Logf: t.Logf})
	require.NoError(t, err)
	require.Equal(t, 3, res.Latency.N)
	require.Zero(t, res.Lost)
	require.Positive(t, res.Latency.P50)
}
