package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// metrics are the hub's Prometheus collectors.
type metrics struct {
	pings        *prometheus.CounterVec
	pulls        *prometheus.CounterVec
	pullDuration *prometheus.HistogramVec
	auth         *prometheus.CounterVec
	logouts      *prometheus.CounterVec
	// propagation is the time from a ping received to the remote profile
	// updated by the pull that answered it.
	propagation prometheus.Histogram
	// pingTxBatch is the size of each committed group of pings.
	pingTxBatch prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, s Store, now func() time.Time) (*metrics, error) {
	m := &metrics{
		pings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_hub_pings_total",
			Help: "Pings received, by result (ok, forbidden, bad_request, no_pull_url, error), and deferred: a pull the fast path had no room for, left to a sweeper.",
		}, []string{"result"}),
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_hub_pulls_total",
			Help: "Pull attempts, by result (ok, unchanged, missing, refused, timeout, connection, retry_status, …).",
		}, []string{"result"}),
		pullDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ssogate_hub_pull_duration_seconds",
			Help:    "Duration of pull HTTP calls, by result.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"result"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_hub_auth_requests_total",
			Help: "Auth API calls, by result (ok or the error code).",
		}, []string{"result"}),
		logouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_hub_logouts_total",
			Help: "Gateway logouts received (app sessions ended), by result (ok, forbidden, bad_request, error).",
		}, []string{"result"}),
		propagation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ssogate_hub_ping_to_update_seconds",
			Help:    "Time from a ping received to the remote profile updated by the pull answering it.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 600, 3600},
		}),
		pingTxBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ssogate_hub_ping_tx_batch_size",
			Help:    "Pings committed together in one transaction (group commit: the pings that arrived while the previous transaction ran).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
	}
	for _, c := range []prometheus.Collector{m.pings, m.pulls, m.pullDuration, m.auth, m.logouts, m.propagation, m.pingTxBatch, newQueueCollector(s, now)} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("hub: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observePull(result string, d time.Duration) {
	m.pulls.WithLabelValues(result).Inc()
	m.pullDuration.WithLabelValues(result).Observe(d.Seconds())
}

// queueCollector reads the pull jobs' counts per state from River and the
// pending remote profiles (the fast path's outbox, pull_drain.go) from the
// store at each scrape: queue depth (unfinished states), dead letters
// (cancelled and discarded), pending pulls, and the age of the oldest
// unanswered ping, in a job or in the outbox.
type queueCollector struct {
	store   Store
	now     func() time.Time
	depth   *prometheus.Desc
	dead    *prometheus.Desc
	pending *prometheus.Desc
	oldest  *prometheus.Desc
}

func newQueueCollector(s Store, now func() time.Time) *queueCollector {
	return &queueCollector{
		store: s,
		now:   now,
		depth: prometheus.NewDesc("ssogate_hub_pull_queue_depth", "Pull jobs not finished, by state.", []string{"state"}, nil),
		dead:  prometheus.NewDesc("ssogate_hub_pull_dead_letters", "Pull jobs cancelled or discarded (dead letters), by state.", []string{"state"}, nil),
		pending: prometheus.NewDesc("ssogate_hub_pull_pending",
			"Remote profiles with a ping no pull has answered yet (the pull outbox): held by the fast path or a job, or left by a dead letter until the next ping.", nil, nil),
		oldest: prometheus.NewDesc("ssogate_hub_pull_queue_oldest_seconds",
			"How long the oldest ping has waited for its pull: the older of the oldest unfinished pull job and the oldest pending remote profile; 0 when none waits.", nil, nil),
	}
}

// unfinishedStates are the states of a pull job that will still run.
var unfinishedStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.dead
	ch <- c.pending
	ch <- c.oldest
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.Jobs().JobCountByState(ctx, PullArgs{}.Kind())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	for _, s := range unfinishedStates {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
	for _, s := range []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateDiscarded} {
		ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
	pending, err := c.store.RemoteProfilePendingCount(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(pending))
	}
	// The lowest id is the first inserted: River's ids grow.
	oldest, err := c.store.Jobs().JobList(ctx, river.NewJobListParams().Kinds(PullArgs{}.Kind()).States(unfinishedStates...).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.oldest, err)
		return
	}
	// A pending row's PingReceivedAt is its oldest unanswered ping, on the
	// hub's clock. Rows parked (parkedLease) are left out: a job holds
	// their pull (and counts above) or a dead letter ended it, as no
	// unfinished job counted before the fast path.
	since, err := c.store.RemoteProfileOldestPending(ctx, parkedLease)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.oldest, err)
		return
	}
	if len(oldest.Jobs) > 0 && (since.IsZero() || oldest.Jobs[0].CreatedAt.Before(since)) {
		since = oldest.Jobs[0].CreatedAt
	}
	age := 0.0
	if !since.IsZero() {
		age = max(c.now().Sub(since).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}
