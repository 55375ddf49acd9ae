package pingpull

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/tokens"
)

// Defaults.
const (
	DefaultWebhookTolerance     = 5 * time.Minute
	DefaultWebhookReceiptTTL    = 24 * time.Hour
	DefaultWebhookMaxBody       = 64 << 10
	DefaultWebhookRate          = 100
	DefaultWebhookFailureRate   = 1
	DefaultWebhookFailureBurst  = 10
	DefaultProfileSourceTimeout = 10 * time.Second
	DefaultPingTimeout          = 10 * time.Second
	DefaultPingMaxAttempts      = 11
	DefaultPingLease            = 3 * time.Second
	DefaultPingWorkers          = 64
	DefaultSystemTokenTTL       = time.Hour
	DefaultRegisterBackoffMax   = 5 * time.Minute
	// PingQueue is the River queue of ping jobs.
	PingQueue = "ping"
)

// Config configures the gateway side of Ping for Pull. Call WithDefaults
// (New does) to fill the defaults.
type Config struct {
	// Store holds profiles, receipts, the timeline and the jobs. Required.
	Store Store
	// Tokens mints the system tokens sent to the hub and verifies the ones
	// the hub pulls with. Required.
	Tokens *tokens.Codec

	// PublicURL is the gateway's external base URL, what the hub pulls from
	// (--public-url, SSOGATE_PUBLIC_URL). The registered pull URL template is
	// PublicURL + "/pull?id={id}". Required, absolute http(s).
	PublicURL string
	// HubURL is where pings and the registration go (--hub-url,
	// SSOGATE_HUB_URL). Default: Livefyre's https://{short}.quill.fyre.co,
	// with {short} the first label of the token network.
	HubURL string

	// WebhookSecrets are the Standard Webhooks signing secrets ("whsec_" +
	// base64), several during rotation (SSOGATE_WEBHOOK_SECRETS). A request
	// signed with any of them is accepted. Empty: the webhook endpoint is not
	// mounted.
	WebhookSecrets []string
	// WebhookTolerance is how far webhook-timestamp may be from now.
	// Default 5 minutes.
	WebhookTolerance time.Duration
	// WebhookReceiptTTL is how long a webhook-id is remembered so that a
	// replay gets the first answer. Default 24 hours.
	WebhookReceiptTTL time.Duration
	// WebhookMaxBody is the largest accepted body in bytes. Default 64 KiB.
	WebhookMaxBody int64
	// WebhookRate is the sustained rate of authenticated (correctly signed)
	// webhooks accepted, per second, with a token bucket of WebhookBurst;
	// beyond it the answer is 429 with Retry-After. Requests that fail
	// before the signature is verified never spend it. Default 100;
	// negative disables the limit.
	WebhookRate float64
	// WebhookBurst is the token bucket size. Default 2×WebhookRate (at
	// least 1).
	WebhookBurst int
	// WebhookFailureRate is the sustained rate, per second and per client
	// (IPv4 address or IPv6 /64 of the connection), of webhooks refused
	// before authentication (wrong content type, too large, unsigned, bad
	// signature) answered with their 4xx; beyond it, with a bucket of
	// WebhookFailureBurst, such a client gets 429 with Retry-After. It
	// never affects correctly signed deliveries. Default 1; negative
	// disables the limit.
	WebhookFailureRate float64
	// WebhookFailureBurst is the per-client failure bucket size. Default
	// 10.
	WebhookFailureBurst int

	// ProfileSourceURL is a URL template with a literal {id}
	// (--profile-source-url, SSOGATE_PROFILE_SOURCE_URL). When a webhook
	// carries no profile, the gateway GETs it here. Empty: such webhooks are
	// refused with 400.
	ProfileSourceURL string
	// ProfileSourceToken is sent as a bearer token to ProfileSourceURL.
	// Optional.
	ProfileSourceToken string
	// ProfileSourceTimeout bounds a profile source request. Default 10s.
	ProfileSourceTimeout time.Duration

	// PingTimeout bounds one ping request. Default 10s.
	PingTimeout time.Duration
	// PingLease is how long a change's outbox entry belongs to the process
	// that accepted it before any gateway's sweeper may claim it: the time a
	// change held by a killed process waits. Default 3s.
	PingLease time.Duration
	// PingWorkers is how many fast-path pings run at once. Default 64.
	PingWorkers int
	// PingMaxAttempts is the number of ping attempts before the job becomes
	// a dead letter. Default 11 (the first try plus the 10 retries of the
	// Standard Webhooks schedule).
	PingMaxAttempts int
	// PingRetrySchedule is the delay before each retry; attempts past its end
	// reuse the last entry. Jitter of up to a tenth (at least up to 1s) is
	// added. Default livefyre.StandardWebhooksSchedule. Tests shorten it.
	PingRetrySchedule []time.Duration
	// SystemTokenTTL is the lifetime of the system tokens minted for pings
	// and the registration. Default 1 hour.
	SystemTokenTTL time.Duration
	// RegisterBackoffMin is the first delay between registration attempts
	// in Register; it doubles after each failure. Default 1s.
	RegisterBackoffMin time.Duration
	// RegisterBackoffMax caps the delay between registration attempts in
	// Register. Default 5 minutes.
	RegisterBackoffMax time.Duration

	// AdminToken guards /admin/api/… and /admin/jobs (Authorization: Bearer,
	// or the password of Basic authentication for browsers). At least 16
	// characters. Empty: the admin routes are not mounted.
	AdminToken string
	// RiverUI is the River UI handler mounted at /admin/jobs, built by cmd
	// with the prefix /admin/jobs. Optional.
	RiverUI http.Handler

	// HTTPClient makes pings, the registration and profile source requests.
	// Redirects are never followed. Default: a client with a 30s overall
	// timeout (per-request timeouts above still apply).
	HTTPClient *http.Client
	// Logger receives the package's logs. Default: discarded.
	Logger *slog.Logger
	// Registerer receives the package's metrics. Default: a private
	// registry (metrics not exported).
	Registerer prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultHubURL is the hub of network when none is configured: Livefyre's
// https://{short}.quill.fyre.co, short being the network's first label
// ("labs" for labs.fyre.co); "" for an empty name.
func DefaultHubURL(network string) string {
	short, _, _ := strings.Cut(network, ".")
	if short == "" {
		return ""
	}
	return "https://" + short + ".quill.fyre.co"
}

// WithDefaults returns a copy of c with every unset field set to its
// default.
func (c Config) WithDefaults() Config {
	if c.HubURL == "" && c.Tokens != nil {
		c.HubURL = DefaultHubURL(c.Tokens.Network())
	}
	c.HubURL = strings.TrimRight(c.HubURL, "/")
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.WebhookTolerance == 0 {
		c.WebhookTolerance = DefaultWebhookTolerance
	}
	if c.WebhookReceiptTTL == 0 {
		c.WebhookReceiptTTL = DefaultWebhookReceiptTTL
	}
	if c.WebhookMaxBody == 0 {
		c.WebhookMaxBody = DefaultWebhookMaxBody
	}
	if c.WebhookRate == 0 {
		c.WebhookRate = DefaultWebhookRate
	}
	if c.WebhookBurst == 0 {
		c.WebhookBurst = max(1, int(2*c.WebhookRate))
	}
	if c.WebhookFailureRate == 0 {
		c.WebhookFailureRate = DefaultWebhookFailureRate
	}
	if c.WebhookFailureBurst == 0 {
		c.WebhookFailureBurst = DefaultWebhookFailureBurst
	}
	if c.ProfileSourceTimeout == 0 {
		c.ProfileSourceTimeout = DefaultProfileSourceTimeout
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.PingLease == 0 {
		c.PingLease = DefaultPingLease
	}
	if c.PingWorkers == 0 {
		c.PingWorkers = DefaultPingWorkers
	}
	if c.PingMaxAttempts == 0 {
		c.PingMaxAttempts = DefaultPingMaxAttempts
	}
	if c.PingRetrySchedule == nil {
		c.PingRetrySchedule = slices.Clone(livefyre.StandardWebhooksSchedule)
	}
	if c.SystemTokenTTL == 0 {
		c.SystemTokenTTL = DefaultSystemTokenTTL
	}
	if c.RegisterBackoffMin == 0 {
		c.RegisterBackoffMin = time.Second
	}
	if c.RegisterBackoffMax == 0 {
		c.RegisterBackoffMax = DefaultRegisterBackoffMax
	}
	if c.HTTPClient == nil {
		// Many pings go to one hub at once (the drain's workers): keep their
		// connections instead of closing all but two after each ping.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(c.PingWorkers, DefaultPingWorkers)
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// validate reports every problem at once.
func (c Config) validate() error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}
	if c.Store == nil {
		add("Store is required")
	}
	if c.Tokens == nil {
		add("Tokens is required")
	}
	if c.PublicURL == "" {
		add("PublicURL is required (the base URL the hub pulls from)")
	} else if !absoluteHTTPURL(c.PublicURL) {
		add("PublicURL %q must be an absolute http(s) URL", c.PublicURL)
	} else if u, _ := url.Parse(c.PublicURL); u.RawQuery != "" || u.Fragment != "" {
		add("PublicURL %q must not have a query or fragment", c.PublicURL)
	}
	if c.HubURL == "" {
		add("HubURL is required when the token network gives none")
	} else if !absoluteHTTPURL(c.HubURL) {
		add("HubURL %q must be an absolute http(s) URL", c.HubURL)
	}
	for i, secret := range c.WebhookSecrets {
		if _, err := parseWebhookSecret(secret); err != nil {
			// Never print the secret itself.
			add("WebhookSecrets[%d]: %v", i, err)
		}
	}
	if c.WebhookTolerance < 0 {
		add("WebhookTolerance must not be negative")
	}
	if c.WebhookReceiptTTL < c.WebhookTolerance {
		add("WebhookReceiptTTL (%s) must be at least WebhookTolerance (%s)", c.WebhookReceiptTTL, c.WebhookTolerance)
	}
	if c.WebhookMaxBody < 0 {
		add("WebhookMaxBody must not be negative")
	}
	if c.WebhookBurst < 0 {
		add("WebhookBurst must not be negative")
	}
	if c.WebhookFailureBurst < 0 {
		add("WebhookFailureBurst must not be negative")
	}
	if c.ProfileSourceURL != "" {
		if !strings.Contains(c.ProfileSourceURL, "{id}") {
			add("ProfileSourceURL must contain {id}")
		} else if !absoluteHTTPURL(strings.ReplaceAll(c.ProfileSourceURL, "{id}", "x")) {
			add("ProfileSourceURL must be an absolute http(s) URL")
		}
	}
	if c.ProfileSourceTimeout < 0 {
		add("ProfileSourceTimeout must not be negative")
	}
	if c.PingTimeout < 0 {
		add("PingTimeout must not be negative")
	}
	if c.PingLease < 0 {
		add("PingLease must not be negative")
	}
	if c.PingWorkers < 0 {
		add("PingWorkers must not be negative")
	}
	if c.PingMaxAttempts < 1 {
		add("PingMaxAttempts must be at least 1")
	}
	if len(c.PingRetrySchedule) == 0 {
		add("PingRetrySchedule must not be empty")
	}
	for i, d := range c.PingRetrySchedule {
		if d < 0 {
			add("PingRetrySchedule[%d] must not be negative", i)
		}
	}
	if c.SystemTokenTTL <= 0 {
		add("SystemTokenTTL must be positive")
	}
	if c.RegisterBackoffMin <= 0 {
		add("RegisterBackoffMin must be positive")
	}
	if c.RegisterBackoffMax < c.RegisterBackoffMin {
		add("RegisterBackoffMax must be at least RegisterBackoffMin")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		add("AdminToken must be at least 16 characters")
	}
	if c.RiverUI != nil && c.AdminToken == "" {
		add("RiverUI needs AdminToken (it is never served without authentication)")
	}
	if len(problems) > 0 {
		return fmt.Errorf("pingpull: invalid config: %w", errors.Join(problems...))
	}
	return nil
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}
