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
// The window runs from a snapshot taken statsFlushWait after the warm-up
// (and its ANALYZE) to one taken statsFlushWait after the drain, so it also
// holds the children's background transactions of up to two such waits
// (River's maintenance and polling, the queue depths the harness scrapes
// from /metrics every second, the update stream): they weigh on short,
// slow steps (--quick) and little next to thousands of changes.
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

// xactsBetween computes the window's Xacts from two snapshots: harness is
// what the harness committed in each database between them.
func xactsBetween(before, after xactSnapshot, gatewayDB, hubDB string, harness map[string]int64, delivered int) Xacts {
	gw := after[gatewayDB] - before[gatewayDB] - harness[gatewayDB]
	hub := after[hubDB] - before[hubDB] - harness[hubDB]
	return Xacts{Gateway: max(gw, 0), Hub: max(hub, 0), Harness: harness[gatewayDB] + harness[hubDB], Delivered: delivered}
}
