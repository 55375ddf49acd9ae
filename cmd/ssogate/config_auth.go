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
	IssuerURL       string        `yaml:"issuer_url" env:"SSOGATE_AUTH_ISSUER_URL" flag:"auth-issuer-url" help:"OpenID provider issuer URL; login is off without it"`
	ClientID        string        `yaml:"client_id" env:"SSOGATE_AUTH_CLIENT_ID" flag:"auth-client-id" help:"OAuth client id at the provider"`
	ClientSecret    string        `yaml:"client_secret" env:"SSOGATE_AUTH_CLIENT_SECRET" secret:"true" help:"OAuth client secret (empty for a public client)"`
	Scopes          []string      `yaml:"scopes" env:"SSOGATE_AUTH_SCOPES" flag:"auth-scopes" default:"openid,profile,email,offline_access" help:"scopes requested at login (comma-separated)"`
	AllowedOrigins  []string      `yaml:"allowed_origins" env:"SSOGATE_AUTH_ALLOWED_ORIGINS" flag:"auth-allowed-origins" help:"site origins that may embed the delegate (postMessage target, CORS, return_to)"`
	SessionKey      string        `yaml:"session_key" env:"SSOGATE_AUTH_SESSION_KEY" secret:"true" help:"base64 of 32 random bytes: the AES-256-GCM key for refresh tokens at rest; required with issuer_url"`
	IdleTimeout     time.Duration `yaml:"idle_timeout" env:"SSOGATE_AUTH_IDLE_TIMEOUT" flag:"auth-idle-timeout" default:"168h" help:"a session ends after this long unused"`
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout" env:"SSOGATE_AUTH_ABSOLUTE_TIMEOUT" flag:"auth-absolute-timeout" default:"720h" help:"a session ends this long after login, used or not"`
}

// SessionKeyBytes decodes SessionKey (standard or URL base64, padded or
// not).
func (a AuthConfig) SessionKeyBytes() ([]byte, error) {
	s := strings.TrimRight(a.SessionKey, "=")
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
	for i, o := range a.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			probs.addf("auth.allowed_origins[%d]: %v", i, err)
		}
	}
	if a.IdleTimeout <= 0 {
		probs.addf("auth.idle_timeout: must be positive")
	}
	if a.AbsoluteTimeout < a.IdleTimeout {
		probs.addf("auth.absolute_timeout: must be at least auth.idle_timeout")
	}
}
