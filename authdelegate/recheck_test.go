package authdelegate

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// revokeAtProvider revokes rt at the provider, as an administrator
// disabling the user or the user withdrawing consent would.
func (b *testBundle) revokeAtProvider(rt string) {
	b.t.Helper()
	form := url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, b.idpURL+"/revoke", strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testClientSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
}

func TestProviderRecheckInterval(t *testing.T) {
	t.Parallel()
	// The provider's access tokens live 5 minutes (devidp's default).
	for _, tc := range []struct {
		name    string
		recheck time.Duration
		ended   bool
	}{
		{"default: minted until the access token nears expiry", 0, false},
		{"2m: the provider is asked after 2 minutes", 2 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{mutate: func(c *Config) { c.ProviderRecheckInterval = tc.recheck }})
			msg := b.login("alice")
			b.revokeAtProvider(b.refreshToken(msg.Credential))
			b.clock.Advance(2*time.Minute + time.Second)
			status, body := b.api(http.MethodPost, "/token", msg.Credential, nil)
			if !tc.ended {
				require.Equal(t, http.StatusOK, status, body)
				require.Zero(t, counterValue(t, b.h.metrics.providerRefresh.WithLabelValues("refused")))
				return
			}
			require.Equal(t, http.StatusUnauthorized, status, body)
			require.Equal(t, reasonRefreshRefused, b.session(msg.Credential).EndReason)
		})
	}
}

func TestProviderRecheckRefreshes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.ProviderRecheckInterval = time.Minute }})
	msg := b.login("alice")
	for i := 1; i <= 3; i++ {
		b.clock.Advance(time.Minute + time.Second)
		status, body := b.api(http.MethodPost, "/token", msg.Credential, nil)
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, float64(i), counterValue(t, b.h.metrics.providerRefresh.WithLabelValues("success")))
	}
}

func TestProviderRecheckValidation(t *testing.T) {
	t.Parallel()
	cfg := Config{ProviderRecheckInterval: -time.Second}.WithDefaults()
	require.ErrorContains(t, cfg.validate(), "ProviderRecheckInterval must not be negative")
}
