package bench

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFaultRun runs a short fault schedule on SQLite against the real
// binaries: one gateway kill, one hub kill. It asserts that no accepted
// change was lost, that every fault converged, that the update stream
// reconnected after the hub's restart, and that the reports were written.
// Latencies are for the harness to report, not for the test to judge.
func TestFaultRun(t *testing.T) {
	t.Parallel()
	ssogate, self := buildBinaries(t)
	sched, err := ParseFaultSchedule("3s:gateway,7s:hub")
	require.NoError(t, err)
	out := t.TempDir()
	var stdout bytes.Buffer
	cfg := Config{
		Targets:       []TargetSpec{{Kind: KindSQLite}},
		Faults:        true,
		FaultSchedule: sched,
		FaultDowntime: time.Second,
		Rates:         []int{40},
		Users:         10,
		Duration:      11 * time.Second,
		Out:           out,
		SsogateBin:    ssogate,
		SelfBin:       self,
		WorkDir:       t.TempDir(),
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Stdout:        &stdout,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runs, err := Faults(ctx, cfg)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	r := runs[0]
	require.Empty(t, r.Err)
	require.Positive(t, r.Accepted)
	require.Zero(t, r.Lost, "accepted changes lost")
	require.Positive(t, r.Reconnects, "the update stream reconnected after the hub restart")
	require.Len(t, r.Faults, 3, "the baseline and two faults")
	require.Equal(t, "none", r.Faults[0].Target)
	require.Equal(t, FaultGateway, r.Faults[1].Target)
	require.Equal(t, FaultHub, r.Faults[2].Target)
	for _, f := range r.Faults {
		require.Zero(t, f.Lost, "fault %s at %s", f.Target, f.At)
		require.False(t, f.NotConverged, "fault %s at %s never converged", f.Target, f.At)
	}
	for _, name := range []string{"faults.md", "faults.csv"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		require.NotEmpty(t, b, name)
	}
	require.Contains(t, stdout.String(), "| hub |")
}
