package bench

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFaultRun runs a short fault schedule on SQLite against the real
// binaries: one gateway kill, one hub kill. It asserts that no accepted
// change was lost, that nothing was refused before the first kill (the
// first kill falls exactly on a change's due time), that every fault
// converged, that the update stream reconnected after the hub's restart,
// and that the reports were written.
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
	require.Zero(t, r.Faults[0].Refused, "refusals before the first kill: %v", r.Faults[0].RefusedKind)
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

// TestSummarizeFaultsRefusalSpan: refusals count in the span they happened
// in. A webhook due exactly at the kill, or due before it and cut off in
// flight, is refused after the kill and belongs to the fault; one refused
// before the kill stays in the baseline.
func TestSummarizeFaultsRefusalSpan(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	kill := start.Add(3 * time.Second)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tr := newTracker(5, 5)
	for seq, c := range []struct {
		due, done time.Duration // from start
		status    int
		result    string
	}{
		{due: ms(1000), done: ms(1010), status: http.StatusAccepted, result: "queued"}, // baseline, delivered
		{due: ms(2000), done: ms(2005), status: http.StatusTooManyRequests, result: "rate_limited"},
		{due: ms(2900), done: ms(3001), result: resultTransport},                       // in flight at the kill
		{due: ms(3000), done: ms(3000) + time.Microsecond, result: resultTransport},    // due at the kill
		{due: ms(5000), done: ms(5010), status: http.StatusAccepted, result: "queued"}, // after, delivered
	} {
		tr.sent(seq, start.Add(c.due))
		tr.answered(seq, start.Add(c.done), c.status, c.result, int64(seq+1))
		if c.status == http.StatusAccepted {
			tr.event(userID(seq), displayName(seq, seq), start.Add(c.done+ms(100)), time.Time{}, time.Time{})
		}
	}
	times := []faultTimes{{
		fault: Fault{At: 3 * time.Second, Target: FaultGateway},
		kill:  kill, restart: kill.Add(time.Second), ready: kill.Add(1500 * time.Millisecond),
	}}
	var res FaultRun
	summarizeFaults(&res, tr, start, start.Add(10*time.Second), times)

	require.Len(t, res.Faults, 2)
	base, fault := res.Faults[0], res.Faults[1]
	require.Equal(t, 1, base.Accepted)
	require.Equal(t, 1, base.Refused)
	require.Equal(t, map[string]int{"rate_limited": 1}, base.RefusedKind)
	require.Equal(t, 1, fault.Accepted)
	require.Equal(t, 2, fault.Refused)
	require.Equal(t, map[string]int{resultTransport: 2}, fault.RefusedKind)
	require.Equal(t, 5, res.Sent)
	require.Equal(t, 2, res.Accepted)
	require.Equal(t, 3, res.Refused)
	require.Zero(t, res.Lost)
}
