package bench

import (
	"bytes"
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/pgtemp"
	"github.com/ssogate/ssogate/internal/testenv"
)

func TestXactsBetween(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	before := xactStart{snap: xactSnapshot{"gw": 100, "hub": 1000}, at: at, idle: map[string]float64{"gw": 2, "hub": 0.5}}
	after := xactSnapshot{"gw": 400, "hub": 1610}
	x := xactsBetween(before, after, at.Add(10*time.Second), "gw", "hub", map[string]int64{"gw": 4, "hub": 10}, 100)
	require.Equal(t, Xacts{Gateway: 296, Hub: 600, Harness: 14, Delivered: 100, Window: 10 * time.Second, IdleGateway: 2, IdleHub: 0.5}, x)
	gw, hub, total := x.PerChange()
	require.InDelta(t, 2.96, gw, 1e-9)
	require.InDelta(t, 6.0, hub, 1e-9)
	require.InDelta(t, 8.96, total, 1e-9)
	gw, hub, total = x.NetPerChange()
	require.InDelta(t, 2.76, gw, 1e-9, "296 - 2/s × 10s")
	require.InDelta(t, 5.95, hub, 1e-9, "600 - 0.5/s × 10s")
	require.InDelta(t, 8.71, total, 1e-9)

	// No harness transactions (nil map); a counter that went backwards
	// (a stats reset) counts as nothing rather than negative, and so does
	// a background larger than the count.
	x = xactsBetween(before, xactSnapshot{"gw": 50, "hub": 1001}, at.Add(time.Second), "gw", "hub", nil, 1)
	require.Equal(t, Xacts{Gateway: 0, Hub: 1, Delivered: 1, Window: time.Second, IdleGateway: 2, IdleHub: 0.5}, x)
	gw, hub, _ = x.NetPerChange()
	require.Zero(t, gw)
	require.InDelta(t, 0.5, hub, 1e-9)

	gw, hub, total = Xacts{Gateway: 5, Hub: 5}.PerChange()
	require.True(t, math.IsNaN(gw) && math.IsNaN(hub) && math.IsNaN(total), "nothing delivered: no ratio")
	gw, hub, total = Xacts{Gateway: 5, Hub: 5}.NetPerChange()
	require.True(t, math.IsNaN(gw) && math.IsNaN(hub) && math.IsNaN(total), "nothing delivered: no ratio")
}

func TestFmtXactsAndAnalyze(t *testing.T) {
	t.Parallel()
	require.Equal(t, "n/a", fmtXacts(nil))
	require.Equal(t, "1.5 / 2.0 / 3.5", fmtXacts(&Xacts{Gateway: 3, Hub: 4, Delivered: 2}))
	require.Equal(t, "– / – / –", fmtXacts(&Xacts{Gateway: 3}))
	require.Equal(t, "n/a", fmtXactsNet(nil))
	require.Equal(t, "1.0 / 1.5 / 2.5", fmtXactsNet(&Xacts{Gateway: 3, Hub: 4, Delivered: 2, Window: 2 * time.Second, IdleGateway: 0.5, IdleHub: 0.5}))
	require.Equal(t, "n/a", fmtIdle(nil))
	require.Equal(t, "0.5 / 12.3", fmtIdle(&Xacts{IdleGateway: 0.5, IdleHub: 12.26}))

	require.Equal(t, "n/a", fmtAnalyze(&StepResult{Target: KindSQLite}))
	require.Equal(t, "n/a", fmtAnalyze(&StepResult{Target: KindFloor, AnalyzeInWindow: 2}))
	require.Equal(t, "no", fmtAnalyze(&StepResult{Target: KindPostgres}))
	require.Equal(t, "yes (6×)", fmtAnalyze(&StepResult{Target: KindPostgres, AnalyzeInWindow: 6}))

	pg := Config{Targets: []TargetSpec{{Kind: KindPostgres}}}
	require.Empty(t, analyzeNote(Config{Targets: []TargetSpec{{Kind: KindSQLite}}}))
	require.Contains(t, analyzeNote(pg), "outside the measured window")
	pg.PostgresAnalyzeEvery = 5 * time.Second
	require.Contains(t, analyzeNote(pg), "every 5s during the load")
	pg.PostgresAnalyzeEvery, pg.PostgresSkipAnalyze = 0, true
	require.Contains(t, analyzeNote(pg), "no ANALYZE at all")
}

// cells counts a Markdown table row's cells.
func cells(row string) int { return strings.Count(row, "|") - 1 }

func TestMarkdownCommitsColumns(t *testing.T) {
	t.Parallel()
	cfg := Config{Targets: []TargetSpec{{Kind: KindPostgres}, {Kind: KindSQLite}, {Kind: KindFloor}}, Duration: time.Second, Users: 10}
	upd := Dist{N: 10, P50: 10 * time.Millisecond, P99: 20 * time.Millisecond}
	rs := []StepResult{
		{Target: KindPostgres, Rate: 20, Duration: time.Second, Update: upd, Xacts: &Xacts{Gateway: 30, Hub: 45, Delivered: 10},
			MaxGatewayQueue: math.NaN(), MaxHubQueue: math.NaN()},
		{Target: KindPostgres, Rate: 100, Duration: time.Second, Update: upd, Xacts: &Xacts{Gateway: 30, Hub: 45, Delivered: 10}, AnalyzeInWindow: 3,
			MaxGatewayQueue: math.NaN(), MaxHubQueue: math.NaN()},
		{Target: KindSQLite, Rate: 20, Duration: time.Second, Update: upd, MaxGatewayQueue: math.NaN(), MaxHubQueue: math.NaN()},
		{Target: KindSQLite, Rate: 100, Err: "bench: hub exited | early"},
		{Target: KindFloor, Rate: 20, Duration: time.Second, Update: upd, MaxGatewayQueue: math.NaN(), MaxHubQueue: math.NaN()},
	}
	var md bytes.Buffer
	writeMarkdown(&md, cfg, rs, nil)
	lines := strings.Split(md.String(), "\n")
	var table []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| target | offered/s | accepted/s") {
			table = append(table, l)
			continue
		}
		if len(table) > 0 {
			if !strings.HasPrefix(l, "|") {
				break
			}
			table = append(table, l)
		}
	}
	require.Len(t, table, 2+len(rs), md.String())
	require.Contains(t, table[0], "| commits/change gw / hub / total | ANALYZE during load |")
	for _, row := range table[1:] {
		require.Equal(t, cells(table[0]), cells(row), "row %q", row)
	}
	require.True(t, strings.HasSuffix(table[2], "| 3.0 / 4.5 / 7.5 | no |"), table[2])
	require.True(t, strings.HasSuffix(table[3], "| 3.0 / 4.5 / 7.5 | yes (3×) |"), table[3])
	require.True(t, strings.HasSuffix(table[4], "| n/a | n/a |"), table[4])
	require.True(t, strings.HasSuffix(table[6], "| n/a | n/a |"), table[6])
	require.Contains(t, md.String(), "ANALYZE once after the warm-up, outside the measured window")

	var csvBuf bytes.Buffer
	require.NoError(t, writeResultsCSV(&csvBuf, rs, nil))
	out := csvBuf.String()
	require.Contains(t, out, "postgres,20,xacts_per_change_total,7.5,commits/change\n")
	require.Contains(t, out, "postgres,20,xacts_gateway,30,commits\n")
	require.Contains(t, out, "postgres,20,xacts_per_change_net_total,7.5,commits/change\n")
	require.Contains(t, out, "postgres,20,xacts_idle_rate_hub,0,commits/s\n")
	require.Contains(t, out, "postgres,100,analyze_in_window,3,runs\n")
	require.NotContains(t, out, "sqlite,20,xacts_")
	require.NotContains(t, out, "sqlite,20,analyze_in_window")
	back, err := readResultsCSV(&csvBuf)
	require.NoError(t, err)
	require.Len(t, back, len(rs), "the new metrics do not disturb the comparison's reader")
}

func TestResyncReport(t *testing.T) {
	t.Parallel()
	r := ResyncResult{Target: KindSQLite, Users: 2000, Seed: 10 * time.Second, Elapsed: 4 * time.Second, Pulled: 2000, PerSec: 500,
		PingExit: 4200 * time.Millisecond, PingCPU: 800 * time.Millisecond,
		Procs: []ProcResult{{Role: "gateway", CPU: 2 * time.Second, Cores: 0.5}, {Role: "hub", CPU: 3 * time.Second, Cores: 0.75}}}
	require.InDelta(t, 10e6/500/3600.0, r.HoursFor10M(), 1e-9)
	require.True(t, math.IsNaN(ResyncResult{}.HoursFor10M()))
	pg := ResyncResult{Target: KindPostgres, Users: 2000, Elapsed: 8 * time.Second, Pulled: 1000, PerSec: 125,
		Xacts: &Xacts{Gateway: 2000, Hub: 3000, Delivered: 1000}, Err: "bench: resync: 1000 of 2000 users pulled again at the hub by the deadline"}
	failed := ResyncResult{Target: "other", Users: 5, Err: "bench: hub exited before ready"}

	var md strings.Builder
	writeResyncMarkdown(&md, []ResyncResult{r, pg, failed})
	s := md.String()
	require.Contains(t, s, "| sqlite | 2000 | 10.00s | 4.00s | 2000 | 500 | 5.6 | 4.20s | 2.0 / 3.0 / 0.8 | 0.50 / 0.75 | n/a |")
	require.Contains(t, s, "| postgres | 2000 | – | 8.00s | 1000 | 125 | 22.2 | – | 0.0 / 0.0 / 0.0 | 0.00 / 0.00 | 2.0 / 3.0 / 5.0 |")
	require.Contains(t, s, "| other | 5 | failed: bench: hub exited before ready |")
	require.Contains(t, s, "postgres did not finish: bench: resync: 1000 of 2000")
	var header string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "| target |") {
			header = l
		}
		if strings.HasPrefix(l, "| ") && header != "" {
			require.Equal(t, cells(header), cells(l), "row %q", l)
		}
	}

	var csvBuf bytes.Buffer
	writeResyncCSV(&csvBuf, []ResyncResult{r, pg})
	out := csvBuf.String()
	require.Contains(t, out, "sqlite,0,resync_rate,500,changes/s\n")
	require.Contains(t, out, "sqlite,0,resync_elapsed,4,s\n")
	require.Contains(t, out, "sqlite,0,hub_cpu,3,s\n")
	require.Contains(t, out, "postgres,0,xacts_per_change_total,5,commits/change\n")
	require.Contains(t, out, "postgres,0,error,")
	back, err := readResultsCSV(strings.NewReader(out))
	require.NoError(t, err)
	require.Empty(t, back, "resync rows have no rate: the comparison skips them")
}

func TestResyncCounters(t *testing.T) {
	t.Parallel()
	ids := []string{"u0", "u1", "u2"}
	profiles := map[string]seqs{"u0": {ping: 1, pulled: 1}, "u1": {ping: 3, pulled: 2}, "u2": {ping: 2, pulled: 2}, "other": {ping: 9, pulled: 0}}
	base, notQuiet := quietBase(profiles, ids)
	require.Nil(t, base)
	require.Equal(t, 1, notQuiet, "u1 has a pull pending")
	delete(profiles, "u0")
	_, notQuiet = quietBase(profiles, ids)
	require.Equal(t, 2, notQuiet, "u0 is missing")

	profiles = map[string]seqs{"u0": {ping: 1, pulled: 1}, "u1": {ping: 3, pulled: 3}, "u2": {ping: 2, pulled: 2}}
	base, notQuiet = quietBase(profiles, ids)
	require.Zero(t, notQuiet)
	require.Equal(t, map[string]int64{"u0": 1, "u1": 3, "u2": 2}, base)
	require.Zero(t, pulledSince(profiles, base))
	profiles["u1"] = seqs{ping: 4, pulled: 3} // pinged, not pulled yet
	profiles["u2"] = seqs{ping: 3, pulled: 3}
	require.Equal(t, 1, pulledSince(profiles, base))
	delete(profiles, "u0")
	require.Equal(t, 1, pulledSince(profiles, base), "a vanished profile is not pulled")
}

func TestConfigValidateResyncAndAnalyze(t *testing.T) {
	t.Parallel()
	cfg := Config{Targets: []TargetSpec{{Kind: KindSQLite}, {Kind: KindFloor}}, Resync: -1, ResyncSeedRate: -2,
		PostgresAnalyzeEvery: -time.Second, SsogateBin: "x", SelfBin: "y"}.WithDefaults()
	err := cfg.validate()
	require.Error(t, err)
	for _, want := range []string{"resync -1", "resync seed rate -2", "postgres analyze interval -1s"} {
		require.Contains(t, err.Error(), want)
	}
	both := Config{PostgresAnalyzeEvery: time.Second, PostgresSkipAnalyze: true, SsogateBin: "x", SelfBin: "y"}.WithDefaults()
	require.ErrorContains(t, both.validate(), "exclude each other")
	floor := Config{Targets: []TargetSpec{{Kind: KindFloor}}, Resync: 10, SsogateBin: "x", SelfBin: "y"}.WithDefaults()
	require.ErrorContains(t, floor.validate(), "the floor has no ping command")

	r := Config{Resync: 100, SsogateBin: "x"}.WithDefaults()
	require.NoError(t, r.validate())
	require.Equal(t, []TargetSpec{{Kind: KindSQLite}}, r.Targets, "no floor in a resync")
	require.Equal(t, DefaultResyncSeed, r.ResyncSeedRate)
}

// TestAnalyzeCommits checks the accounting the transaction counts rely
// on: one analyzePostgres run commits what it says (two transactions) in
// the database it analyzes, and readXactCommits, connected to the
// server's own database, commits nothing there. An autovacuum worker may
// visit the fresh database during the check and commit too (it does when
// databases are created and dropped meanwhile: the shared catalogs get
// vacuumed from whichever database it is in), so the test does not run in
// parallel with this package's real runs, and it is tried a few times and
// one exact match passes.
func TestAnalyzeCommits(t *testing.T) {
	base := testenv.DatabaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, db, drop, err := provisionPostgres(ctx, base, "xacttest")
	require.NoError(t, err)
	t.Cleanup(drop)
	require.NotEmpty(t, db, "the test server lets postgres create databases")
	var deltas []int64
	for range 4 {
		before, err := settledXacts(ctx, base, []string{db})
		require.NoError(t, err)
		committed, err := analyzePostgres(ctx, []string{u})
		require.NoError(t, err)
		require.Equal(t, map[string]int64{u: 2}, committed)
		// A read in between must not count in db.
		_, err = readXactCommits(ctx, base, []string{db})
		require.NoError(t, err)
		after, err := settledXacts(ctx, base, []string{db})
		require.NoError(t, err)
		d := after[db] - before[db]
		if d == committed[u] {
			if len(deltas) > 0 {
				t.Logf("earlier attempts moved by %v", deltas)
			}
			return
		}
		deltas = append(deltas, d)
	}
	t.Fatalf("pg_stat_database moved by %v, never by the 2 analyzePostgres reported", deltas)
}

// TestHubPollCommits checks that a poll of the hub's remote profiles on
// PostgreSQL commits exactly the one transaction hubDB counts (not
// parallel and retried like TestAnalyzeCommits, against an autovacuum
// worker's visit).
func TestHubPollCommits(t *testing.T) {
	// A private server: on the shared one, autovacuum of the fresh database
	// and other tests' databases add commits to the count.
	base := pgtemp.Start(t).URL("postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, db, drop, err := provisionPostgres(ctx, base, "polltest")
	require.NoError(t, err)
	t.Cleanup(drop)
	require.NotEmpty(t, db)
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE hub_remote_profile (network text, user_id text, ping_seq bigint, pulled_seq bigint);
		INSERT INTO hub_remote_profile VALUES ('n', 'u0', 2, 1), ('n', 'u1', 1, 1), ('other', 'u0', 5, 5)`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	hub, err := openHubDB(ctx, &system{pgURLs: []string{u, u}})
	require.NoError(t, err)
	defer hub.close()

	var deltas []int64
	for range 4 {
		before, err := settledXacts(ctx, base, []string{db})
		require.NoError(t, err)
		polls := hub.polls
		for range 3 {
			p, err := hub.profiles(ctx, "n")
			require.NoError(t, err)
			require.Equal(t, map[string]seqs{"u0": {ping: 2, pulled: 1}, "u1": {ping: 1, pulled: 1}}, p)
		}
		require.Equal(t, int64(3), hub.polls-polls)
		after, err := settledXacts(ctx, base, []string{db})
		require.NoError(t, err)
		d := after[db] - before[db]
		if d == 3 {
			if len(deltas) > 0 {
				t.Logf("earlier attempts moved by %v", deltas)
			}
			return
		}
		deltas = append(deltas, d)
	}
	t.Fatalf("pg_stat_database moved by %v over 3 polls, never by 3", deltas)
}

// TestHubPollSQLite reads a hub's SQLite database the way a resync does.
func TestHubPollSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ssogate.db"))
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE remote_profile (network TEXT, user_id TEXT, ping_seq INTEGER, pulled_seq INTEGER);
		INSERT INTO remote_profile VALUES ('n', 'u0', 2, 1), ('other', 'u0', 5, 5)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	hub, err := openHubDB(context.Background(), &system{dataDirs: map[string]string{"hub": dir}})
	require.NoError(t, err)
	defer hub.close()
	p, err := hub.profiles(context.Background(), "n")
	require.NoError(t, err)
	require.Equal(t, map[string]seqs{"u0": {ping: 2, pulled: 1}}, p)
	_, err = hub.sql.Exec("DELETE FROM remote_profile")
	require.Error(t, err, "the harness's connection is read-only")
}
