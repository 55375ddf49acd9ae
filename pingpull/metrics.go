package pingpull

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ssogate/ssogate/store"
)

// metrics are the package's collectors, all prefixed ssogate_gateway_ so
// that they never collide with the hub's in a combined process.
type metrics struct {
	webhooks    *prometheus.CounterVec
	pings       *prometheus.CounterVec
	deadLetters prometheus.Counter
	pingLatency prometheus.Histogram
	// webhookTxBatch is the size of each committed group of webhooks.
	webhookTxBatch prometheus.Histogram
	pulls          *prometheus.CounterVec
	logouts        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, jobs store.JobClient, outbox store.PingOutboxQueries, now func() time.Time) (*metrics, error) {
	m := &metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_gateway_webhooks_total",
			Help: "Profile-changed webhooks by result (queued, unchanged, stale, replayed, or the refusal).",
		}, []string{"result"}),
		pings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_gateway_pings_total",
			Help: "Ping attempts by result (ok, coalesced, retry, dead_letter), and deferred: a change the fast path had no room for, left in the outbox for a sweeper.",
		}, []string{"result"}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ssogate_gateway_ping_dead_letters_total",
			Help: "Ping jobs given up on (permanent refusal or attempts exhausted).",
		}),
		pingLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ssogate_gateway_ping_duration_seconds",
			Help:    "Duration of ping requests to the hub, whatever their result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}),
		webhookTxBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ssogate_gateway_webhook_tx_batch_size",
			Help:    "Webhooks committed together in one transaction (group commit: the webhooks that arrived while the previous transaction ran).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_gateway_pulls_total",
			Help: "Pull requests by result (served, forbidden, not_found, bad_request, error).",
		}, []string{"result"}),
		logouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_gateway_hub_logouts_total",
			Help: "Logouts sent to the hub (app sessions ended) by result (ok, unsupported, retry, dead_letter).",
		}, []string{"result"}),
	}
	collectors := []prometheus.Collector{m.webhooks, m.pings, m.deadLetters, m.pingLatency, m.webhookTxBatch, m.pulls, m.logouts, &queueDepth{jobs: jobs, outbox: outbox, now: now}}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("pingpull: register metrics: %w", err)
		}
	}
	return m, nil
}

var queueDepthDesc = prometheus.NewDesc(
	"ssogate_gateway_ping_queue_depth",
	"Ping jobs by River state, counted at scrape time.",
	[]string{"state"}, nil,
)

var queueOldestDesc = prometheus.NewDesc(
	"ssogate_gateway_ping_queue_oldest_seconds",
	"Age of the oldest profile change not yet pinged: the oldest ping outbox entry or ping job not finished (available, retryable, running, scheduled or pending), whichever waited longer; 0 when none waits.",
	nil, nil,
)

var outboxDepthDesc = prometheus.NewDesc(
	"ssogate_gateway_ping_outbox_depth",
	"Users whose change waits in the ping outbox (the fast path: pinged right after the commit, or claimed by a sweeper once its lease ends), counted at scrape time.",
	nil, nil,
)

// unfinishedStates are the states of a job that will still run.
var unfinishedStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}

// queueDepth counts ping jobs per state, and the oldest unfinished one's
// age, when scraped.
type queueDepth struct {
	jobs   store.JobClient
	outbox store.PingOutboxQueries
	now    func() time.Time
}

func (q *queueDepth) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- queueOldestDesc
	ch <- outboxDepthDesc
}

func (q *queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := q.jobs.JobCountByState(ctx, pingKind)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, fmt.Errorf("pingpull: count ping jobs: %w", err))
		return
	}
	for _, state := range rivertype.JobStates() {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(counts[state]), string(state))
	}
	// The lowest id is the first inserted: River's ids grow.
	oldest, err := q.jobs.JobList(ctx, river.NewJobListParams().Kinds(pingKind).States(unfinishedStates...).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueOldestDesc, fmt.Errorf("pingpull: oldest ping job: %w", err))
		return
	}
	age := 0.0
	if len(oldest.Jobs) > 0 {
		age = max(q.now().Sub(oldest.Jobs[0].CreatedAt).Seconds(), 0)
	}
	depth, err := q.outbox.PingOutboxCount(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDepthDesc, fmt.Errorf("pingpull: count ping outbox: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(depth))
	if depth > 0 {
		queued, err := q.outbox.PingOutboxOldest(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(queueOldestDesc, fmt.Errorf("pingpull: oldest ping outbox entry: %w", err))
			return
		}
		if !queued.IsZero() {
			age = max(age, q.now().Sub(queued).Seconds())
		}
	}
	ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, age)
}
