package pingpull

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/tokens"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	codec, err := tokens.New(tokens.Config{Network: "labs.fyre.co", Key: testKey})
	require.NoError(t, err)
	c := Config{Tokens: codec, PublicURL: "https://gw.example.com/"}.WithDefaults()
	require.Equal(t, "https://labs.quill.fyre.co", c.HubURL)
	require.Equal(t, "https://gw.example.com", c.PublicURL)
	require.Equal(t, 5*time.Minute, c.WebhookTolerance)
	require.Equal(t, 24*time.Hour, c.WebhookReceiptTTL)
	require.Equal(t, int64(64<<10), c.WebhookMaxBody)
	require.Equal(t, 100.0, c.WebhookRate)
	require.Equal(t, 200, c.WebhookBurst)
	require.Equal(t, 11, c.PingMaxAttempts)
	require.Equal(t, livefyre.StandardWebhooksSchedule, c.PingRetrySchedule)
	require.NotNil(t, c.HTTPClient)
	require.NotNil(t, c.Logger)
	require.NotNil(t, c.Registerer)
	require.NotNil(t, c.Now)

	c.PingRetrySchedule[0] = time.Hour
	require.Zero(t, livefyre.StandardWebhooksSchedule[0], "defaults are copied, not shared")
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := New(Config{
		PublicURL:          "gateway.example.com",
		HubURL:             "ftp://hub",
		WebhookSecrets:     []string{testSecret(0), "whsec_sup3rs3cr3t!", "whsec_c2hvcnQ="},
		ProfileSourceURL:   "https://source.example.com/users",
		PingMaxAttempts:    -1,
		PingRetrySchedule:  []time.Duration{-time.Second},
		AdminToken:         "short",
		RegisterBackoffMin: time.Minute,
		RegisterBackoffMax: time.Second,
	})
	require.Error(t, err)
	msg := err.Error()
	require.True(t, strings.HasPrefix(msg, "pingpull: invalid config: "))
	for _, want := range []string{
		"Store is required",
		"Tokens is required",
		`PublicURL "gateway.example.com" must be an absolute http(s) URL`,
		`HubURL "ftp://hub" must be an absolute http(s) URL`,
		"WebhookSecrets[1]",
		"WebhookSecrets[2]: key is 5 bytes",
		"ProfileSourceURL must contain {id}",
		"PingMaxAttempts must be at least 1",
		"PingRetrySchedule[0] must not be negative",
		"AdminToken must be at least 16 characters",
		"RegisterBackoffMax must be at least RegisterBackoffMin",
	} {
		require.Contains(t, msg, want)
	}
	require.NotContains(t, msg, "sup3rs3cr3t", "secrets are never echoed")
	require.NotContains(t, msg, "WebhookSecrets[0]")
}

func TestConfigRiverUINeedsAdminToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := b.cfg
	cfg.Registerer = prometheus.NewRegistry()
	cfg.AdminToken = ""
	cfg.RiverUI = http.NotFoundHandler()
	_, err := New(cfg)
	require.ErrorContains(t, err, "RiverUI needs AdminToken")
}

func TestMetricsRegistered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	_, err := b.h.EnqueuePings(context.Background(), []string{"u2", "u3"})
	require.NoError(t, err)
	families, err := b.reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	var available float64
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetName() == "ssogate_gateway_ping_outbox_depth" {
			available = f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	for _, want := range []string{
		"ssogate_gateway_webhooks_total",
		"ssogate_gateway_ping_queue_depth",
		"ssogate_gateway_ping_outbox_depth",
		"ssogate_gateway_ping_duration_seconds",
	} {
		require.True(t, names[want], want)
	}
	require.Equal(t, 3.0, available)

	// A second Handler on the same registry is a wiring bug, reported.
	_, err = New(b.cfg)
	require.ErrorContains(t, err, "pingpull: register metrics")
}
