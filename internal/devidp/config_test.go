package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func validConfig() Config {
	return Config{
		Issuer:        "http://127.0.0.1:9000",
		AllowInsecure: true,
		Users:         DemoUsers(),
		Clients:       []Client{{ID: "web", RedirectURIs: []string{"http://127.0.0.1:8080/callback"}}},
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string // every substring must appear
	}{
		{name: "valid", mutate: func(*Config) {}},
		{name: "https issuer with path", mutate: func(c *Config) {
			c.Issuer, c.AllowInsecure = "https://idp.example/dev/", false
			c.Clients[0].RedirectURIs = []string{"https://app.example/cb"}
		}},
		{name: "missing issuer", mutate: func(c *Config) { c.Issuer = "" }, wantErr: []string{"Issuer is required"}},
		{name: "relative issuer", mutate: func(c *Config) { c.Issuer = "/idp" }, wantErr: []string{"not an absolute URL"}},
		{name: "http issuer without AllowInsecure", mutate: func(c *Config) {
			c.AllowInsecure = false
		}, wantErr: []string{"set AllowInsecure", "RedirectURI"}},
		{name: "issuer with query", mutate: func(c *Config) { c.Issuer += "/?a=b" }, wantErr: []string{"must not have a query"}},
		{name: "ftp issuer", mutate: func(c *Config) { c.Issuer = "ftp://x" }, wantErr: []string{"must be http or https"}},
		{name: "negative TTL", mutate: func(c *Config) { c.RefreshTokenTTL = -time.Second }, wantErr: []string{"RefreshTokenTTL must not be negative"}},
		{name: "user problems", mutate: func(c *Config) {
			c.Users = append(c.Users, User{ID: "alice", Username: "alice"}, User{})
		}, wantErr: []string{"duplicate ID", "duplicate Username", "Password is required", "Users[3]: ID is required"}},
		{name: "no clients", mutate: func(c *Config) { c.Clients = nil }, wantErr: []string{"at least one client"}},
		{name: "client problems", mutate: func(c *Config) {
			c.Clients = append(c.Clients,
				Client{ID: "web"},
				Client{RedirectURIs: []string{"cb"}, PostLogoutRedirectURIs: []string{"https://x/#f"}, BackChannelLogoutURI: "nope"},
			)
		}, wantErr: []string{"duplicate ID \"web\"", "Clients[1]: at least one RedirectURI", "Clients[2]: ID is required",
			"RedirectURI: \"cb\"", "must not have a fragment", "BackChannelLogoutURI"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tt.mutate(&cfg)
			err := cfg.WithDefaults().validate()
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.ErrorContains(t, err, "devidp: invalid config")
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.Issuer += "/"
	got := cfg.WithDefaults()
	require.Equal(t, "http://127.0.0.1:9000", got.Issuer)
	require.Equal(t, DefaultAccessTokenTTL, got.AccessTokenTTL)
	require.Equal(t, DefaultIDTokenTTL, got.IDTokenTTL)
	require.Equal(t, DefaultRefreshTokenTTL, got.RefreshTokenTTL)
	require.Equal(t, DefaultSessionTTL, got.SessionTTL)
	require.NotNil(t, got.Logger)
	require.NotNil(t, got.Now)
	require.NotNil(t, got.HTTPClient)

	// The copy owns its slices.
	got.Clients[0].RedirectURIs[0] = "changed"
	got.Users[0].Name = "changed"
	require.Equal(t, "http://127.0.0.1:8080/callback", cfg.Clients[0].RedirectURIs[0])
	require.Equal(t, "Alice Example", cfg.Users[0].Name)
}

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("invalid config", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{})
		require.ErrorContains(t, err, "Issuer is required")
		require.ErrorContains(t, err, "at least one client")
	})

	t.Run("weak key", func(t *testing.T) {
		t.Parallel()
		key, err := rsa.GenerateKey(rand.Reader, 1024)
		require.NoError(t, err)
		cfg := validConfig()
		cfg.SigningKey = key
		_, err = New(cfg)
		require.ErrorContains(t, err, "at least 2048 bits")
	})

	t.Run("configured key keeps its kid", func(t *testing.T) {
		t.Parallel()
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		cfg := validConfig()
		cfg.SigningKey = key
		a, err := New(cfg)
		require.NoError(t, err)
		b, err := New(cfg)
		require.NoError(t, err)
		require.Equal(t, a.store.key.id, b.store.key.id)
	})
}
