package bench

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// statsFlushWait is how long the harness waits before reading
// pg_stat_database. A PostgreSQL 15 backend keeps its counters in local
// memory and flushes them to the shared statistics at the end of a
// transaction when the last flush is at least a second old
// (PGSTAT_MIN_INTERVAL); otherwise, when it goes idle, it arms a timeout
// of PGSTAT_IDLE_INTERVAL, 10 s, and flushes then. So a transaction
// committed at t is counted by t+10 s at the latest. A pooled connection
// that goes idle right after a burst holds its last second's commits that
// long (seen: a poll's commit missing 1.5 s later).
// pg_stat_force_next_flush() exists but only flushes the backend that
// calls it, never the children's. Waiting a little over 10 s with the
// system quiet (after the warm-up, after the drain) makes a snapshot cover
// every transaction up to the wait's start.
const statsFlushWait = 11 * time.Second

// Xacts is the transactions a PostgreSQL target committed over a step's
// measured window, per database (each role has its own), from
// pg_stat_database.xact_commit.
//
// The window runs from a snapshot taken statsFlushWait + idleSample after
// the warm-up (and its ANALYZE) to one taken statsFlushWait after the
// drain, so it also holds the children's background transactions (River's
// maintenance and polling, the queue depths the harness scrapes from
// /metrics every second, the update stream) over the window and up to two
// such waits: they weigh on short, slow steps (--quick) and little next to
// thousands of changes. The idle rate measured just before the window
// (IdleGateway, IdleHub) shows that background, and NetPerChange takes it
// out.
//
// The harness's own transactions are kept out: it reads pg_stat_database
// through a connection to the server URL's database, never a role's, so
// those reads commit elsewhere; and each ANALYZE it runs during the window
// (only with Config.PostgresAnalyzeEvery) commits two transactions in each
// role database, its connection's start-up transaction (PostgreSQL counts
// it) and the ANALYZE's own (analyzePostgres counts them), which are
// subtracted (Harness).
type Xacts struct {
	// Gateway and Hub are the commits of each role's database, the
	// harness's own subtracted.
	Gateway, Hub int64
	// Harness is what the harness committed in the two databases during
	// the window and was subtracted (its ANALYZE runs).
	Harness int64
	// Delivered is the changes the step delivered, the divisor.
	Delivered int
	// Window is the time between the two snapshots.
	Window time.Duration
	// IdleGateway and IdleHub are each database's commits per second with
	// the system quiet, measured over idleSample just before the window:
	// the background that is in the counts whatever the load.
	IdleGateway, IdleHub float64
}

// NetPerChange is PerChange with the idle rate over the window taken out
// (never below zero): what the changes themselves cost, give or take how
// steady the background is.
func (x Xacts) NetPerChange() (gateway, hub, total float64) {
	if x.Delivered <= 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	d, w := float64(x.Delivered), x.Window.Seconds()
	gw := max(float64(x.Gateway)-x.IdleGateway*w, 0)
	hub = max(float64(x.Hub)-x.IdleHub*w, 0)
	return gw / d, hub / d, (gw + hub) / d
}

// PerChange returns the gateway's, the hub's and their total commits per
// delivered change (NaN without a delivered change).
func (x Xacts) PerChange() (gateway, hub, total float64) {
	if x.Delivered <= 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	d := float64(x.Delivered)
	return float64(x.Gateway) / d, float64(x.Hub) / d, float64(x.Gateway+x.Hub) / d
}

// xactSnapshot is xact_commit per database name at one moment.
type xactSnapshot map[string]int64

// readXactCommits reads xact_commit of dbs through a connection to base
// (the server URL the harness was given, whose database is none of dbs).
// pg_stat_clear_snapshot() first, so that nothing cached in the session
// (stats_fetch_consistency) is read back.
func readXactCommits(ctx context.Context, base string, dbs []string) (xactSnapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("bench: pg_stat_database: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		return nil, fmt.Errorf("bench: pg_stat_clear_snapshot: %w", err)
	}
	rows, err := conn.Query(ctx, "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)", dbs)
	if err != nil {
		return nil, fmt.Errorf("bench: pg_stat_database: %w", err)
	}
	snap := xactSnapshot{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("bench: pg_stat_database: %w", err)
		}
		snap[name] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bench: pg_stat_database: %w", err)
	}
	for _, db := range dbs {
		if _, ok := snap[db]; !ok {
			return nil, fmt.Errorf("bench: pg_stat_database has no row for %s", strconv.Quote(db))
		}
	}
	return snap, nil
}

// idleSample is how long the harness counts the quiet system's commits
// before a window, for Xacts' idle rates.
const idleSample = 5 * time.Second

// xactStart is the start of a window: the counters, when they were read,
// and each database's idle commit rate just before.
type xactStart struct {
	snap xactSnapshot
	at   time.Time
	idle map[string]float64
}

// startXacts waits for the counters to settle, then counts the quiet
// system's commits over idleSample, and returns the second reading as the
// window's start.
func startXacts(ctx context.Context, base string, dbs []string) (xactStart, error) {
	a, err := settledXacts(ctx, base, dbs)
	if err != nil {
		return xactStart{}, err
	}
	aAt := time.Now()
	timer := time.NewTimer(idleSample)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return xactStart{}, ctx.Err()
	case <-timer.C:
	}
	b, err := readXactCommits(ctx, base, dbs)
	if err != nil {
		return xactStart{}, err
	}
	st := xactStart{snap: b, at: time.Now(), idle: map[string]float64{}}
	for _, db := range dbs {
		st.idle[db] = float64(max(b[db]-a[db], 0)) / st.at.Sub(aAt).Seconds()
	}
	return st, nil
}

// settledXacts waits statsFlushWait for the backends to flush their
// counters, then reads xact_commit of dbs.
func settledXacts(ctx context.Context, base string, dbs []string) (xactSnapshot, error) {
	timer := time.NewTimer(statsFlushWait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
	}
	return readXactCommits(ctx, base, dbs)
}

// xactsBetween computes the window's Xacts from its start and the
// snapshot read at afterAt: harness is what the harness committed in each
// database in between.
func xactsBetween(before xactStart, after xactSnapshot, afterAt time.Time, gatewayDB, hubDB string, harness map[string]int64, delivered int) Xacts {
	gw := after[gatewayDB] - before.snap[gatewayDB] - harness[gatewayDB]
	hub := after[hubDB] - before.snap[hubDB] - harness[hubDB]
	return Xacts{Gateway: max(gw, 0), Hub: max(hub, 0), Harness: harness[gatewayDB] + harness[hubDB], Delivered: delivered,
		Window: afterAt.Sub(before.at), IdleGateway: before.idle[gatewayDB], IdleHub: before.idle[hubDB]}
}
