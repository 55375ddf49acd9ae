package bench

import (
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "1234 (ssogate) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 100 0 0", 2800 * time.Millisecond, false},
		{"spaces and parens in the name", "99 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0", 100 * time.Millisecond, false},
		{"no name", "1234 ssogate S 1", 0, true},
		{"too short", "1 (x) S 1 2 3", 0, true},
		{"not numbers", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 a b", 0, true},
		{"negative", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 1", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseProcStat([]byte(tc.in))
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseProcStatus(t *testing.T) {
	t.Parallel()
	rss, hwm := parseProcStatus([]byte("Name:\tssogate\nVmPeak:\t  900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n"))
	require.Equal(t, int64(40960<<10), rss)
	require.Equal(t, int64(51200<<10), hwm)
	rss, hwm = parseProcStatus([]byte("VmRSS: lots\nVmHWM: 1 MB\n"))
	require.Zero(t, rss)
	require.Zero(t, hwm)
}

func TestReadProcSelf(t *testing.T) {
	t.Parallel()
	s, err := readProc(0)
	require.Error(t, err, "pid 0 has no /proc entry")
	require.Zero(t, s)
	require.Positive(t, selfCPU()+1) // never fails, may be 0 early on
}

func TestParseMachineBusy(t *testing.T) {
	t.Parallel()
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  100 20 30 5000 70 1 2 3 40 5\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
	require.Equal(t, 1560*time.Millisecond, parseMachineBusy([]byte(stat)))
	require.Zero(t, parseMachineBusy([]byte("intr 1 2 3\n")))
	require.Zero(t, parseMachineBusy([]byte("cpu 1 2 x 4 5 6\n")))
	require.Positive(t, machineBusy())
}

func TestQueueDepth(t *testing.T) {
	t.Parallel()
	exposition := `# HELP ssogate_hub_pull_queue_depth Pull jobs not finished, by state.
# TYPE ssogate_hub_pull_queue_depth gauge
ssogate_hub_pull_queue_depth{state="available"} 3
ssogate_hub_pull_queue_depth{state="running"} 2
ssogate_hub_pull_queue_depth{state="scheduled"} 1e+00
ssogate_hub_pull_queue_depth_other{state="available"} 100
ssogate_gateway_ping_queue_depth{state="available"} 7
ssogate_gateway_ping_queue_depth{state="completed"} 9000
ssogate_gateway_ping_queue_depth{state="retryable",queue="ping"} 4
ssogate_gateway_ping_queue_depth{state="pending"} NaN
`
	require.InDelta(t, 6.0, queueDepth(strings.NewReader(exposition), metricPullQueue), 0)
	require.InDelta(t, 11.0, queueDepth(strings.NewReader(exposition), metricPingQueue), 0)
	require.True(t, math.IsNaN(queueDepth(strings.NewReader(exposition), "ssogate_missing")))
}

func FuzzQueueDepth(f *testing.F) {
	f.Add(`ssogate_hub_pull_queue_depth{state="available"} 3`)
	f.Add("ssogate_hub_pull_queue_depth{state=\"running\"} 1 1700000000\n")
	f.Add("ssogate_hub_pull_queue_depth{")
	f.Fuzz(func(t *testing.T, s string) {
		_ = queueDepth(strings.NewReader(s), metricPullQueue)
	})
}

func TestReadSSE(t *testing.T) {
	t.Parallel()
	stream := "retry: 2000\n: hello\n\nevent: profile\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: lagged\r\ndata: {}\r\n\r\ndata: x\ndata: y\n\nevent: profile\ndata: cut"
	opened := 0
	var got []sseEvent
	err := readSSE(strings.NewReader(stream), func() { opened++ }, func(ev sseEvent) { got = append(got, ev) })
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, 1, opened)
	require.Equal(t, []sseEvent{{"profile", `{"a":1}`}, {"lagged", "{}"}, {"message", "x\ny"}}, got)
}

func FuzzReadSSE(f *testing.F) {
	f.Add("event: profile\ndata: {}\n\n")
	f.Add(": c\n\ndata:x\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		err := readSSE(strings.NewReader(s), func() {}, func(sseEvent) {})
		require.True(t, errors.Is(err, io.EOF))
	})
}

func TestParseName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in        string
		user, seq int
		ok        bool
	}{
		{displayName(7, 1234), 7, 1234, true},
		{"u0 #0", 0, 0, true},
		{"warmup #3", 0, 0, false},
		{"u1#2", 0, 0, false},
		{"u-1 #2", 0, 0, false},
		{"u1 #x", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range cases {
		user, seq, ok := parseName(tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
		if ok {
			require.Equal(t, []int{tc.user, tc.seq}, []int{user, seq}, tc.in)
		}
	}
}

func TestDistOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, Dist{}, distOf(nil))
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, Dist{N: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}, distOf(d))
	require.Equal(t, Dist{N: 1, P50: time.Second, P95: time.Second, P99: time.Second, Max: time.Second}, distOf([]time.Duration{time.Second}))
}

// A change is delivered when the hub shows it or a newer change of the
// same user; changes the hub never caught up with stay undelivered.
func TestTrackerDelivery(t *testing.T) {
	t.Parallel()
	tr := newTracker(6, 2) // user 0: seq 0, 2, 4; user 1: seq 1, 3, 5
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for seq := range 6 {
		tr.sent(seq, at(seq))
	}
	// User 0: versions in send order; the hub shows seq 4 only (coalesced).
	tr.answered(0, at(10), http.StatusAccepted, "queued", 1)
	tr.answered(2, at(11), http.StatusAccepted, "queued", 2)
	tr.event("u0", displayName(0, 4), at(40), time.Time{}, time.Time{}) // before its answer arrives
	_, behind := tr.outstanding()
	require.Equal(t, 1, behind)
	tr.answered(4, at(12), http.StatusAccepted, "queued", 3)
	// User 1: seq 3 committed after seq 5; the hub shows 3 (the newest) and
	// later 5 — 5 counts as delivered when 3 was shown.
	tr.answered(1, at(10), http.StatusAccepted, "queued", 1)
	tr.answered(5, at(13), http.StatusAccepted, "queued", 2)
	tr.answered(3, at(14), http.StatusAccepted, "queued", 3)
	tr.event("u1", displayName(1, 3), at(30), time.Time{}, time.Time{})
	tr.event("u1", displayName(1, 5), at(50), time.Time{}, time.Time{})
	tr.event("u1", "u1 #99", at(50), time.Time{}, time.Time{})          // no such change
	tr.event("u0", displayName(1, 1), at(50), time.Time{}, time.Time{}) // wrong user
	tr.event("warmup", "warmup #0", at(1), time.Time{}, time.Time{})
	require.Equal(t, "warmup #0", <-tr.warmup)

	pending, behind := tr.outstanding()
	require.Zero(t, pending)
	require.Zero(t, behind)
	d := tr.delivery()
	require.Equal(t, []time.Time{at(40), at(30), at(40), at(30), at(40), at(30)}, d)
	require.Equal(t, 2, tr.foreign)

	// A newer accepted change nobody showed leaves its user behind and the
	// change undelivered; a re-read of the hub's profile resolves it.
	tr2 := newTracker(2, 1)
	tr2.sent(0, at(0))
	tr2.sent(1, at(1))
	tr2.answered(0, at(5), http.StatusAccepted, "queued", 1)
	tr2.answered(1, at(6), http.StatusAccepted, "queued", 2)
	tr2.event("u0", displayName(0, 0), at(20), time.Time{}, time.Time{})
	require.Equal(t, []int{0}, tr2.behindUsers())
	require.Equal(t, []time.Time{at(20), {}}, tr2.delivery())
	require.False(t, tr2.rereadName(0, displayName(0, 0), at(90)), "already seen")
	require.True(t, tr2.rereadName(0, displayName(0, 1), at(90)))
	require.Empty(t, tr2.behindUsers())
	require.Equal(t, []time.Time{at(20), at(90)}, tr2.delivery())

	// A stale answer carries the version that superseded it and is
	// delivered with it.
	tr4 := newTracker(2, 1)
	tr4.sent(0, at(0))
	tr4.sent(1, at(1))
	tr4.answered(1, at(5), http.StatusAccepted, "queued", 1)
	tr4.answered(0, at(6), http.StatusAccepted, "stale", 1)
	_, behind = tr4.outstanding()
	require.Equal(t, 1, behind)
	tr4.event("u0", displayName(0, 1), at(30), time.Time{}, time.Time{})
	require.Equal(t, []time.Time{at(30), at(30)}, tr4.delivery())

	// Refused webhooks are not expected at the hub.
	tr3 := newTracker(1, 1)
	tr3.sent(0, at(0))
	tr3.answered(0, at(1), http.StatusTooManyRequests, "status_429", 0)
	_, behind = tr3.outstanding()
	require.Zero(t, behind)
	require.Equal(t, []time.Time{{}}, tr3.delivery())
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]TargetSpec{
		"sqlite":                          {Kind: KindSQLite},
		"sqlite:./x.db":                   {Kind: KindSQLite},
		"floor":                           {Kind: KindFloor},
		"postgres://u@h/db?sslmode=false": {Kind: KindPostgres, DatabaseURL: "postgres://u@h/db?sslmode=false"},
		"postgresql://h/db":               {Kind: KindPostgres, DatabaseURL: "postgresql://h/db"},
	} {
		got, err := ParseTarget(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseTarget("mysql://root:secret@h/db")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cfg := Config{Targets: []TargetSpec{{Kind: KindPostgres}, {Kind: "nope"}, {Kind: KindSQLite}, {Kind: KindSQLite}},
		Rates: []int{0, 50}, Duration: time.Millisecond, Users: -1, Drain: -1, MaxInFlight: -1}.WithDefaults()
	err := cfg.validate()
	require.Error(t, err)
	for _, want := range []string{"postgres needs a database URL", `unknown kind "nope"`, "sqlite is listed twice", "rates[0]",
		"duration 1ms", "users -1", "drain -1ns", "max in flight -1", "ssogate binary is required", "ssogate-bench binary"} {
		require.Contains(t, err.Error(), want)
	}
	q := Config{Quick: true, SsogateBin: "x", SelfBin: "y"}.WithDefaults()
	require.NoError(t, q.validate())
	require.Equal(t, DefaultQuickRates, q.Rates)
	require.Equal(t, DefaultQuickDuration, q.Duration)
	require.Equal(t, []TargetSpec{{Kind: KindSQLite}, {Kind: KindFloor}}, q.Targets)
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://u:xxxxx@h/db", redactURL("postgres://u:pw@h/db"))
	require.Equal(t, "postgres://u@h/db", redactURL("postgres://u@h/db"))
}
