package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// mapEnv is a getenv over a map.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// loadTestConfig loads a Config from a YAML text (none when empty), an
// environment and a command line, as a command would.
func loadTestConfig(t *testing.T, yamlText string, environ map[string]string, args ...string) (*Config, error) {
	t.Helper()
	if yamlText != "" {
		path := filepath.Join(t.TempDir(), "ssogate.yaml")
		require.NoError(t, os.WriteFile(path, []byte(yamlText), 0o600))
		args = append([]string{"--config", path}, args...)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := registerConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return loadConfig(flags, mapEnv(environ), requirements{})
}

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	return ce.Problems
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadTestConfig(t, "", nil)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.Listen)
	require.Equal(t, "./ssogate-data", cfg.DataDir)
	require.Equal(t, "sqlite:ssogate-data/ssogate.db", cfg.DatabaseURL)
	require.Equal(t, "info", cfg.LogLevel)
	require.Equal(t, "json", cfg.LogFormat)
	require.Equal(t, []string{"openid", "profile", "email", "offline_access"}, cfg.Auth.Scopes)
	require.Equal(t, 168*time.Hour, cfg.Auth.IdleTimeout)
	require.Equal(t, 10*time.Second, cfg.Gateway.ProfileSourceTimeout)
	require.InDelta(t, 100.0, cfg.Gateway.WebhookRate, 0)
	require.Equal(t, "sub", cfg.Auth.Claims.UserID)
	require.Equal(t, []string{"name", "preferred_username"}, cfg.Auth.Claims.DisplayName)
	require.Empty(t, cfg.Gateway.HubURL, "no network, no default hub")
	require.Empty(t, cfg.ConfigFile)
}

func TestConfigDerivedDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadTestConfig(t, "network: {name: labs.fyre.co, key: k}\ndata_dir: /var/lib/ssogate\n", nil)
	require.NoError(t, err)
	require.Equal(t, "https://labs.quill.fyre.co", cfg.Gateway.HubURL)
	require.Equal(t, "sqlite:/var/lib/ssogate/ssogate.db", cfg.DatabaseURL)

	cfg, err = loadTestConfig(t, "network: {name: labs.fyre.co, key: k}\ngateway: {hub_url: 'http://127.0.0.1:9'}\n", nil)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9", cfg.Gateway.HubURL, "an explicit hub_url wins")
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()

	// Each case sets one key in every layer; the layers present decide.
	keys := []struct {
		name      string
		yamlKey   string // as a YAML document
		env       string
		flag      string
		values    [3]string // file, env, flag
		yamlValue func(v string) string
		get       func(c *Config) any
		want      [4]any // default, file, env, flag
	}{
		{
			name: "string", env: "SSOGATE_LISTEN", flag: "listen",
			values:    [3]string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"},
			yamlValue: func(v string) string { return "listen: " + v },
			get:       func(c *Config) any { return c.Listen },
			want:      [4]any{"127.0.0.1:8080", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"},
		},
		{
			name: "bool", env: "SSOGATE_ALLOW_PRIVATE_TARGETS", flag: "allow-private-targets",
			values:    [3]string{"true", "false", "true"},
			yamlValue: func(v string) string { return "hub: {allow_private_targets: " + v + "}" },
			get:       func(c *Config) any { return c.Hub.AllowPrivateTargets },
			want:      [4]any{false, true, false, true},
		},
		{
			name: "int", env: "SSOGATE_WEBHOOK_BURST", flag: "webhook-burst",
			values:    [3]string{"10", "20", "30"},
			yamlValue: func(v string) string { return "gateway: {webhook_burst: " + v + "}" },
			get:       func(c *Config) any { return c.Gateway.WebhookBurst },
			want:      [4]any{0, 10, 20, 30},
		},
		{
			name: "float", env: "SSOGATE_WEBHOOK_RATE", flag: "webhook-rate",
			values:    [3]string{"0.5", "-1", "1e3"},
			yamlValue: func(v string) string { return "gateway: {webhook_rate: " + v + "}" },
			get:       func(c *Config) any { return c.Gateway.WebhookRate },
			want:      [4]any{100.0, 0.5, -1.0, 1000.0},
		},
		{
			name: "duration", env: "SSOGATE_AUTH_IDLE_TIMEOUT", flag: "auth-idle-timeout",
			values:    [3]string{"1h", "2h", "3h"},
			yamlValue: func(v string) string { return "auth: {idle_timeout: " + v + "}" },
			get:       func(c *Config) any { return c.Auth.IdleTimeout },
			want:      [4]any{168 * time.Hour, time.Hour, 2 * time.Hour, 3 * time.Hour},
		},
		{
			name: "list", env: "SSOGATE_APP_ORIGINS", flag: "app-origins",
			values:    [3]string{"https://a.example", "https://b.example, https://c.example", "https://d.example"},
			yamlValue: func(v string) string { return "hub: {app_origins: [" + v + "]}" },
			get:       func(c *Config) any { return c.Hub.AppOrigins },
			want: [4]any{[]string(nil), []string{"https://a.example"},
				[]string{"https://b.example", "https://c.example"}, []string{"https://d.example"}},
		},
	}
	for _, k := range keys {
		for layers := range 4 { // 0: default only, 1: +file, 2: +env, 3: +flag
			t.Run(fmt.Sprintf("%s/%d layers", k.name, layers), func(t *testing.T) {
				t.Parallel()
				var doc string
				environ := map[string]string{}
				var args []string
				if layers >= 1 {
					doc = k.yamlValue(k.values[0]) + "\n"
				}
				if layers >= 2 {
					environ[k.env] = k.values[1]
				}
				if layers >= 3 {
					args = append(args, "--"+k.flag+"="+k.values[2])
				}
				cfg, err := loadTestConfig(t, doc, environ, args...)
				require.NoError(t, err)
				require.Equal(t, k.want[layers], k.get(cfg))
			})
		}
	}
}

func TestConfigBoolFlagWithoutValue(t *testing.T) {
	t.Parallel()
	cfg, err := loadTestConfig(t, "", map[string]string{"SSOGATE_ALLOW_PRIVATE_TARGETS": "false"}, "--allow-private-targets")
	require.NoError(t, err)
	require.True(t, cfg.Hub.AllowPrivateTargets)
}

func TestConfigFileFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fromEnv := filepath.Join(dir, "env.yaml")
	fromFlag := filepath.Join(dir, "flag.yaml")
	require.NoError(t, os.WriteFile(fromEnv, []byte("listen: 127.0.0.1:1\n"), 0o600))
	require.NoError(t, os.WriteFile(fromFlag, []byte("listen: 127.0.0.1:2\n"), 0o600))

	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	flags := registerConfigFlags(fs)
	require.NoError(t, fs.Parse(nil))
	cfg, err := loadConfig(flags, mapEnv(map[string]string{"SSOGATE_CONFIG": fromEnv}), requirements{})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:1", cfg.Listen)
	require.Equal(t, fromEnv, cfg.ConfigFile)

	require.NoError(t, fs.Parse([]string{"--config", fromFlag}))
	cfg, err = loadConfig(flags, mapEnv(map[string]string{"SSOGATE_CONFIG": fromEnv}), requirements{})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:2", cfg.Listen, "--config wins over SSOGATE_CONFIG")
}

// threeMistakes has an unknown key, a value of the wrong type and a value
// that fails validation.
const threeMistakes = `listen: 127.0.0.1:8080
lisen: 127.0.0.1:9090
gateway:
  webhook_rate: fast
log_level: loud
`

func TestConfigThreeMistakes(t *testing.T) {
	t.Parallel()
	_, err := loadTestConfig(t, threeMistakes, nil)
	probs := problemsOf(t, err)
	require.Len(t, probs, 3, strings.Join(probs, "\n"))
	require.Regexp(t, `ssogate\.yaml:2: unknown key lisen$`, probs[0])
	require.Regexp(t, `ssogate\.yaml:4: gateway\.webhook_rate: not a number$`, probs[1])
	require.Equal(t, `log_level: "loud" is not debug, info, warn or error`, probs[2])
}

func TestConfigEveryProblemAcrossSources(t *testing.T) {
	t.Parallel()
	doc := "network:\n  nmae: x\nauth:\n  idle_timeout: [1h]\n"
	environ := map[string]string{
		"SSOGATE_WEBHOOK_RATE":          "many",
		"SSOGATE_AUTH_ABSOLUTE_TIMEOUT": "forever",
		"SSOGATE_LOG_FORMAT":            "xml",
	}
	_, err := loadTestConfig(t, doc, environ, "--listen=nohost", "--allow-private-targets=maybe")
	probs := problemsOf(t, err)
	want := []string{
		`unknown key network.nmae`,
		`auth.idle_timeout must be a single value`,
		`SSOGATE_WEBHOOK_RATE: not a number`,
		`SSOGATE_AUTH_ABSOLUTE_TIMEOUT: not a duration (like 90s, 5m, 24h)`,
		`--allow-private-targets: not a boolean (true or false)`,
		`listen: "nohost" is not host:port`,
		`log_format: "xml" is not json or text`,
	}
	require.Len(t, probs, len(want), strings.Join(probs, "\n"))
	for i, w := range want {
		require.Contains(t, probs[i], w)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "valid everything", doc: `
listen: ":9000"
database_url: postgres://u@db.example:5432/ssogate?sslmode=disable
admin_token: 0123456789abcdef
network: {name: labs.fyre.co, key: k, previous_keys: [old]}
gateway:
  public_url: https://gw.example
  webhook_secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]
  profile_source_url: https://backend.example/users/{id}
  profile_source_token: t
hub:
  networks: [{name: a.fyre.co, key: k1}, {name: b.fyre.co, key: k2, allow_private_targets: true}]
  app_origins: [https://app.example, "http://localhost:8081"]
auth:
  issuer_url: https://idp.example
  client_id: gw
  session_key: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
  allowed_origins: [https://site.example]
`},
		{name: "bad listen port", doc: "listen: 127.0.0.1:99999", want: []string{"listen: \"127.0.0.1:99999\": port must be a number from 0 to 65535"}},
		{name: "bad database", doc: "database_url: mysql://x", want: []string{"database_url: must start with sqlite: or postgres://"}},
		{name: "empty sqlite path", doc: "database_url: 'sqlite:'", want: []string{"database_url: sqlite: needs a file path"}},
		{name: "short admin token", doc: "admin_token: short", want: []string{"admin_token: must be at least 16 characters"}},
		{name: "network key without name", doc: "network: {key: k}", want: []string{"network.name is required when network.key is set"}},
		{name: "network name without key", doc: "network: {name: labs.fyre.co}", want: []string{"network.key is required"}},
		{name: "network name", doc: "network: {name: Labs, key: k}", want: []string{`network.name: "Labs" is not a DNS name`}},
		{name: "network name case", doc: "network: {name: Labs.fyre.co, key: k}", want: []string{"network.name: \"Labs.fyre.co\": use lowercase"}},
		{name: "gateway urls", doc: "gateway: {public_url: 'ftp://x', hub_url: '/relative', profile_source_url: 'https://b.example/u'}", want: []string{
			`gateway.public_url: "ftp://x" is not an absolute http(s) URL`,
			`gateway.hub_url: "/relative" is not an absolute http(s) URL`,
			`gateway.profile_source_url: must contain {id}`,
		}},
		{name: "webhook secrets", doc: "gateway: {webhook_secrets: [nope, 'whsec_!!', whsec_c2hvcnQ=]}", want: []string{
			"gateway.webhook_secrets[0]: must start with whsec_",
			"gateway.webhook_secrets[1]: whsec_ must be followed by base64",
			"gateway.webhook_secrets[2]: key shorter than 16 bytes",
		}},
		{name: "token without source", doc: "gateway: {profile_source_token: t}", want: []string{"gateway.profile_source_token is set but gateway.profile_source_url is not"}},
		{name: "zero rate", doc: "gateway: {webhook_rate: 0, webhook_burst: -1}", want: []string{
			"gateway.webhook_rate: must not be 0 (negative turns the limit off)",
			"gateway.webhook_burst: must not be negative",
		}},
		{name: "nan rate", doc: "gateway: {webhook_rate: .nan}", want: []string{"gateway.webhook_rate: not a number"}},
		{name: "previous session keys", doc: "auth: {previous_session_keys: [AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8, c2hvcnQ]}", want: []string{
			"auth.previous_session_keys[1]: decodes to 5 bytes, not 32",
		}},
		{name: "no user id claim", doc: "auth: {claims: {user_id: '-'}}", want: []string{"auth.claims.user_id: must name a claim"}},
		{name: "hub networks", doc: "hub: {networks: [{name: a.fyre.co}, {name: a.fyre.co, key: k}, {key: k}]}", want: []string{
			"hub.networks[0].key is required",
			`hub.networks[1].name: "a.fyre.co" is listed twice`,
			"hub.networks[2].name is required",
		}},
		{name: "hub network unknown key", doc: "hub: {networks: [{name: a.fyre.co, key: k, secret: s}]}", want: []string{"unknown key hub.networks[0].secret"}},
		{name: "origins", doc: "hub: {app_origins: ['https://a.example/path']}\nauth: {allowed_origins: ['https://a.example/', 'a.example']}", want: []string{
			`hub.app_origins[0]: "https://a.example/path" is not an origin`,
			`auth.allowed_origins[0]: "https://a.example/" is not an origin`,
			`auth.allowed_origins[1]: "a.example" is not an origin`,
		}},
		{name: "auth needs client and key", doc: "auth: {issuer_url: https://idp.example, scopes: [profile]}", want: []string{
			"auth.client_id is required with auth.issuer_url",
			"auth.session_key is required with auth.issuer_url",
			"auth.scopes: must include openid",
		}},
		{name: "session key size", doc: "auth: {session_key: c2hvcnQ=}", want: []string{"auth.session_key: decodes to 5 bytes, not 32"}},
		{name: "timeouts", doc: "auth: {idle_timeout: 2h, absolute_timeout: 1h}", want: []string{"auth.absolute_timeout: must be at least auth.idle_timeout"}},
		{name: "lifetimes", doc: "auth: {token_ttl: 30s, refresh_margin: 0s, provider_recheck: 10s}", want: []string{
			"auth.token_ttl: must be between 1m and 24h",
			"auth.refresh_margin: must be positive",
			"auth.provider_recheck: must be 0 (off) or at least 30s",
		}},
		{name: "lifetimes ok", doc: "auth: {token_ttl: 15m, refresh_margin: 2m, provider_recheck: 5m}"},
		{name: "not a mapping", doc: "- a\n- b\n", want: []string{"the document must be a mapping"}},
		{name: "section not a mapping", doc: "gateway: 3\n", want: []string{"gateway must be a mapping"}},
		{name: "key twice", doc: "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", want: []string{"ssogate.yaml:2: listen is set twice"}},
		{name: "broken yaml", doc: "listen: [\n", want: []string{"yaml:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadTestConfig(t, tt.doc, nil)
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			probs := problemsOf(t, err)
			require.Len(t, probs, len(tt.want), strings.Join(probs, "\n"))
			for i, w := range tt.want {
				require.Contains(t, probs[i], w)
			}
		})
	}
}

func TestConfigMissingFile(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	flags := registerConfigFlags(fs)
	require.NoError(t, fs.Parse([]string{"--config", filepath.Join(t.TempDir(), "missing.yaml"), "--log-level", "loud"}))
	_, err := loadConfig(flags, mapEnv(nil), requirements{})
	probs := problemsOf(t, err)
	require.Len(t, probs, 2)
	require.Contains(t, probs[0], "config file: open ")
	require.Contains(t, probs[1], "log_level")
}

func TestConfigRequirements(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	flags := registerConfigFlags(fs)
	require.NoError(t, fs.Parse(nil))
	_, err := loadConfig(flags, mapEnv(nil), requirements{network: true})
	require.Equal(t, []string{
		"network.name is required (SSOGATE_NETWORK_NAME or --network-name)",
		"network.key is required (config file or SSOGATE_NETWORK_KEY; never a flag)",
	}, problemsOf(t, err))
}

func TestSecretsAreNeverFlags(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	registerConfigFlags(fs)
	secrets := 0
	for _, f := range configFields() {
		if !f.secret {
			continue
		}
		secrets++
		require.Empty(t, f.flag, f.path)
		guess := strings.ReplaceAll(strings.ReplaceAll(f.path, ".", "-"), "_", "-")
		require.Nil(t, fs.Lookup(guess), f.path)
	}
	require.Equal(t, 8, secrets, "admin_token, network key and previous keys, webhook secrets, profile source token, client secret, session key and previous ones")

	for _, flagName := range []string{"admin-token", "network-key", "key", "webhook-secrets", "session-key", "auth-session-key", "auth-previous-session-keys", "auth-client-secret"} {
		require.Nil(t, fs.Lookup(flagName), flagName)
		err := fs.Parse([]string{"--" + flagName + "=x"})
		require.ErrorContains(t, err, "flag provided but not defined", flagName)
	}
}

func TestConfigDeclarations(t *testing.T) {
	t.Parallel()
	require.NotPanics(t, func() { configFields() })
	for _, f := range configFields() {
		require.NotEmpty(t, f.help, "%s needs a help tag", f.path)
		if f.env != "" {
			require.True(t, strings.HasPrefix(f.env, "SSOGATE_"), f.env)
		}
		if scalarType(f.typ) && !strings.HasPrefix(f.path, "hub.networks") {
			require.NotEmpty(t, f.env, "%s needs an env var", f.path)
		}
	}
}

// secretConfig has every secret set to a value containing "SECRET".
func secretConfig() Config {
	var c Config
	c.AdminToken = "SECRET-admin-0123456789"
	c.DatabaseURL = "postgres://ssogate:SECRET-pw@db.example:5432/ssogate?sslmode=require"
	c.Network = NetworkConfig{Name: "labs.fyre.co", Key: "SECRET-key", PreviousKeys: []string{"SECRET-old", ""}}
	c.Gateway.WebhookSecrets = []string{"whsec_SECRET"}
	c.Gateway.ProfileSourceToken = "SECRET-source"
	c.Hub.Networks = []HubNetworkConfig{{Name: "a.fyre.co", Key: "SECRET-a", PreviousKeys: []string{"SECRET-a-old"}}}
	c.Auth.ClientSecret = "SECRET-client"
	c.Auth.SessionKey = "SECRET-session"
	c.Auth.PreviousSessionKeys = []string{"SECRET-session-old"}
	return c
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	c := secretConfig()
	r := c.Redacted()

	require.Equal(t, "REDACTED", r.AdminToken)
	require.Equal(t, "postgres://ssogate:REDACTED@db.example:5432/ssogate?sslmode=require", r.DatabaseURL)
	require.Equal(t, "labs.fyre.co", r.Network.Name)
	require.Equal(t, "REDACTED", r.Network.Key)
	require.Equal(t, []string{"REDACTED", ""}, r.Network.PreviousKeys)
	require.Equal(t, []string{"REDACTED"}, r.Gateway.WebhookSecrets)
	require.Equal(t, "REDACTED", r.Hub.Networks[0].Key)
	require.Equal(t, "a.fyre.co", r.Hub.Networks[0].Name)
	require.Empty(t, r.Auth.ClientID, "empty values stay empty")

	// The original is untouched (slices were copied).
	require.Equal(t, secretConfig(), c)

	dumps := map[string]string{}
	out, err := yaml.Marshal(r)
	require.NoError(t, err)
	dumps["yaml"] = string(out)
	dumps["%v"] = fmt.Sprintf("%v", c)
	dumps["%+v"] = fmt.Sprintf("%+v", c)
	dumps["%v pointer"] = fmt.Sprintf("%v", &c)
	dumps["String"] = c.String()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", c)
	dumps["slog json"] = logs.String()
	logs.Reset()
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "config", &c)
	dumps["slog text"] = logs.String()
	for name, dump := range dumps {
		require.NotContains(t, dump, "SECRET", name)
		require.Contains(t, dump, "REDACTED", name)
	}
}

func TestRedactedCoversEverySecret(t *testing.T) {
	t.Parallel()
	// Set every string field (and list) to "SECRET…" through reflection; a
	// dump of Redacted may only show it in non-secret fields.
	var c Config
	fill(reflect.ValueOf(&c).Elem())
	r := c.Redacted()
	for _, f := range configFields() {
		v := reflect.ValueOf(r).FieldByIndex(f.index)
		if f.secret {
			require.NotContains(t, fmt.Sprint(v.Interface()), "SECRET", f.path)
		}
	}
	for _, n := range r.Hub.Networks {
		require.NotContains(t, n.Key+strings.Join(n.PreviousKeys, ""), "SECRET")
	}
}

func TestRedactURLPassword(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"sqlite:ssogate-data/ssogate.db":       "sqlite:ssogate-data/ssogate.db",
		"postgres://u@h/db":                    "postgres://u@h/db",
		"postgres://u:pw@h/db?sslmode=disable": "postgres://u:REDACTED@h/db?sslmode=disable",
		"postgres://u:p%40ss@h/db":             "postgres://u:REDACTED@h/db",
		"postgres://u:pw@h:bad-port/db":        "REDACTED",
		"":                                     "",
	}
	for raw, want := range tests {
		require.Equal(t, want, redactURLPassword(raw), raw)
	}
}

func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("SECRET")
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	}
}

func TestParseDatabaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, backend, target, err string
	}{
		{raw: "sqlite:./data/x.db", backend: "sqlite", target: "./data/x.db"},
		{raw: "sqlite:///var/lib/x.db", backend: "sqlite", target: "/var/lib/x.db"},
		{raw: "sqlite:x.db", backend: "sqlite", target: "x.db"},
		{raw: "postgres://u:p@h:5432/db?sslmode=disable", backend: "postgres", target: "postgres://u:p@h:5432/db?sslmode=disable"},
		{raw: "postgresql://h/db", backend: "postgres", target: "postgresql://h/db"},
		{raw: "postgres:///db", err: "not a valid postgres:// URL"},
		{raw: "sqlite:", err: "needs a file path"},
		{raw: "", err: "must not be empty"},
		{raw: "mysql://u:hunter2@h/db", err: "must start with sqlite: or postgres://"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			backend, target, err := parseDatabaseURL(tt.raw)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.NotContains(t, err.Error(), "hunter2")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.backend, backend)
			require.Equal(t, tt.target, target)
		})
	}
}

func TestHubNetworks(t *testing.T) {
	t.Parallel()
	c := Config{Network: NetworkConfig{Name: "labs.fyre.co", Key: "k", PreviousKeys: []string{"o"}}}
	c.Hub.AllowPrivateTargets = true
	require.Equal(t, []HubNetworkConfig{{Name: "labs.fyre.co", Key: "k", PreviousKeys: []string{"o"}, AllowPrivateTargets: true}}, c.HubNetworks())

	c.Hub.AllowPrivateTargets = false
	c.Hub.Networks = []HubNetworkConfig{{Name: "a.fyre.co", Key: "a"}, {Name: "b.fyre.co", Key: "b", AllowPrivateTargets: true}}
	got := c.HubNetworks()
	require.Len(t, got, 2)
	require.False(t, got[0].AllowPrivateTargets)
	require.True(t, got[1].AllowPrivateTargets)

	require.Empty(t, (&Config{}).HubNetworks())
}

func TestSessionKeyBytes(t *testing.T) {
	t.Parallel()
	for _, key := range []string{
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"_-8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0",
	} {
		b, err := AuthConfig{SessionKey: key}.SessionKeyBytes()
		require.NoError(t, err, key)
		require.Len(t, b, 32)
	}
	_, err := AuthConfig{SessionKey: "not base64!"}.SessionKeyBytes()
	require.EqualError(t, err, "not base64")
}

func FuzzDecodeYAMLConfig(f *testing.F) {
	f.Add([]byte(threeMistakes))
	f.Add([]byte("hub:\n  networks:\n    - &n {name: a.fyre.co, key: k}\n    - *n\n"))
	f.Add([]byte("network: {previous_keys: a,b}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg Config
		var probs problems
		decodeYAMLConfig("f.yaml", data, reflect.ValueOf(&cfg).Elem(), &probs)
		cfg.WithDefaults()
		cfg.validate(requirements{}, &probs)
	})
}
