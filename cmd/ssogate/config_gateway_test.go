package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConfigWebhookFailureLimit: the per-client limit on webhooks refused
// before authentication has defaults, is read from YAML, the environment
// and flags, and refuses a zero rate and a negative burst.
func TestConfigWebhookFailureLimit(t *testing.T) {
	t.Parallel()
	cfg, err := loadTestConfig(t, "", nil)
	require.NoError(t, err)
	require.InDelta(t, 1.0, cfg.Gateway.WebhookFailureRate, 0)
	require.Equal(t, 10, cfg.Gateway.WebhookFailureBurst)

	cfg, err = loadTestConfig(t, "gateway: {webhook_failure_rate: 0.5, webhook_failure_burst: 4}", nil)
	require.NoError(t, err)
	require.InDelta(t, 0.5, cfg.Gateway.WebhookFailureRate, 0)
	require.Equal(t, 4, cfg.Gateway.WebhookFailureBurst)

	cfg, err = loadTestConfig(t, "", map[string]string{"SSOGATE_WEBHOOK_FAILURE_RATE": "-1", "SSOGATE_WEBHOOK_FAILURE_BURST": "3"}, "--webhook-failure-burst", "7")
	require.NoError(t, err)
	require.InDelta(t, -1.0, cfg.Gateway.WebhookFailureRate, 0)
	require.Equal(t, 7, cfg.Gateway.WebhookFailureBurst)

	_, err = loadTestConfig(t, "gateway: {webhook_failure_rate: 0, webhook_failure_burst: -1}", nil)
	require.Subset(t, problemsOf(t, err), []string{
		"gateway.webhook_failure_rate: must not be 0 (negative turns the limit off)",
		"gateway.webhook_failure_burst: must not be negative",
	})
}
