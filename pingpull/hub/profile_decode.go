package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/ssogate/ssogate/tokens"
)

// remoteProfileDoc is a pulled profile in canonical form (spec §4): unknown
// keys dropped, booleans as booleans, empty values omitted. Its JSON
// encoding, with fields in this order and maps sorted by key, is what the
// store keeps and compares.
type remoteProfileDoc struct {
	ID                      string            `json:"id"`
	DisplayName             string            `json:"display_name,omitempty"`
	Name                    *profileName      `json:"name,omitempty"`
	Email                   string            `json:"email,omitempty"`
	ImageURL                string            `json:"image_url,omitempty"`
	ProfileURL              string            `json:"profile_url,omitempty"`
	SettingsURL             string            `json:"settings_url,omitempty"`
	Tags                    []string          `json:"tags,omitempty"`
	AutofollowConversations *bool             `json:"autofollow_conversations,omitempty"`
	EmailNotifications      map[string]string `json:"email_notifications,omitempty"`
	Location                string            `json:"location,omitempty"`
	Bio                     string            `json:"bio,omitempty"`
	Websites                []string          `json:"websites,omitempty"`
	DisplayRules            map[string]bool   `json:"display_rules,omitempty"`
	Moderator               *bool             `json:"moderator,omitempty"`
	GravatarDisabled        *bool             `json:"gravatar_disabled,omitempty"`
	Nickname                string            `json:"nickname,omitempty"`
}

type profileName struct {
	Formatted string `json:"formatted,omitempty"`
	First     string `json:"first,omitempty"`
	Middle    string `json:"middle,omitempty"`
	Last      string `json:"last,omitempty"`
}

// emailNotificationKeys are the keys of email_notifications that are kept
// (the import schema's parent_id included).
var emailNotificationKeys = []string{"comments", "replies", "likes", "moderator_comments", "moderator_flags", "parent_id"}

var (
	errNotObject = errors.New("hub: pull response is not a JSON object")
	errNoID      = errors.New("hub: pull response has no id")
	errBadID     = errors.New("hub: pull response id " + tokens.UserIDRule)
)

// decodeProfile parses a pull response body leniently: booleans may be
// true, "true", "1", "yes" (and their opposites), "" or null mean unset, a
// field of the wrong type is dropped rather than failing the whole profile,
// unknown keys are ignored. Only a body that is not a JSON object, or has no
// usable id (tokens.ValidUserID), is an error. A numeric id is taken as its
// digits.
//
// The display name is repaired rather than refused
// (tokens.SanitizeDisplayName: control and invisible format characters
// dropped, cut to 50 characters): the site's backend is not ours to fix,
// refusing would keep the user's old profile and retry the pull for days,
// and the name the hub keeps and shows is always one a person can read.
func decodeProfile(body []byte) (*remoteProfileDoc, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errNotObject
	}
	if dec.More() {
		return nil, errNotObject
	}
	doc := &remoteProfileDoc{ID: idString(m["id"])}
	if doc.ID == "" {
		return nil, errNoID
	}
	if !tokens.ValidUserID(doc.ID) {
		return nil, errBadID
	}
	doc.DisplayName = tokens.SanitizeDisplayName(str(m["display_name"]))
	doc.Email = str(m["email"])
	doc.ImageURL = str(m["image_url"])
	doc.ProfileURL = str(m["profile_url"])
	doc.SettingsURL = str(m["settings_url"])
	doc.Location = str(m["location"])
	doc.Bio = str(m["bio"])
	doc.Nickname = str(m["nickname"])
	doc.Tags = strList(m["tags"])
	doc.Websites = strList(m["websites"])
	doc.AutofollowConversations = boolean(m["autofollow_conversations"])
	doc.Moderator = boolean(m["moderator"])
	doc.GravatarDisabled = boolean(m["gravatar_disabled"])

	if obj := object(m["name"]); obj != nil {
		n := profileName{Formatted: str(obj["formatted"]), First: str(obj["first"]), Middle: str(obj["middle"]), Last: str(obj["last"])}
		if n != (profileName{}) {
			doc.Name = &n
		}
	}
	if obj := object(m["email_notifications"]); obj != nil {
		for _, k := range emailNotificationKeys {
			if v := str(obj[k]); v != "" {
				if doc.EmailNotifications == nil {
					doc.EmailNotifications = map[string]string{}
				}
				doc.EmailNotifications[k] = v
			}
		}
	}
	if obj := object(m["display_rules"]); obj != nil {
		for k, raw := range obj {
			if b := boolean(raw); b != nil {
				if doc.DisplayRules == nil {
					doc.DisplayRules = map[string]bool{}
				}
				doc.DisplayRules[k] = *b
			}
		}
	}
	return doc, nil
}

// canonical is doc's JSON as stored.
func (doc *remoteProfileDoc) canonical() json.RawMessage {
	b, err := json.Marshal(doc)
	if err != nil {
		// Only strings, bools and maps of them: cannot fail.
		panic("hub: marshal profile: " + err.Error())
	}
	return b
}

func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func idString(raw json.RawMessage) string {
	if s := str(raw); s != "" {
		return s
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&n) != nil {
		return ""
	}
	if _, err := n.Int64(); err != nil {
		return "" // 1.5 or 1e3 is not an id
	}
	return n.String()
}

func strList(raw json.RawMessage) []string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		if s := str(raw); s != "" {
			return []string{s} // a lone string where a list belongs
		}
		return nil
	}
	var out []string
	for _, item := range items {
		if s := str(item); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func object(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// boolean reads true/false, their string forms and 0/1; anything else
// (null, "", other values) is unset.
func boolean(raw json.RawMessage) *bool {
	t, f := true, false
	var b bool
	if json.Unmarshal(raw, &b) == nil && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return &b
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = strings.TrimSpace(string(raw)) // a number
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return &t
	case "false", "0", "no", "off":
		return &f
	}
	return nil
}

// changedFields lists the top-level keys whose values differ between two
// canonical profiles (every key of after when before is empty), sorted.
func changedFields(before, after json.RawMessage) []string {
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	var changed []string
	for k, v := range a {
		if old, ok := b[k]; !ok || !bytes.Equal(old, v) {
			changed = append(changed, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	return changed
}
