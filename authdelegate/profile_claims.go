package authdelegate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ssogate/ssogate/store"
)

// maxDisplayNameRunes is the userAuthToken display_name limit (spec §2.2).
const maxDisplayNameRunes = 50

// profileFromClaims merges the mapped claims into the existing profile
// document (nil for a new user). Fields the mapping does not produce, or
// that the provider left empty, keep their stored values, so a login never
// erases what the backend's webhook set (bio, tags, …). With overwrite
// false the claims only fill fields the document lacks.
func (m ClaimMapping) profileFromClaims(userID string, raw map[string]any, existing json.RawMessage, overwrite bool) (json.RawMessage, error) {
	doc := map[string]any{}
	if len(existing) > 0 {
		if err := json.Unmarshal(existing, &doc); err != nil {
			return nil, fmt.Errorf("authdelegate: stored profile is not a JSON object: %w", err)
		}
	}
	doc["id"] = userID
	has := func(field string) bool {
		v, ok := doc[field].(string)
		return ok && v != ""
	}
	if overwrite || !has("display_name") {
		for _, name := range m.DisplayName {
			if v := strings.TrimSpace(claimString(raw, name)); v != "" {
				doc["display_name"] = v
				break
			}
		}
	}
	if !has("display_name") {
		doc["display_name"] = userID
	}
	set := func(field, claim string) {
		if v := strings.TrimSpace(claimString(raw, claim)); v != "" && (overwrite || !has(field)) {
			doc[field] = v
		}
	}
	if verified, ok := raw["email_verified"].(bool); !ok || verified {
		set("email", m.Email)
	}
	set("image_url", m.ImageURL)
	set("profile_url", m.ProfileURL)
	set("settings_url", m.SettingsURL)
	first := strings.TrimSpace(claimString(raw, m.FirstName))
	last := strings.TrimSpace(claimString(raw, m.LastName))
	if first != "" || last != "" {
		name, _ := doc["name"].(map[string]any)
		if name == nil {
			name = map[string]any{}
		}
		if _, ok := name["first"]; first != "" && (overwrite || !ok) {
			name["first"] = first
		}
		if _, ok := name["last"]; last != "" && (overwrite || !ok) {
			name["last"] = last
		}
		doc["name"] = name
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("authdelegate: encode profile: %w", err)
	}
	return out, nil
}

// claimsUpdatedAt is the provider's updated_at claim, zero when absent. The
// claim has whole seconds; it is read as the end of its second, so that a
// change made in the same second as the stored one is not taken for stale.
func claimsUpdatedAt(raw map[string]any) time.Time {
	if v, ok := raw["updated_at"].(float64); ok && v > 0 && v < 1e11 {
		return time.Unix(int64(v)+1, 0).Add(-time.Nanosecond).UTC()
	}
	return time.Time{}
}

// upsertProfile writes the claims into the user's profile inside tx. When
// the version moved (created or updated) it calls ProfileChangedFunc and
// notifies ChannelProfileChanged in the same transaction.
//
// Which side wins follows the version rule of the design: the newer change.
// Claims with the provider's updated_at are a change at that time: they
// overwrite the mapped fields unless the stored profile is newer (a later
// webhook), in which case the store refuses them as stale. Claims without
// updated_at cannot be placed in time, so they create the profile of a new
// user and fill fields it lacks, but never overwrite what the backend's
// webhook wrote.
func (h *Handler) upsertProfile(ctx context.Context, tx store.Tx, userID string, raw map[string]any) (*store.Profile, error) {
	now := h.cfg.Now()
	// Lock the row (PostgreSQL) so that a concurrent webhook cannot slip in
	// between our read and our write.
	if _, err := tx.ProfileVersionForUpdate(ctx, userID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("authdelegate: lock profile: %w", err)
	}
	var existing json.RawMessage
	updatedAt := claimsUpdatedAt(raw)
	overwrite := !updatedAt.IsZero()
	current, err := tx.ProfileGet(ctx, userID)
	switch {
	case err == nil:
		existing = current.Data
		if updatedAt.IsZero() {
			updatedAt = current.UpdatedAt
		}
	case errors.Is(err, store.ErrNotFound):
		if updatedAt.IsZero() {
			updatedAt = now
		}
	default:
		return nil, fmt.Errorf("authdelegate: read profile: %w", err)
	}
	doc, err := h.cfg.ClaimMapping.profileFromClaims(userID, raw, existing, overwrite)
	if err != nil {
		return nil, err
	}
	canonical, err := h.cfg.CanonicalProfileFunc(doc)
	if err != nil {
		// One claim the profile schema refuses (an odd picture URL) must not
		// lock the user out: retry with the display name alone.
		h.log.WarnContext(ctx, "authdelegate: profile from claims refused; retrying with the display name only",
			slog.String("user_id", userID), slog.String("error", err.Error()))
		minimal := ClaimMapping{DisplayName: h.cfg.ClaimMapping.DisplayName, Email: "-", ImageURL: "-", ProfileURL: "-", SettingsURL: "-", FirstName: "-", LastName: "-"}
		if doc, err = minimal.profileFromClaims(userID, raw, existing, overwrite); err != nil {
			return nil, err
		}
		if canonical, err = h.cfg.CanonicalProfileFunc(doc); err != nil {
			return nil, fmt.Errorf("authdelegate: canonical profile: %w", err)
		}
	}
	p, status, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: userID, Data: canonical, UpdatedAt: updatedAt, Now: now})
	if err != nil {
		return nil, fmt.Errorf("authdelegate: upsert profile: %w", err)
	}
	if status == store.ProfileCreated || status == store.ProfileUpdated {
		if h.cfg.ProfileChangedFunc != nil {
			if err := h.cfg.ProfileChangedFunc(ctx, tx, userID); err != nil {
				return nil, fmt.Errorf("authdelegate: profile changed hook: %w", err)
			}
		}
		payload, _ := json.Marshal(store.ProfileEvent{UserID: userID, Version: p.Version})
		if err := tx.Notify(ctx, store.ChannelProfileChanged, payload); err != nil {
			return nil, fmt.Errorf("authdelegate: notify profile changed: %w", err)
		}
	}
	if p == nil {
		return nil, errors.New("authdelegate: upsert profile: no row returned")
	}
	return p, nil
}

// displayName is the profile's display_name cut to the token limit, or the
// user id when the document has none.
func displayName(p *store.Profile) string {
	var doc struct {
		DisplayName string `json:"display_name"`
	}
	if p != nil {
		_ = json.Unmarshal(p.Data, &doc)
	}
	name := strings.TrimSpace(doc.DisplayName)
	if name == "" && p != nil {
		name = p.UserID
	}
	if utf8.RuneCountInString(name) > maxDisplayNameRunes {
		name = string([]rune(name)[:maxDisplayNameRunes])
	}
	return name
}
