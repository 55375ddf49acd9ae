package hub

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultPullTimeout  = 10 * time.Second
	DefaultPullLease    = 3 * time.Second
	DefaultPullWorkers  = 64
	DefaultMaxPullBytes = 256 << 10
	// DefaultTokenTTL is the longest lifetime of the app-session token the
	// auth API issues: 30 days, like Livefyre's.
	DefaultTokenTTL = 30 * 24 * time.Hour
	// DefaultUpdateStreamsPerClient is how many update streams one client
	// address may hold open at once.
	DefaultUpdateStreamsPerClient = 8
)

// NetworkConfig is one Livefyre network the hub serves.
type NetworkConfig struct {
	// Name is the network name, the tokens' domain claim (e.g.
	// "labs.fyre.co"). Required, unique.
	Name string
	// Key is the network key, used as the raw string bytes. Required.
	Key string
	// PreviousKeys still verify tokens during a key rotation. Optional.
	PreviousKeys []string
	// JavaKeyTruncation also accepts tokens signed with the first 32 bytes
	// of a longer key, as Livefyre's Java library signs them. Default false.
	JavaKeyTruncation bool
	// AllowPrivateTargets lets pulls for this network reach loopback,
	// private, link-local and metadata addresses. Insecure outside tests and
	// the demo: a registered pull URL could otherwise probe the hub's own
	// network. Default false.
	AllowPrivateTargets bool
	// Sites are the network's Livefyre sites: their keys sign the
	// collectionMeta tokens of the collection API. Default none (the
	// collection API then refuses every request for the network).
	Sites []SiteConfig
}

// SiteConfig is one Livefyre site of a network.
type SiteConfig struct {
	// ID is the site id (Livefyre's are numbers, e.g. "303613"). Required,
	// unique within the network.
	ID string
	// Key is the site key, used as the raw string bytes, as Livefyre's
	// libraries sign with it. Required.
	Key string
	// Moderators are the user ids (without @network) who moderate every
	// collection of the site. Default none.
	Moderators []string
}

// Config configures the hub. Every field says its default; New applies
// WithDefaults and then validates.
type Config struct {
	// Networks are the networks the hub serves. At least one is required.
	Networks []NetworkConfig
	// AllowPrivateTargets allows private pull targets for every network (see
	// NetworkConfig.AllowPrivateTargets). Default false.
	AllowPrivateTargets bool
	// AppOrigins are the browser origins ("https://app.example.com") allowed
	// to call the auth API and the comment API with CORS. "*" allows any
	// origin. Default none (JSONP still works from anywhere).
	AppOrigins []string
	// Store holds pull URLs, remote profiles, comments and the pull jobs.
	// Required.
	Store Store
	// Logger receives the hub's logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives the hub's metrics. Default: a new private registry
	// (metrics are then collected but not exported).
	Registerer prometheus.Registerer
	// Now defaults to time.Now.
	Now func() time.Time
	// HTTPClient makes the pulls. Default: a client whose dialer refuses
	// private targets. When set and its Transport is an *http.Transport (or
	// nil), the transport is cloned and its dialer and proxy replaced by the
	// guarded ones; any other RoundTripper is used as given and must do its
	// own target checks.
	HTTPClient *http.Client
	// PullTimeout bounds one pull request, body included. Default 10s.
	PullTimeout time.Duration
	// PullLease is how long a ping's pull belongs to the hub process that
	// took the ping before any hub's sweeper may claim it: the time a pull
	// held by a killed process waits. Default 3s.
	PullLease time.Duration
	// PullWorkers is how many fast-path pulls run at once. Default 64.
	PullWorkers int
	// MaxPullBytes bounds a pull response body. Default 256 KiB.
	MaxPullBytes int64
	// PullFollowCrossHostRedirects lets a pull follow a redirect to a host
	// name other than the registered pull URL's. Default false: such a
	// redirect fails the pull for good (a dead letter), because the
	// redirected request would carry the pull's system token to a host the
	// network never registered whenever the Location keeps the query.
	PullFollowCrossHostRedirects bool
	// TokenTTL is the longest lifetime of the app-session token the auth API
	// issues; it is cut to the presented userAuthToken's expiry, so no
	// session outlives what granted it. Default 30 days (Livefyre's).
	TokenTTL time.Duration
	// AdminToken opens the users page and the users JSON API (every remote
	// profile, emails included in the JSON) to requests that carry it as a
	// bearer token or Basic password, through httpbase.Admin (no cross-site
	// requests, no framing). At least 16 characters. Default empty: those
	// routes are not mounted and answer 404.
	AdminToken string
	// DemoApp serves the demo app: GET /comments.js, the comment API
	// (/api/comments) and the update stream
	// (/api/networks/{network}/updates). They are not part of Livefyre's
	// protocol and let anyone read names and post as a signed-in user, so
	// only `ssogate demo` (and the load harness, which reads the update
	// stream) turns them on. Default false: not mounted, 404.
	DemoApp bool
	// UpdateStreamsPerClient caps the update streams one client address
	// holds open at once; more are answered 429. Default 8 (a few tabs of
	// the demo); negative means no cap.
	UpdateStreamsPerClient int
	// DefaultAvatarURL is the avatar the auth API gives a user whose profile
	// has no image (an absolute http(s) URL). Default: the hub's built-in
	// {hub}/avatar/default.svg, the hub's URL taken from the request.
	DefaultAvatarURL string
}

// WithDefaults returns a copy of c with every unset field defaulted.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PullLease == 0 {
		c.PullLease = DefaultPullLease
	}
	if c.PullWorkers == 0 {
		c.PullWorkers = DefaultPullWorkers
	}
	if c.PullTimeout == 0 {
		c.PullTimeout = DefaultPullTimeout
	}
	if c.MaxPullBytes == 0 {
		c.MaxPullBytes = DefaultMaxPullBytes
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.UpdateStreamsPerClient == 0 {
		c.UpdateStreamsPerClient = DefaultUpdateStreamsPerClient
	}
	return c
}

// validate reports every problem of c at once.
func (c Config) validate() error {
	var errs []error
	if len(c.Networks) == 0 {
		errs = append(errs, errors.New("at least one network is required"))
	}
	seen := map[string]bool{}
	for i, n := range c.Networks {
		switch {
		case n.Name == "":
			errs = append(errs, fmt.Errorf("networks[%d]: name is required", i))
		case !validNetworkName(n.Name):
			errs = append(errs, fmt.Errorf("networks[%d]: name %q is not a lowercase host name", i, n.Name))
		case seen[n.Name]:
			errs = append(errs, fmt.Errorf("networks[%d]: name %q is listed twice", i, n.Name))
		}
		seen[n.Name] = true
		if n.Key == "" {
			errs = append(errs, fmt.Errorf("networks[%d] (%s): key is required", i, n.Name))
		}
		for j, k := range n.PreviousKeys {
			if k == "" {
				errs = append(errs, fmt.Errorf("networks[%d] (%s): previous_keys[%d] is empty", i, n.Name, j))
			}
		}
		errs = append(errs, validateSites(i, n)...)
	}
	for i, o := range c.AppOrigins {
		if o == "*" {
			continue
		}
		if !validOrigin(o) {
			errs = append(errs, fmt.Errorf("app_origins[%d]: %q is not an origin like https://app.example.com", i, o))
		}
	}
	if c.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if c.PullTimeout < 0 {
		errs = append(errs, fmt.Errorf("pull_timeout %s is negative", c.PullTimeout))
	}
	if c.MaxPullBytes < 0 {
		errs = append(errs, fmt.Errorf("max_pull_bytes %d is negative", c.MaxPullBytes))
	}
	if c.TokenTTL < 0 {
		errs = append(errs, fmt.Errorf("token_ttl %s is negative", c.TokenTTL))
	}
	if c.DefaultAvatarURL != "" && !validHTTPURL(c.DefaultAvatarURL) {
		errs = append(errs, fmt.Errorf("default_avatar_url %q is not an absolute http(s) URL", c.DefaultAvatarURL))
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, errors.New("admin_token must be at least 16 characters"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hub: invalid config: %w", err)
	}
	return nil
}

// validNetworkName accepts lowercase host names such as labs.fyre.co.
func validNetworkName(name string) bool {
	if len(name) > 253 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// validHTTPURL accepts an absolute http or https URL with a host.
func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// validOrigin accepts scheme://host[:port] with nothing after it.
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil && o == u.Scheme+"://"+u.Host
}
