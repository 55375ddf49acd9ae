package authdelegate

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the package's Prometheus collectors.
type metrics struct {
	logins          *prometheus.CounterVec // result
	liveStreams     prometheus.Gauge
	liveSessions    prometheus.Gauge
	liveSubscribed  prometheus.Gauge
	eventsSent      *prometheus.CounterVec // event
	tokensMinted    prometheus.Counter
	providerRefresh *prometheus.CounterVec // result
	backchannel     *prometheus.CounterVec // result
	sessionsEnded   *prometheus.CounterVec // reason
	revocations     *prometheus.CounterVec // result
}

// Login results, the values of the "result" label of logins_total.
const (
	loginSuccess        = "success"
	loginDenied         = "denied"
	loginBadState       = "bad_state"
	loginBadOrigin      = "bad_origin"
	loginBadRequest     = "bad_request"
	loginProviderError  = "provider_error"
	loginInvalidToken   = "invalid_token"
	loginInternalError  = "internal_error"
	loginExchangeFailed = "exchange_failed"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_authdelegate_logins_total",
			Help: "Login callbacks by result.",
		}, []string{"result"}),
		liveStreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ssogate_authdelegate_live_streams",
			Help: "Open /events streams on this replica.",
		}),
		liveSessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ssogate_authdelegate_live_sessions",
			Help: "Sessions with at least one open /events stream on this replica.",
		}),
		liveSubscribed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ssogate_authdelegate_live_subscribed",
			Help: "1 while this replica is subscribed to the store's live events: while it has open /events streams, and for a minute after the last one closed.",
		}),
		eventsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_authdelegate_events_sent_total",
			Help: "Server-sent events written to streams, by event.",
		}, []string{"event"}),
		tokensMinted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ssogate_authdelegate_tokens_minted_total",
			Help: "userAuthTokens minted for sessions.",
		}),
		providerRefresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_authdelegate_provider_refresh_total",
			Help: "Provider refresh-token grants by result.",
		}, []string{"result"}),
		backchannel: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_authdelegate_backchannel_logouts_total",
			Help: "Back-channel logout requests by result.",
		}, []string{"result"}),
		sessionsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_authdelegate_sessions_ended_total",
			Help: "Sessions ended by this replica, by reason.",
		}, []string{"reason"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssogate_authdelegate_provider_revocations_total",
			Help: "Refresh-token revocation attempts at the provider (RFC 7009), by result.",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.revocations, m.logins, m.liveStreams, m.liveSessions, m.liveSubscribed, m.eventsSent,
		m.tokensMinted, m.providerRefresh, m.backchannel, m.sessionsEnded} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, fmt.Errorf("authdelegate: metrics already registered (one Handler per registry): %w", err)
			}
			return nil, fmt.Errorf("authdelegate: register metrics: %w", err)
		}
	}
	return m, nil
}
