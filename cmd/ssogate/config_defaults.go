package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ssogate/ssogate/authdelegate"
	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/pingpull"
)

// One source for each default: where a domain package has a default for a
// key, the package's exported Default… is the value and Config's tag names
// it (default:"@authdelegate.DefaultIdleTimeout"); the tag carries a literal
// only for the binary's own keys (listen, data_dir, log_level, …). So
// `ssogate serve` and a program that builds authdelegate.Config itself get
// the same session lifetimes, and the README's table shows the package's
// value.
var packageDefaults = map[string]string{
	"@authdelegate.DefaultScopes":          strings.Join(authdelegate.DefaultScopes, ","),
	"@authdelegate.DefaultIdleTimeout":     durationDefault(authdelegate.DefaultIdleTimeout),
	"@authdelegate.DefaultAbsoluteTimeout": durationDefault(authdelegate.DefaultAbsoluteTimeout),
	"@authdelegate.DefaultTokenTTL":        durationDefault(authdelegate.DefaultTokenTTL),
	"@authdelegate.DefaultRefreshBefore":   durationDefault(authdelegate.DefaultRefreshBefore),

	"@authdelegate.DefaultClaimMapping.UserID":      authdelegate.DefaultClaimMapping.UserID,
	"@authdelegate.DefaultClaimMapping.DisplayName": strings.Join(authdelegate.DefaultClaimMapping.DisplayName, ","),
	"@authdelegate.DefaultClaimMapping.Email":       authdelegate.DefaultClaimMapping.Email,
	"@authdelegate.DefaultClaimMapping.ImageURL":    authdelegate.DefaultClaimMapping.ImageURL,
	"@authdelegate.DefaultClaimMapping.ProfileURL":  authdelegate.DefaultClaimMapping.ProfileURL,
	"@authdelegate.DefaultClaimMapping.SettingsURL": authdelegate.DefaultClaimMapping.SettingsURL,
	"@authdelegate.DefaultClaimMapping.FirstName":   authdelegate.DefaultClaimMapping.FirstName,
	"@authdelegate.DefaultClaimMapping.LastName":    authdelegate.DefaultClaimMapping.LastName,

	"@pingpull.DefaultWebhookRate":          strconv.FormatFloat(pingpull.DefaultWebhookRate, 'g', -1, 64),
	"@pingpull.DefaultWebhookFailureRate":   strconv.FormatFloat(pingpull.DefaultWebhookFailureRate, 'g', -1, 64),
	"@pingpull.DefaultWebhookFailureBurst":  strconv.Itoa(pingpull.DefaultWebhookFailureBurst),
	"@pingpull.DefaultProfileSourceTimeout": durationDefault(pingpull.DefaultProfileSourceTimeout),

	"@hub.DefaultUpdateStreamsPerClient": strconv.Itoa(hub.DefaultUpdateStreamsPerClient),
}

// resolveDefault returns a default tag's value: a literal as is, a
// reference (@pkg.Name) through packageDefaults. An unknown reference
// panics when configFields is first built, as a bad literal does.
func resolveDefault(tag string) string {
	if !strings.HasPrefix(tag, "@") {
		return tag
	}
	v, ok := packageDefaults[tag]
	if !ok {
		panic(fmt.Sprintf("config: default %s names no package default (config_defaults.go)", tag))
	}
	return v
}

// durationDefault writes d as the README and flags show durations: 168h,
// 1m, 10s (time.Duration's String gives 168h0m0s).
func durationDefault(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
