package main

import (
	"fmt"

	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/tokens"
)

// HubConfig configures the hub (`ssogate hub`), the Livefyre-compatible
// receiver of registrations and pings that pulls profiles.
type HubConfig struct {
	Networks               []HubNetworkConfig `yaml:"networks" help:"networks the hub serves; when empty, the one in network"`
	AllowPrivateTargets    bool               `yaml:"allow_private_targets" env:"SSOGATE_ALLOW_PRIVATE_TARGETS" flag:"allow-private-targets" help:"let pulls reach loopback and private addresses, for every network (tests, demo)"`
	AppOrigins             []string           `yaml:"app_origins" env:"SSOGATE_APP_ORIGINS" flag:"app-origins" help:"origins of the app pages that may call the auth API with CORS (comma-separated)"`
	DemoApp                bool               `yaml:"demo_app" env:"SSOGATE_DEMO_APP" flag:"demo-app" help:"serve the demo app: /comments.js, the comment API and the update stream (ssogate demo and the load harness); off, they answer 404"`
	UpdateStreamsPerClient int                `yaml:"update_streams_per_client" env:"SSOGATE_UPDATE_STREAMS_PER_CLIENT" flag:"update-streams-per-client" default:"@hub.DefaultUpdateStreamsPerClient" help:"with demo_app, how many update streams one client address may hold open (429 beyond); -1 for no cap"`
	DefaultAvatarURL       string             `yaml:"default_avatar_url" env:"SSOGATE_DEFAULT_AVATAR_URL" flag:"default-avatar-url" help:"avatar URL the auth API gives users without an image; empty: the hub's own /avatar/default.svg"`
	// PullFollowCrossHostRedirects is hub.Config's field of the same name.
	PullFollowCrossHostRedirects bool `yaml:"pull_follow_cross_host_redirects" env:"SSOGATE_PULL_FOLLOW_CROSS_HOST_REDIRECTS" help:"let a pull follow a redirect to another host name (the redirected request may carry the pull token there)"`
}

// HubNetworkConfig is one network served by the hub.
type HubNetworkConfig struct {
	Name                string          `yaml:"name" help:"network name, e.g. labs.fyre.co"`
	Key                 string          `yaml:"key" secret:"true" help:"network key"`
	PreviousKeys        []string        `yaml:"previous_keys" secret:"true" help:"older keys still accepted during a rotation"`
	JavaKeyTruncation   bool            `yaml:"java_key_truncation" help:"also accept tokens signed with the key cut to 32 bytes"`
	AllowPrivateTargets bool            `yaml:"allow_private_targets" help:"let this network's pulls reach loopback and private addresses"`
	Sites               []HubSiteConfig `yaml:"sites" help:"the network's Livefyre sites, for the collection API"`
}

// HubSiteConfig is one Livefyre site of a hub network.
type HubSiteConfig struct {
	ID         string   `yaml:"id" help:"site id, e.g. 303613"`
	Key        string   `yaml:"key" secret:"true" help:"site key (signs collectionMeta tokens)"`
	Moderators []string `yaml:"moderators" help:"user ids who moderate every collection of the site"`
}

// HubNetworks returns the networks the hub serves: hub.networks, or the
// top-level network when that list is empty and a network is set. The global
// allow_private_targets applies to each.
func (c *Config) HubNetworks() []HubNetworkConfig {
	networks := append([]HubNetworkConfig(nil), c.Hub.Networks...)
	if len(networks) == 0 && c.Network.Name != "" {
		networks = append(networks, HubNetworkConfig{
			Name:              c.Network.Name,
			Key:               c.Network.Key,
			PreviousKeys:      c.Network.PreviousKeys,
			JavaKeyTruncation: c.Network.JavaKeyTruncation,
		})
	}
	for i := range networks {
		networks[i].AllowPrivateTargets = networks[i].AllowPrivateTargets || c.Hub.AllowPrivateTargets
	}
	return networks
}

func (h *HubConfig) validate(probs *problems) {
	seen := map[string]bool{}
	for i, n := range h.Networks {
		path := fmt.Sprintf("hub.networks[%d]", i)
		NetworkConfig{Name: n.Name, Key: n.Key, PreviousKeys: n.PreviousKeys}.validate(path, true, probs)
		if n.Name != "" && seen[n.Name] {
			probs.addf("%s.name: %q is listed twice", path, n.Name)
		}
		seen[n.Name] = true
		n.validateSites(path, probs)
	}
	if h.DefaultAvatarURL != "" {
		if err := checkHTTPURL(h.DefaultAvatarURL); err != nil {
			probs.addf("hub.default_avatar_url: %v", err)
		}
	}
	if h.UpdateStreamsPerClient == 0 || h.UpdateStreamsPerClient < -1 {
		probs.addf("hub.update_streams_per_client: %d must be positive, or -1 for no cap", h.UpdateStreamsPerClient)
	}
	for i, o := range h.AppOrigins {
		if err := checkOrigin(o); err != nil {
			probs.addf("hub.app_origins[%d]: %v", i, err)
		}
	}
}

// validateSites checks the rules hub.New applies to a network's sites.
func (n HubNetworkConfig) validateSites(path string, probs *problems) {
	seen := map[string]bool{}
	for j, s := range n.Sites {
		sp := fmt.Sprintf("%s.sites[%d]", path, j)
		switch {
		case !hub.ValidSiteID(s.ID):
			probs.addf("%s.id: %q is not 1-64 letters, digits, '-' or '_'", sp, s.ID)
		case seen[s.ID]:
			probs.addf("%s.id: %q is listed twice", sp, s.ID)
		}
		seen[s.ID] = true
		if s.Key == "" {
			probs.addf("%s.key is required", sp)
		}
		for k, m := range s.Moderators {
			if !tokens.ValidUserID(m) || tokens.IsReservedUserID(m) {
				probs.addf("%s.moderators[%d]: %q is not a user id", sp, k, m)
			}
		}
	}
}
