// Package bench is ssogate's load and propagation benchmark harness, the
// engine of cmd/ssogate-bench.
//
// It measures, for each target and each offered rate, how long a profile
// change takes from the backend's signed webhook at the gateway to the
// remote profile updated at the hub, next to a floor that does the same
// protocol round trip with nothing else:
//
//   - Targets run as child processes, so their CPU time (/proc/PID/stat)
//     and peak RSS (/proc/PID/status VmHWM) are measured the same way:
//     `ssogate serve` + `ssogate hub` on SQLite or PostgreSQL, and the floor
//     (`ssogate-bench floor-gateway` + `floor-hub`: plain net/http, the ping
//     made synchronously inside the webhook, the pull right after the ping's
//     answer, profiles in memory, no queue, no database).
//   - Load is open loop: a scheduler sends webhook n at start + n/rate
//     whatever the earlier ones are doing, from as many concurrent senders as
//     needed, and every latency is measured from that intended time, so
//     queueing in the target shows in the figures instead of slowing the
//     sender down (no coordinated omission).
//   - Each webhook gives one user (of Config.Users) a unique display name
//     "u{n} #{seq}". The harness follows the hub's update stream
//     (GET /api/networks/{network}/updates) and takes a change as delivered
//     when the hub shows that change or a later one of the same user (a
//     newer change supersedes an older one; coalescing is the design). A
//     change not delivered by the drain deadline is counted as lost, never
//     dropped.
//   - Every second it scrapes both processes' /metrics for the ping and
//     pull queue depths and samples their CPU and memory.
//   - On PostgreSQL (each role in a database of its own) it counts the
//     transactions each database committed over the measured window, from
//     pg_stat_database, per delivered change (Xacts says how, and how the
//     harness's own are kept out). ANALYZE runs once after the warm-up,
//     outside the window; Config.PostgresAnalyzeEvery (--pg-analyze-every)
//     also runs it during the load, and the table says so.
//   - With Config.Resync (--resync N) it measures a bulk resync instead of
//     the rate steps: N users seeded through webhooks, then one
//     `ssogate ping --stdin` with all of them against the running gateway's
//     database, timed until the hub's database shows a new pull of every
//     user (changes/s, hours for 10 M users, CPU seconds; Resync).
//
// Run writes results.csv (one row per target, rate and metric),
// timeseries.csv, latency.svg/.png and throughput.svg/.png (gonum/plot) and
// results.md, and prints the Markdown table; a resync writes results.csv
// (rate 0) and results.md.
package bench
