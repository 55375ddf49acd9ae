package bench

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestResultsCSVRoundTrip(t *testing.T) {
	t.Parallel()
	in := []StepResult{
		{Target: KindSQLite, Rate: 50, Duration: time.Second, Accepted: 50, DeliveredPerSec: 49.5, Lost: 1,
			Update:          Dist{N: 50, P50: 12 * time.Millisecond, P95: 20 * time.Millisecond, P99: 30 * time.Millisecond, Max: 31 * time.Millisecond},
			MaxGatewayQueue: 3, MaxHubQueue: math.NaN(), ErrorKind: map[string]int{"status_500": 2}, Errors: 2},
		{Target: KindFloor, Rate: 50, Duration: time.Second, Accepted: 50, DeliveredPerSec: 50,
			Update: Dist{N: 50, P50: time.Millisecond, P95: time.Millisecond, P99: 2 * time.Millisecond, Max: 3 * time.Millisecond}},
		{Target: KindPostgres, Rate: 200, Err: "bench: hub exited before ready"},
	}
	var buf bytes.Buffer
	require.NoError(t, writeResultsCSV(&buf, in, &BrowserResult{Latency: Dist{N: 3, P50: time.Millisecond}, Tabs: 2}))
	require.Contains(t, buf.String(), "sqlite,50,update_p99_vs_floor,15,x\n")
	require.Contains(t, buf.String(), "sqlite,50,errors_status_500,2,requests\n")
	out, err := readResultsCSV(&buf)
	require.NoError(t, err)
	require.Len(t, out, 3, "the browser row has no rate and is skipped")
	require.Equal(t, in[0].Update.P99, out[0].Update.P99)
	require.Equal(t, in[0].Update.Max, out[0].Update.Max)
	require.InDelta(t, 49.5, out[0].DeliveredPerSec, 1e-9)
	require.Equal(t, 1, out[0].Lost)
	require.Equal(t, "bench: hub exited before ready", out[2].Err)

	_, err = readResultsCSV(strings.NewReader("a,b\n"))
	require.Error(t, err)
}

func TestCompare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "results.csv")
	rs := []StepResult{
		{Target: KindSQLite, Rate: 50, Duration: time.Second, Accepted: 50, DeliveredPerSec: 50, Update: Dist{N: 50, P50: 10 * time.Millisecond, P99: 20 * time.Millisecond}},
		{Target: KindSQLite, Rate: 500, Duration: time.Second, Accepted: 500, DeliveredPerSec: 480, Update: Dist{N: 500, P50: time.Second, P99: 2 * time.Second}},
		{Target: KindFloor, Rate: 50, Duration: time.Second, Accepted: 50, DeliveredPerSec: 50, Update: Dist{N: 50, P50: time.Millisecond, P99: time.Millisecond}},
	}
	require.NoError(t, writeFile(csvPath, func(w io.Writer) error { return writeResultsCSV(w, rs, nil) }))
	out := filepath.Join(dir, "cmp")
	md, err := Compare(out, []CompareInput{{CSV: csvPath, Label: "before", Select: []string{KindSQLite}}, {CSV: csvPath}})
	require.NoError(t, err)
	require.Contains(t, md, "| sqlite before | 500 | 480 | 1.00s |")
	require.Contains(t, md, "| floor | 50 |")
	for _, name := range []string{"latency.svg", "latency.png", "throughput.svg", "throughput.png", "compare.md"} {
		st, err := os.Stat(filepath.Join(out, name))
		require.NoError(t, err, name)
		require.Positive(t, st.Size())
	}
}
