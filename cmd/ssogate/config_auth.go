package main

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AuthConfig configures the gateway's browser side (authdelegate): the
// OpenID provider, the allowed site origins and the sessions.
type AuthConfig struct {
	IssuerURL            string        `yaml:"issuer_url" env:"SSOGATE_AUTH_ISSUER_URL" flag:"auth-issuer-url" help:"OpenID provider issuer URL; login is off without it"`
	ClientID             string        `yaml:"client_id" env:"SSOGATE_AUTH_CLIENT_ID" flag:"auth-client-id" help:"OAuth client id at the provider"`
	ClientSecret         string        `yaml:"client_secret" env:"SSOGATE_AUTH_CLIENT_SECRET" secret:"true" help:"OAuth client secret (empty for a public client)"`
	Scopes               []string      `yaml:"scopes" env:"SSOGATE_AUTH_SCOPES" flag:"auth-scopes" default:"@authdelegate.DefaultScopes" help:"scopes requested at login (comma-separated)"`
	AllowedOrigins       []string      `yaml:"allowed_origins" env:"SSOGATE_AUTH_ALLOWED_ORIGINS" flag:"auth-allowed-origins" help:"site origins that may embed the delegate (postMessage target, CORS, return_to)"`
	SessionKey           string        `yaml:"session_key" env:"SSOGATE_AUTH_SESSION_KEY" secret:"true" help:"base64 of 32 random bytes: the AES-256-GCM key for refresh tokens at rest; required with issuer_url"`
	PreviousSessionKeys  []string      `yaml:"previous_session_keys" env:"SSOGATE_AUTH_PREVIOUS_SESSION_KEYS" secret:"true" help:"older session keys that still decrypt during a rotation (comma-separated)"`
	IdleTimeout          time.Duration `yaml:"idle_timeout" env:"SSOGATE_AUTH_IDLE_TIMEOUT" flag:"auth-idle-timeout" default:"@authdelegate.DefaultIdleTimeout" help:"a session ends after this long unused"`
	AbsoluteTimeout      time.Duration `yaml:"absolute_timeout" env:"SSOGATE_AUTH_ABSOLUTE_TIMEOUT" flag:"auth-absolute-timeout" default:"@authdelegate.DefaultAbsoluteTimeout" help:"a session ends this long after login, used or not"`
	TokenTTL             time.Duration `yaml:"token_ttl" env:"SSOGATE_AUTH_TOKEN_TTL" flag:"auth-token-ttl" default:"@authdelegate.DefaultTokenTTL" help:"lifetime of the userAuthTokens the gateway mints (1m–24h); the app honours a token until it expires, see Tokens and sessions"`
	RefreshMargin        time.Duration `yaml:"refresh_margin" env:"SSOGATE_AUTH_REFRESH_MARGIN" flag:"auth-refresh-margin" default:"@authdelegate.DefaultRefreshBefore" help:"the provider's refresh token is used when its access token expires within this margin"`
	PostLogoutViaGateway bool          `yaml:"post_logout_via_gateway" env:"SSOGATE_AUTH_POST_LOGOUT_VIA_GATEWAY" flag:"auth-post-logout-via-gateway" help:"the provider sends the reader back to {public_url}/logged-out, which forwards to the site page; for providers that accept post-logout URIs only on a redirect URI's origin (Ory Hydra)"`
	ProviderRecheck      time.Duration `yaml:"provider_recheck" env:"SSOGATE_AUTH_PROVIDER_RECHECK" flag:"auth-provider-recheck" default:"0s" help:"longest time the gateway mints tokens for a session without a refresh-token grant at the provider (which fails once the user is disabled or consent withdrawn); 0: the provider's access-token lifetime"`

	Claims ClaimsConfig `yaml:"claims"`
}

// ClaimsConfig maps the provider's ID token and userinfo claims onto the
// profile. "-" turns a field off.
type ClaimsConfig struct {
	UserID      string   `yaml:"user_id" env:"SSOGATE_AUTH_CLAIM_USER_ID" flag:"auth-claim-user-id" default:"@authdelegate.DefaultClaimMapping.UserID" help:"claim that becomes the Livefyre user id; the same id the backend's webhooks use"`
	DisplayName []string `yaml:"display_name" env:"SSOGATE_AUTH_CLAIM_DISPLAY_NAME" flag:"auth-claim-display-name" default:"@authdelegate.DefaultClaimMapping.DisplayName" help:"claims tried in order for the display name"`
	Email       string   `yaml:"email" env:"SSOGATE_AUTH_CLAIM_EMAIL" flag:"auth-claim-email" default:"@authdelegate.DefaultClaimMapping.Email" help:"claim for email (skipped when email_verified is false)"`
	ImageURL    string   `yaml:"image_url" env:"SSOGATE_AUTH_CLAIM_IMAGE_URL" flag:"auth-claim-image-url" default:"@authdelegate.DefaultClaimMapping.ImageURL" help:"claim for image_url"`
	ProfileURL  string   `yaml:"profile_url" env:"SSOGATE_AUTH_CLAIM_PROFILE_URL" flag:"auth-claim-profile-url" default:"@authdelegate.DefaultClaimMapping.ProfileURL" help:"claim for profile_url"`
	SettingsURL string   `yaml:"settings_url" env:"SSOGATE_AUTH_CLAIM_SETTINGS_URL" flag:"auth-claim-settings-url" default:"@authdelegate.DefaultClaimMapping.SettingsURL" help:"claim for settings_url"`
	FirstName   string   `yaml:"first_name" env:"SSOGATE_AUTH_CLAIM_FIRST_NAME" flag:"auth-claim-first-name" default:"@authdelegate.DefaultClaimMapping.FirstName" help:"claim for name.first"`
	LastName    string   `yaml:"last_name" env:"SSOGATE_AUTH_CLAIM_LAST_NAME" flag:"auth-claim-last-name" default:"@authdelegate.DefaultClaimMapping.LastName" help:"claim for name.last"`
}

// SessionKeyBytes decodes SessionKey.
func (a AuthConfig) SessionKeyBytes() ([]byte, error) {
	return decodeSessionKey(a.SessionKey)
}

// PreviousSessionKeyBytes decodes PreviousSessionKeys.
func (a AuthConfig) PreviousSessionKeyBytes() ([][]byte, error) {
	keys := make([][]byte, 0, len(a.PreviousSessionKeys))
	for i, k := range a.PreviousSessionKeys {
		key, err := decodeSessionKey(k)
		if err != nil {
			return nil, fmt.Errorf("previous_session_keys[%d]: %w", i, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// decodeSessionKey decodes a 32-byte key in standard or URL base64, padded
// or not. Errors never quote the key.
func decodeSessionKey(raw string) ([]byte, error) {
	s := strings.TrimRight(raw, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != 32 {
				return nil, fmt.Errorf("decodes to %d bytes, not 32", len(key))
			}
			return key, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

func (a *AuthConfig) validate(probs *problems) {
	if a.IssuerURL != "" {
		if err := checkHTTPURL(a.IssuerURL); err != nil {
			probs.addf("auth.issuer_url: %v", err)
		}
		if a.ClientID == "" {
			probs.addf("auth.client_id is required with auth.issuer_url")
		}
		if a.SessionKey == "" {
			probs.addf("auth.session_key is required with auth.issuer_url (config file or SSOGATE_AUTH_SESSION_KEY)")
		}
		if !slices.Contains(a.Scopes, "openid") {
			probs.addf("auth.scopes: must include openid")
		}
	}
	if a.SessionKey != "" {
		if _, err := a.SessionKeyBytes(); err != nil {
			probs.addf("auth.session_key: %v", err)
		}
	}
	if _, err := a.PreviousSessionKeyBytes(); err != nil {
		probs.addf("auth.%v", err)
	}
	if a.Claims.UserID == "" || a.Claims.UserID == "-" {
		probs.addf("auth.claims.user_id: must name a claim")
	}
	for i, o := range a.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			probs.addf("auth.allowed_origins[%d]: %v", i, err)
		}
	}
	if a.IdleTimeout <= 0 {
		probs.addf("auth.idle_timeout: must be positive")
	}
	if a.TokenTTL < time.Minute || a.TokenTTL > 24*time.Hour {
		probs.addf("auth.token_ttl: must be between 1m and 24h")
	}
	if a.RefreshMargin <= 0 {
		probs.addf("auth.refresh_margin: must be positive")
	}
	if a.ProviderRecheck < 0 || (a.ProviderRecheck > 0 && a.ProviderRecheck < 30*time.Second) {
		probs.addf("auth.provider_recheck: must be 0 (off) or at least 30s")
	}
	if a.AbsoluteTimeout < a.IdleTimeout {
		probs.addf("auth.absolute_timeout: must be at least auth.idle_timeout")
	}
}
