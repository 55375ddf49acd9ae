package pingpull

import (
	"encoding/json"

	"github.com/ssogate/ssogate/livefyre"
)

// CanonicalProfile is livefyre.CanonicalProfileRepairDisplayName, as a
// method so that cmd can hand it to packages that must not import pingpull
// (the login side stores profiles built from ID token claims). Unlike the
// webhook, it repairs the display name instead of refusing it: the name
// comes from an OpenID provider the user cannot correct it at, and
// refusing it would lock the user out.
func (h *Handler) CanonicalProfile(raw json.RawMessage) (json.RawMessage, error) {
	return livefyre.CanonicalProfileRepairDisplayName(raw)
}
