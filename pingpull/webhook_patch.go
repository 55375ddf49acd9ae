package pingpull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/ssogate/ssogate/livefyre"
)

// patchProfile applies patch (RFC 7386) to the stored canonical profile and
// returns the result's canonical JSON, or a *livefyre.FieldError under "patch" when
// the result is not a valid profile.
func patchProfile(userID string, stored, patch json.RawMessage) (json.RawMessage, error) {
	merged, err := mergePatch(stored, patch)
	if err != nil {
		return nil, &livefyre.FieldError{Field: "patch", Message: "is not a valid JSON Merge Patch"}
	}
	p, err := livefyre.DecodeProfile(merged)
	if err != nil {
		return nil, livefyre.PrefixField("patch", err)
	}
	if p.ID == "" {
		p.ID = userID
	}
	if p.ID != userID {
		return nil, &livefyre.FieldError{Field: "patch.id", Message: "must equal user_id"}
	}
	if err := p.Validate(); err != nil {
		return nil, livefyre.PrefixField("patch", err)
	}
	return p.Canonical()
}

// mergePatch is RFC 7386 applied to a JSON document: members of patch
// replace doc's, null members remove them, objects merge recursively,
// anything else replaces doc whole.
func mergePatch(doc, patch []byte) ([]byte, error) {
	// The library answers an object patch on a non-object document with an
	// error, where RFC 7386 replaces the document by {} first; do that here.
	if t := bytes.TrimSpace(patch); len(t) > 0 && t[0] == '{' {
		if d := bytes.TrimSpace(doc); len(d) == 0 || d[0] != '{' {
			doc = []byte(`{}`)
		}
	}
	out, err := jsonpatch.MergePatch(doc, patch)
	if err != nil {
		return nil, fmt.Errorf("pingpull: merge patch: %w", err)
	}
	return out, nil
}

// webhookProfile returns the canonical profile of a webhook that carries
// the whole document (from the body, or from the profile source when the
// body has neither profile nor patch), and nil for a patch, which can only
// be applied inside the transaction (runWebhooks).
func (h *Handler) webhookProfile(ctx context.Context, payload *webhookBody) (json.RawMessage, error) {
	var p *livefyre.Profile
	switch {
	case payload.Patch != nil:
		return nil, nil
	case payload.Profile == nil:
		if h.cfg.ProfileSourceURL == "" {
			return nil, &livefyre.FieldError{Field: "profile", Message: "is required (no profile source is configured)"}
		}
		fetched, err := h.fetchProfile(ctx, payload.UserID)
		if err != nil {
			return nil, err
		}
		p = fetched
	default:
		decoded, err := livefyre.DecodeProfile(payload.Profile)
		if err != nil {
			return nil, livefyre.PrefixField("profile", err)
		}
		if decoded.ID == "" {
			decoded.ID = payload.UserID
		}
		if decoded.ID != payload.UserID {
			return nil, &livefyre.FieldError{Field: "profile.id", Message: "must equal user_id"}
		}
		if err := decoded.Validate(); err != nil {
			return nil, livefyre.PrefixField("profile", err)
		}
		p = decoded
	}
	return p.Canonical()
}

// refuseInvalidProfile answers 400 naming the field, and records the
// refusal on the user's timeline, when err is a *livefyre.FieldError; it reports
// whether it answered.
func (h *Handler) refuseInvalidProfile(w http.ResponseWriter, r *http.Request, webhookID, userID string, err error) bool {
	var fe *livefyre.FieldError
	if !errors.As(err, &fe) {
		return false
	}
	h.timeline(r.Context(), userID, "webhook.refused", map[string]any{"webhook_id": webhookID, "status": http.StatusBadRequest, "reason": fe.Field + ": " + fe.Message})
	h.refuseWebhook(w, r, "bad_request", err)
	return true
}
