package main

import (
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"github.com/ssogate/ssogate/pingpull"
)

// GatewayConfig configures the gateway's Ping for Pull side (`ssogate serve`):
// the profile webhook, pings to the hub and the pull endpoint.
type GatewayConfig struct {
	PublicURL            string        `yaml:"public_url" env:"SSOGATE_PUBLIC_URL" flag:"public-url" help:"the gateway's public base URL; the hub pulls {public_url}/pull?id={id}"`
	HubURL               string        `yaml:"hub_url" env:"SSOGATE_HUB_URL" flag:"hub-url" help:"the hub that pings and the registration go to; default https://{short}.quill.fyre.co from network.name"`
	WebhookSecrets       []string      `yaml:"webhook_secrets" env:"SSOGATE_WEBHOOK_SECRETS" secret:"true" help:"Standard Webhooks secrets (whsec_…), comma-separated; several during a rotation"`
	WebhookRate          float64       `yaml:"webhook_rate" env:"SSOGATE_WEBHOOK_RATE" flag:"webhook-rate" default:"@pingpull.DefaultWebhookRate" help:"webhooks accepted per second on average before 429 with Retry-After; negative: no limit"`
	WebhookBurst         int           `yaml:"webhook_burst" env:"SSOGATE_WEBHOOK_BURST" flag:"webhook-burst" help:"webhooks accepted at once above webhook_rate; default 2×webhook_rate"`
	WebhookFailureRate   float64       `yaml:"webhook_failure_rate" env:"SSOGATE_WEBHOOK_FAILURE_RATE" flag:"webhook-failure-rate" default:"@pingpull.DefaultWebhookFailureRate" help:"webhooks refused before their signature is verified (unsigned, bad signature, wrong type, too large) answered per second and client address before 429; signed webhooks never count; negative: no limit"`
	WebhookFailureBurst  int           `yaml:"webhook_failure_burst" env:"SSOGATE_WEBHOOK_FAILURE_BURST" flag:"webhook-failure-burst" default:"@pingpull.DefaultWebhookFailureBurst" help:"such refusals answered at once per client address above webhook_failure_rate"`
	ProfileSourceURL     string        `yaml:"profile_source_url" env:"SSOGATE_PROFILE_SOURCE_URL" flag:"profile-source-url" help:"URL template with {id}, fetched when a webhook carries no profile"`
	ProfileSourceToken   string        `yaml:"profile_source_token" env:"SSOGATE_PROFILE_SOURCE_TOKEN" secret:"true" help:"bearer token sent to profile_source_url"`
	ProfileSourceTimeout time.Duration `yaml:"profile_source_timeout" env:"SSOGATE_PROFILE_SOURCE_TIMEOUT" flag:"profile-source-timeout" default:"@pingpull.DefaultProfileSourceTimeout" help:"time limit of one profile_source_url request"`
}

func (g *GatewayConfig) withDefaults(network NetworkConfig) {
	if g.HubURL == "" {
		g.HubURL = pingpull.DefaultHubURL(network.Name)
	}
}

func (g *GatewayConfig) validate(probs *problems) {
	if g.PublicURL != "" {
		if err := checkHTTPURL(g.PublicURL); err != nil {
			probs.addf("gateway.public_url: %v", err)
		} else if u, _ := url.Parse(g.PublicURL); u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			probs.addf("gateway.public_url: %q must be a base URL without user, query or fragment", g.PublicURL)
		}
	}
	if g.HubURL != "" {
		if err := checkHTTPURL(g.HubURL); err != nil {
			probs.addf("gateway.hub_url: %v", err)
		}
	}
	for i, s := range g.WebhookSecrets {
		if err := checkWebhookSecret(s); err != "" {
			probs.addf("gateway.webhook_secrets[%d]: %s", i, err)
		}
	}
	if g.WebhookRate == 0 {
		probs.addf("gateway.webhook_rate: must not be 0 (negative turns the limit off)")
	}
	if g.WebhookBurst < 0 {
		probs.addf("gateway.webhook_burst: must not be negative")
	}
	if g.WebhookFailureRate == 0 {
		probs.addf("gateway.webhook_failure_rate: must not be 0 (negative turns the limit off)")
	}
	if g.WebhookFailureBurst < 0 {
		probs.addf("gateway.webhook_failure_burst: must not be negative")
	}
	if g.ProfileSourceURL != "" {
		if err := checkHTTPURL(g.ProfileSourceURL); err != nil {
			probs.addf("gateway.profile_source_url: %v", err)
		} else if !strings.Contains(g.ProfileSourceURL, "{id}") {
			probs.addf("gateway.profile_source_url: must contain {id}")
		}
	}
	if g.ProfileSourceToken != "" && g.ProfileSourceURL == "" {
		probs.addf("gateway.profile_source_token is set but gateway.profile_source_url is not")
	}
	if g.ProfileSourceTimeout <= 0 {
		probs.addf("gateway.profile_source_timeout: must be positive")
	}
}

// checkWebhookSecret checks the Standard Webhooks form whsec_<base64>; the
// answer never quotes the secret.
func checkWebhookSecret(s string) string {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return "must start with whsec_"
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "whsec_ must be followed by base64"
	}
	if len(key) < 16 {
		return "key shorter than 16 bytes"
	}
	return ""
}
