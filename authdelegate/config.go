package authdelegate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// Minter mints Livefyre userAuthTokens. *tokens.Codec implements it.
type Minter interface {
	Mint(userID, displayName string, ttl time.Duration) (string, error)
}

// ClaimMapping names the OpenID claims (from the ID token and the userinfo
// endpoint, userinfo winning) that fill the profile document. An empty field
// takes its default; "-" switches a field off.
type ClaimMapping struct {
	// UserID is the claim that becomes the Livefyre user id (encoded when it
	// breaks the user-id rule, see UserIDFromSubject). Default "sub". It must
	// name the same id the site's backend uses in its profile webhooks.
	UserID string
	// DisplayName lists claims tried in order; the first non-empty string
	// wins. Default ["name", "preferred_username"].
	DisplayName []string
	// Email fills "email". Default "email". Skipped when the provider says
	// email_verified is false.
	Email string
	// ImageURL fills "image_url". Default "picture".
	ImageURL string
	// ProfileURL fills "profile_url". Default "profile".
	ProfileURL string
	// SettingsURL fills "settings_url". Default "-" (off).
	SettingsURL string
	// FirstName fills "name.first". Default "given_name".
	FirstName string
	// LastName fills "name.last". Default "family_name".
	LastName string
}

// Config configures a Handler. Every field says its default; call
// WithDefaults, then New validates and reports every problem at once.
type Config struct {
	// Store holds profiles, sessions and one-time values and carries the live
	// events. Required.
	Store Store
	// Tokens mints userAuthTokens (a *tokens.Codec). Required.
	Tokens Minter

	// IssuerURL is the OpenID provider's issuer; discovery is
	// IssuerURL + "/.well-known/openid-configuration". Required.
	IssuerURL string
	// ClientID is the gateway's client id at the provider. Required.
	ClientID string
	// ClientSecret is empty for a public client (PKCE only).
	ClientSecret string
	// Scopes requested at login. Default openid, profile, email,
	// offline_access. "openid" is added when missing.
	Scopes []string

	// PublicURL is the gateway's external base URL (scheme, host, optional
	// path, no trailing slash); the redirect URI is PublicURL + "/callback".
	// Required. The flow cookie is Secure when it is https.
	PublicURL string
	// AllowedOrigins are the site origins (scheme://host[:port]) that may
	// start logins, receive credentials by postMessage, be redirected to, and
	// call the API with CORS. At least one is required.
	AllowedOrigins []string

	// PostLogoutViaGateway sends the reader back from the provider's
	// end-session page to PublicURL + "/logged-out" (with the site page in
	// state), which redirects to the site page, instead of to the site page
	// directly. For providers that only accept post-logout URIs on a
	// registered redirect URI's origin (Ory Hydra). Register
	// PublicURL + "/logged-out" there. Default false.
	PostLogoutViaGateway bool

	// ClaimMapping maps provider claims onto the profile document.
	ClaimMapping ClaimMapping

	// SessionKey is the 32-byte AES-256-GCM key that encrypts provider
	// refresh tokens and redirect-mode exchange codes at rest. Required.
	SessionKey []byte
	// PreviousSessionKeys still decrypt (key rotation). Each 32 bytes.
	PreviousSessionKeys [][]byte

	// IdleTimeout ends a session not used for this long. Default
	// DefaultIdleTimeout (168h, a week).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after login. Default 720h.
	AbsoluteTimeout time.Duration
	// TokenTTL is the lifetime of the userAuthTokens minted by /token and at
	// login. Default 1h.
	TokenTTL time.Duration
	// ProfileReadyTimeout is how long after a profile change the tabs wait
	// for the hub's pull before they re-login anyway. Default 2s.
	ProfileReadyTimeout time.Duration
	// LoginFlowTTL bounds the time from /login to /callback. Default 10m.
	LoginFlowTTL time.Duration
	// ExchangeCodeTTL bounds the time from the redirect back to the site to
	// POST /session/exchange. Default 2m.
	ExchangeCodeTTL time.Duration
	// RefreshBefore: the provider's refresh token is used when the access
	// token expires within this margin. Default 1m.
	RefreshBefore time.Duration
	// ProviderRecheckInterval bounds how long the gateway keeps minting
	// userAuthTokens for a session without asking the provider (a
	// refresh-token grant, which fails once the user was disabled or
	// consent revoked). Default 0: the provider's access-token lifetime
	// (minus RefreshBefore). Sessions without a refresh token are never
	// re-checked.
	ProviderRecheckInterval time.Duration
	// BackchannelMaxAge refuses logout tokens issued longer ago than this.
	// Default 5m.
	BackchannelMaxAge time.Duration
	// Leeway is the clock skew allowed for iat in logout tokens. Default 30s.
	Leeway time.Duration
	// KeepAliveInterval is the time between comment lines on idle event
	// streams. Default 25s.
	KeepAliveInterval time.Duration
	// StreamRecheckInterval is how often an open stream re-reads its session
	// to notice idle expiry. Default 5m.
	StreamRecheckInterval time.Duration
	// TouchInterval throttles LastSeenAt writes per session. Default 1m.
	TouchInterval time.Duration
	// CleanupInterval is how often Run deletes expired one-time values
	// (login flows, exchange codes, logout jtis) and sessions that ended or
	// expired more than EndedSessionRetention ago. Default 1h.
	CleanupInterval time.Duration
	// EndedSessionRetention keeps ended sessions (for support questions)
	// before cleanup deletes them. Default 168h.
	EndedSessionRetention time.Duration

	// CanonicalProfileFunc validates a profile document and returns its
	// canonical JSON (cmd wires pingpull's). Default: a JSON round trip with
	// sorted keys.
	CanonicalProfileFunc func(json.RawMessage) (json.RawMessage, error)
	// ProfileChangedFunc is called inside the transaction that bumped a
	// user's profile version (cmd wires pingpull's ping enqueue). Optional.
	ProfileChangedFunc func(ctx context.Context, tx store.Tx, userID string) error
	// SessionEndedFunc is called inside the transaction that ends sessions,
	// once per user, for every reason but expiry (cmd wires pingpull's hub
	// logout job, so the app sessions the hub issued end too). An error
	// rolls the session end back. Optional.
	SessionEndedFunc func(ctx context.Context, tx store.Tx, userID string) error

	// RevokeMaxAttempts bounds the attempts of one refresh-token revocation
	// (a River job queued when a session ends, when the provider advertises
	// revocation_endpoint). Default 25.
	RevokeMaxAttempts int
	// RevokeRetryDelay is the wait before a revocation's second attempt;
	// the n-th waits n times as long, at most an hour. Default 30s.
	RevokeRetryDelay time.Duration

	// HTTPClient talks to the provider. Default: a client with a 15s timeout.
	HTTPClient *http.Client
	// Logger receives the package's logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives the package's metrics. Default: a private registry.
	Registerer prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Default values of Config.
const (
	DefaultIdleTimeout           = 168 * time.Hour
	DefaultAbsoluteTimeout       = 720 * time.Hour
	DefaultTokenTTL              = time.Hour
	DefaultProfileReadyTimeout   = 2 * time.Second
	DefaultLoginFlowTTL          = 10 * time.Minute
	DefaultExchangeCodeTTL       = 2 * time.Minute
	DefaultRefreshBefore         = time.Minute
	DefaultBackchannelMaxAge     = 5 * time.Minute
	DefaultLeeway                = 30 * time.Second
	DefaultKeepAliveInterval     = 25 * time.Second
	DefaultStreamRecheckInterval = 5 * time.Minute
	DefaultTouchInterval         = time.Minute
	DefaultCleanupInterval       = time.Hour
	DefaultEndedSessionRetention = 168 * time.Hour
	DefaultRevokeMaxAttempts     = 25
	DefaultRevokeRetryDelay      = 30 * time.Second
)

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access"}

// WithDefaults returns a copy of c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if len(c.Scopes) == 0 {
		c.Scopes = append([]string(nil), DefaultScopes...)
	}
	c.ClaimMapping = c.ClaimMapping.withDefaults()
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDur(&c.IdleTimeout, DefaultIdleTimeout)
	setDur(&c.AbsoluteTimeout, DefaultAbsoluteTimeout)
	setDur(&c.TokenTTL, DefaultTokenTTL)
	setDur(&c.ProfileReadyTimeout, DefaultProfileReadyTimeout)
	setDur(&c.LoginFlowTTL, DefaultLoginFlowTTL)
	setDur(&c.ExchangeCodeTTL, DefaultExchangeCodeTTL)
	setDur(&c.RefreshBefore, DefaultRefreshBefore)
	setDur(&c.BackchannelMaxAge, DefaultBackchannelMaxAge)
	setDur(&c.Leeway, DefaultLeeway)
	setDur(&c.KeepAliveInterval, DefaultKeepAliveInterval)
	setDur(&c.StreamRecheckInterval, DefaultStreamRecheckInterval)
	setDur(&c.TouchInterval, DefaultTouchInterval)
	setDur(&c.CleanupInterval, DefaultCleanupInterval)
	setDur(&c.EndedSessionRetention, DefaultEndedSessionRetention)
	setDur(&c.RevokeRetryDelay, DefaultRevokeRetryDelay)
	if c.RevokeMaxAttempts == 0 {
		c.RevokeMaxAttempts = DefaultRevokeMaxAttempts
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.CanonicalProfileFunc == nil {
		c.CanonicalProfileFunc = defaultCanonicalProfile
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
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

// DefaultClaimMapping gives each unset ClaimMapping field its claim.
var DefaultClaimMapping = ClaimMapping{
	UserID:      "sub",
	DisplayName: []string{"name", "preferred_username"},
	Email:       "email",
	ImageURL:    "picture",
	ProfileURL:  "profile",
	SettingsURL: "-",
	FirstName:   "given_name",
	LastName:    "family_name",
}

func (m ClaimMapping) withDefaults() ClaimMapping {
	def := DefaultClaimMapping
	set := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	set(&m.UserID, def.UserID)
	if len(m.DisplayName) == 0 {
		m.DisplayName = append([]string(nil), def.DisplayName...)
	}
	set(&m.Email, def.Email)
	set(&m.ImageURL, def.ImageURL)
	set(&m.ProfileURL, def.ProfileURL)
	set(&m.SettingsURL, def.SettingsURL)
	set(&m.FirstName, def.FirstName)
	set(&m.LastName, def.LastName)
	return m
}

// validate reports every problem of a defaulted Config at once.
func (c Config) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Store == nil {
		add("Store is required")
	}
	if c.Tokens == nil {
		add("Tokens is required")
	}
	if c.IssuerURL == "" {
		add("IssuerURL is required")
	} else if u, err := url.Parse(c.IssuerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("IssuerURL %q is not an absolute http(s) URL", c.IssuerURL)
	}
	if c.ClientID == "" {
		add("ClientID is required")
	}
	if c.PublicURL == "" {
		add("PublicURL is required")
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		add("PublicURL %q is not an absolute http(s) URL without query or fragment", c.PublicURL)
	}
	if len(c.AllowedOrigins) == 0 {
		add("AllowedOrigins needs at least one site origin")
	}
	for _, o := range c.AllowedOrigins {
		if _, err := httpbase.NormalizeOrigin(o); err != nil {
			add("AllowedOrigins: %q is not an origin (scheme://host[:port]): %w", o, err)
		}
	}
	if len(c.SessionKey) != 32 {
		add("SessionKey must be 32 bytes, got %d", len(c.SessionKey))
	}
	for i, k := range c.PreviousSessionKeys {
		if len(k) != 32 {
			add("PreviousSessionKeys[%d] must be 32 bytes, got %d", i, len(k))
		}
	}
	for name, d := range map[string]time.Duration{
		"IdleTimeout": c.IdleTimeout, "AbsoluteTimeout": c.AbsoluteTimeout, "TokenTTL": c.TokenTTL,
		"ProfileReadyTimeout": c.ProfileReadyTimeout, "LoginFlowTTL": c.LoginFlowTTL,
		"ExchangeCodeTTL": c.ExchangeCodeTTL, "RefreshBefore": c.RefreshBefore,
		"ProviderRecheckInterval": c.ProviderRecheckInterval,
		"BackchannelMaxAge":       c.BackchannelMaxAge, "Leeway": c.Leeway,
		"KeepAliveInterval": c.KeepAliveInterval, "StreamRecheckInterval": c.StreamRecheckInterval,
		"TouchInterval": c.TouchInterval, "CleanupInterval": c.CleanupInterval,
		"EndedSessionRetention": c.EndedSessionRetention, "RevokeRetryDelay": c.RevokeRetryDelay,
	} {
		if d < 0 {
			add("%s must not be negative", name)
		}
	}
	if c.RevokeMaxAttempts < 0 {
		add("RevokeMaxAttempts must not be negative")
	}
	if c.IdleTimeout > 0 && c.AbsoluteTimeout > 0 && c.IdleTimeout > c.AbsoluteTimeout {
		add("IdleTimeout (%s) must not exceed AbsoluteTimeout (%s)", c.IdleTimeout, c.AbsoluteTimeout)
	}
	if c.ClaimMapping.UserID == "-" {
		add(`ClaimMapping.UserID cannot be switched off`)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("authdelegate: invalid config: %w", errors.Join(errs...))
}

// defaultCanonicalProfile re-encodes a JSON object with sorted keys.
func defaultCanonicalProfile(raw json.RawMessage) (json.RawMessage, error) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("authdelegate: profile is not a JSON object: %w", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("authdelegate: encode profile: %w", err)
	}
	return out, nil
}
