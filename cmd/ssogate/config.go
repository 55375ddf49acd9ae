package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// Config is ssogate's whole configuration: a YAML file (--config or
// SSOGATE_CONFIG), each value overridable by an SSOGATE_… environment
// variable and, except secrets, a flag. Precedence: flag > environment >
// file > default. The struct tags are the whole declaration of a key (see
// config_load.go); adding a key is adding a field.
type Config struct {
	// ConfigFile is the file the configuration was read from ("" when none).
	ConfigFile string `yaml:"-"`

	Listen          string `yaml:"listen" env:"SSOGATE_LISTEN" flag:"listen" default:"127.0.0.1:8080" help:"address the HTTP server listens on (host:port)"`
	DatabaseURL     string `yaml:"database_url" env:"SSOGATE_DATABASE_URL" flag:"database-url" secret:"url-password" help:"sqlite:PATH or postgres://…; default sqlite:<data_dir>/ssogate.db; its password is hidden in dumps"`
	DataDir         string `yaml:"data_dir" env:"SSOGATE_DATA_DIR" flag:"data-dir" default:"./ssogate-data" help:"directory for the SQLite database; created when missing"`
	LogLevel        string `yaml:"log_level" env:"SSOGATE_LOG_LEVEL" flag:"log-level" default:"info" help:"debug, info, warn or error"`
	LogFormat       string `yaml:"log_format" env:"SSOGATE_LOG_FORMAT" flag:"log-format" default:"json" help:"json or text (logs go to stderr)"`
	DebugListen     string `yaml:"debug_listen" env:"SSOGATE_DEBUG_LISTEN" flag:"debug-listen" help:"address of a separate listener serving Go's /debug/pprof profiles; off when empty; keep it on loopback"`
	DebugContention bool   `yaml:"debug_contention" env:"SSOGATE_DEBUG_CONTENTION" flag:"debug-contention" help:"with debug_listen, also record mutex and block profiles (costs some CPU)"`
	AdminToken      string `yaml:"admin_token" env:"SSOGATE_ADMIN_TOKEN" secret:"true" help:"bearer token for the admin API and the River UI (at least 16 characters); admin routes are off without it"`

	Network NetworkConfig `yaml:"network"`
	Gateway GatewayConfig `yaml:"gateway"`
	Hub     HubConfig     `yaml:"hub"`
	Auth    AuthConfig    `yaml:"auth"`
}

// NetworkConfig is the Livefyre network the gateway mints tokens for (and,
// when hub.networks is empty, the one network the hub serves).
type NetworkConfig struct {
	Name              string   `yaml:"name" env:"SSOGATE_NETWORK_NAME" flag:"network-name" help:"network name, the tokens' domain, e.g. labs.fyre.co"`
	Key               string   `yaml:"key" env:"SSOGATE_NETWORK_KEY" secret:"true" help:"network key that signs and verifies tokens"`
	PreviousKeys      []string `yaml:"previous_keys" env:"SSOGATE_NETWORK_PREVIOUS_KEYS" secret:"true" help:"older keys still accepted during a rotation (comma-separated)"`
	JavaKeyTruncation bool     `yaml:"java_key_truncation" env:"SSOGATE_NETWORK_JAVA_KEY_TRUNCATION" flag:"network-java-key-truncation" help:"also accept tokens signed with the key cut to 32 bytes (Livefyre's Java library)"`
}

// Short returns the network's short name, its first label ("labs" for
// "labs.fyre.co").
func (n NetworkConfig) Short() string {
	short, _, _ := strings.Cut(n.Name, ".")
	return short
}

// requirements are what a command needs beyond a well-formed configuration.
type requirements struct {
	// network: a network name and key (token commands).
	network bool
	// gateway: what `ssogate serve` wires (wireGateway): with network.name,
	// gateway.public_url; with auth.issuer_url, auth.allowed_origins.
	gateway bool
	// hub: what `ssogate hub` wires (wireHub): a network to serve.
	hub bool
}

// WithDefaults fills the defaults that derive from other values. Plain
// defaults are in the struct tags.
func (c *Config) WithDefaults() {
	if c.DatabaseURL == "" && c.DataDir != "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "ssogate.db")
	}
	c.Gateway.withDefaults(c.Network)
}

// validate adds every problem to probs.
func (c *Config) validate(need requirements, probs *problems) {
	if err := checkListen(c.Listen); err != nil {
		probs.addf("listen: %v", err)
	}
	if c.DebugListen != "" {
		if err := checkListen(c.DebugListen); err != nil {
			probs.addf("debug_listen: %v", err)
		}
	}
	if _, _, err := parseDatabaseURL(c.DatabaseURL); err != nil {
		probs.addf("database_url: %v", err)
	}
	if c.DataDir == "" {
		probs.addf("data_dir: must not be empty")
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		probs.addf("log_level: %v", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		probs.addf("log_format: %q is not json or text", c.LogFormat)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		probs.addf("admin_token: must be at least 16 characters")
	}
	c.Network.validate("network", need.network, probs)
	c.Gateway.validate(probs)
	c.Hub.validate(probs)
	c.Auth.validate(probs)
	if need.gateway {
		c.validateGateway(probs)
	}
	if need.hub && len(c.HubNetworks()) == 0 {
		probs.addf("the hub needs a network: hub.networks, or network.name and network.key (SSOGATE_NETWORK_NAME, SSOGATE_NETWORK_KEY)")
	}
}

// validateGateway adds the problems only `ssogate serve` has: the fields its
// domains need together, which wireGateway would otherwise find after the
// database is open.
func (c *Config) validateGateway(probs *problems) {
	if c.Network.Name == "" {
		return // serve runs with probes only, and says so
	}
	if c.Gateway.PublicURL == "" {
		probs.addf("gateway.public_url is required with network.name (--public-url, SSOGATE_PUBLIC_URL): the hub pulls profiles from it")
	}
	if c.Auth.IssuerURL != "" && len(c.Auth.AllowedOrigins) == 0 {
		probs.addf("auth.allowed_origins is required with auth.issuer_url: the site origins that embed the delegate")
	}
}

func (n NetworkConfig) validate(path string, required bool, probs *problems) {
	nameHint, keyHint := "", ""
	if path == "network" {
		nameHint = " (SSOGATE_NETWORK_NAME or --network-name)"
		keyHint = " (config file or SSOGATE_NETWORK_KEY; never a flag)"
	}
	switch {
	case n.Name != "":
		if err := checkNetworkName(n.Name); err != nil {
			probs.addf("%s.name: %v", path, err)
		}
	case required:
		probs.addf("%s.name is required%s", path, nameHint)
	case n.Key != "":
		probs.addf("%s.name is required when %s.key is set", path, path)
	}
	if n.Key == "" && (required || n.Name != "") {
		probs.addf("%s.key is required%s", path, keyHint)
	}
	for i, k := range n.PreviousKeys {
		if k == "" {
			probs.addf("%s.previous_keys[%d]: must not be empty", path, i)
		}
	}
}

// Redacted returns a copy of c with every secret replaced by "REDACTED"
// (empty secrets stay empty, so a dump shows which are set). Use it for any
// dump of the configuration.
func (c Config) Redacted() Config {
	v := reflect.ValueOf(&c).Elem()
	redactValue(v)
	return c
}

// redactedConfig is Config without LogValue, so logging Redacted does not
// recurse.
type redactedConfig Config

// LogValue logs the redacted configuration, so a Config handed to slog by
// mistake never leaks a secret.
func (c Config) LogValue() slog.Value {
	return slog.AnyValue(redactedConfig(c.Redacted()))
}

// String formats the redacted configuration.
func (c Config) String() string {
	return fmt.Sprintf("%+v", redactedConfig(c.Redacted()))
}

func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr) // an empty host listens everywhere
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port must be a number from 0 to 65535", addr)
	}
	return nil
}

// parseDatabaseURL returns the backend ("sqlite" or "postgres") and what to
// open: the file path for SQLite, the URL for PostgreSQL.
func parseDatabaseURL(raw string) (backend, target string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(raw, "sqlite:")
		path = strings.TrimPrefix(path, "//") // sqlite:///abs/path
		if path == "" {
			return "", "", fmt.Errorf("sqlite: needs a file path, as in sqlite:./ssogate.db")
		}
		return "sqlite", path, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("not a valid postgres:// URL")
		}
		return "postgres", raw, nil
	case raw == "":
		return "", "", fmt.Errorf("must not be empty")
	default:
		// Not quoted: a mistyped URL may hold a password.
		return "", "", fmt.Errorf("must start with sqlite: or postgres://")
	}
}

func parseLogLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
}

// checkNetworkName accepts lowercase DNS names with at least two labels.
func checkNetworkName(name string) error {
	if len(name) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a DNS name like labs.fyre.co", name)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a DNS name like labs.fyre.co", name)
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return fmt.Errorf("%q: use lowercase letters, digits, hyphens and dots", name)
			}
		}
	}
	return nil
}

// checkHTTPURL accepts absolute http and https URLs with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// checkOrigin accepts a web origin: scheme://host[:port] and nothing else.
func checkOrigin(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin like https://example.com", raw)
	}
	return nil
}
