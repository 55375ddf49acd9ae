package hub

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/ssogate/ssogate/tokens"
)

// siteIDPattern is what a site id may be: Livefyre's are decimal numbers;
// letters, digits, '-' and '_' are accepted.
var siteIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidSiteID reports whether id may name a site (1-64 letters, digits, '-'
// or '_'), the rule New applies; cmd/ssogate checks its configuration with
// it before anything opens.
func ValidSiteID(id string) bool { return siteIDPattern.MatchString(id) }

func validateSites(i int, n NetworkConfig) []error {
	var errs []error
	seen := map[string]bool{}
	for j, s := range n.Sites {
		switch {
		case !siteIDPattern.MatchString(s.ID):
			errs = append(errs, fmt.Errorf("networks[%d] (%s): sites[%d]: id %q is not 1-64 letters, digits, '-' or '_'", i, n.Name, j, s.ID))
		case seen[s.ID]:
			errs = append(errs, fmt.Errorf("networks[%d] (%s): sites[%d]: id %q is listed twice", i, n.Name, j, s.ID))
		}
		seen[s.ID] = true
		if s.Key == "" {
			errs = append(errs, fmt.Errorf("networks[%d] (%s): sites[%d] (%s): key is required", i, n.Name, j, s.ID))
		}
		for k, m := range s.Moderators {
			if !tokens.ValidUserID(m) || tokens.IsReservedUserID(m) {
				errs = append(errs, fmt.Errorf("networks[%d] (%s): sites[%d] (%s): moderators[%d] %q is not a user id", i, n.Name, j, s.ID, k, m))
			}
		}
	}
	return errs
}

// networkConfig returns the configuration of a network the hub serves.
func (h *Handler) networkConfig(name string) (NetworkConfig, bool) {
	for _, nc := range h.cfg.Networks {
		if nc.Name == name {
			return nc, true
		}
	}
	return NetworkConfig{}, false
}

// site returns a configured site of a network.
func (h *Handler) site(network, id string) (SiteConfig, bool) {
	nc, ok := h.networkConfig(network)
	if !ok {
		return SiteConfig{}, false
	}
	for _, s := range nc.Sites {
		if s.ID == id {
			return s, true
		}
	}
	return SiteConfig{}, false
}

// moderatedSites returns the ids of the network's sites userID moderates.
func (h *Handler) moderatedSites(network, userID string) []string {
	nc, _ := h.networkConfig(network)
	out := []string{}
	for _, s := range nc.Sites {
		if slices.Contains(s.Moderators, userID) {
			out = append(out, s.ID)
		}
	}
	return out
}

// collectionKeyInfo labels the key the hub derives from a network key for
// the collection keys it hands out (moderator_key, authors[].key).
const collectionKeyInfo = "ssogate hub collection keys v1\x00"

// collectionKey is an opaque key of a collection for a purpose
// ("moderator", or "author" with the user): an HMAC under a key derived
// from the network key, so it is stable across replicas and restarts and
// changes with a key rotation.
func (h *Handler) collectionKey(network string, collectionID int64, purpose, userID string) (string, error) {
	nc, ok := h.networkConfig(network)
	if !ok {
		return "", fmt.Errorf("hub: collection key: unknown network %q", network)
	}
	k, err := hkdf.Key(sha256.New, []byte(nc.Key), nil, collectionKeyInfo+network, 32)
	if err != nil {
		return "", fmt.Errorf("hub: collection key: %w", err)
	}
	mac := hmac.New(sha256.New, k)
	_, _ = mac.Write([]byte(purpose + "\x00" + strconv.FormatInt(collectionID, 10) + "\x00" + userID))
	return hex.EncodeToString(mac.Sum(nil))[:18], nil
}
