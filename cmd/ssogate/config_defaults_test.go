package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/authdelegate"
	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/pingpull"
)

// TestConfigDefaultsAreThePackages: an empty configuration gives the binary
// the domain packages' own defaults, so the two layers cannot disagree
// again (auth.idle_timeout was 168h here and 24h in authdelegate).
func TestConfigDefaultsAreThePackages(t *testing.T) {
	t.Parallel()
	cfg, err := loadTestConfig(t, "network: {name: labs.fyre.co, key: k}\n", nil)
	require.NoError(t, err)

	require.Equal(t, authdelegate.DefaultScopes, cfg.Auth.Scopes)
	require.Equal(t, authdelegate.DefaultIdleTimeout, cfg.Auth.IdleTimeout)
	require.Equal(t, authdelegate.DefaultAbsoluteTimeout, cfg.Auth.AbsoluteTimeout)
	require.Equal(t, authdelegate.DefaultTokenTTL, cfg.Auth.TokenTTL)
	require.Equal(t, authdelegate.DefaultRefreshBefore, cfg.Auth.RefreshMargin)
	claims := cfg.Auth.Claims
	require.Equal(t, authdelegate.DefaultClaimMapping, authdelegate.ClaimMapping{
		UserID: claims.UserID, DisplayName: claims.DisplayName, Email: claims.Email,
		ImageURL: claims.ImageURL, ProfileURL: claims.ProfileURL, SettingsURL: claims.SettingsURL,
		FirstName: claims.FirstName, LastName: claims.LastName,
	})

	require.InDelta(t, pingpull.DefaultWebhookRate, cfg.Gateway.WebhookRate, 0)
	require.InDelta(t, pingpull.DefaultWebhookFailureRate, cfg.Gateway.WebhookFailureRate, 0)
	require.Equal(t, pingpull.DefaultWebhookFailureBurst, cfg.Gateway.WebhookFailureBurst)
	require.Equal(t, pingpull.DefaultProfileSourceTimeout, cfg.Gateway.ProfileSourceTimeout)
	require.Equal(t, pingpull.DefaultHubURL("labs.fyre.co"), cfg.Gateway.HubURL)

	require.Equal(t, hub.DefaultUpdateStreamsPerClient, cfg.Hub.UpdateStreamsPerClient)
}

func TestDurationDefault(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"168h": "168h", "1m": "1m", "10s": "10s", "0s": "0s", "1h30m": "1h30m", "90s": "1m30s"} {
		d, err := parseConfigValue(durationType, in)
		require.NoError(t, err)
		require.Equal(t, want, durationDefault(d.Interface().(time.Duration)), in)
	}
}

// TestConfigChecksWhatTheDomainsCheck: the rules hub.New and pingpull.New
// apply are found while loading, not after the database opened.
func TestConfigChecksWhatTheDomainsCheck(t *testing.T) {
	t.Parallel()
	_, err := loadTestConfig(t, `
hub:
  networks:
    - name: labs.fyre.co
      key: k
      sites:
        - {id: "bad id", key: k}
        - {id: "303613"}
        - {id: "303613", key: k, moderators: [system]}
gateway:
  public_url: https://sso.example.com/?x=1
`, nil)
	probs := problemsOf(t, err)
	require.ElementsMatch(t, []string{
		`hub.networks[0].sites[0].id: "bad id" is not 1-64 letters, digits, '-' or '_'`,
		`hub.networks[0].sites[1].key is required`,
		`hub.networks[0].sites[2].id: "303613" is listed twice`,
		`hub.networks[0].sites[2].moderators[0]: "system" is not a user id`,
		`gateway.public_url: "https://sso.example.com/?x=1" must be a base URL without user, query or fragment`,
	}, probs)
}
