package livefyre

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/ssogate/ssogate/tokens"
)

// ReceivedProfile is a pulled profile as the hub keeps it, in canonical
// form (spec §4): unknown keys dropped, booleans as booleans, empty values
// omitted. Its JSON encoding, with fields in this order and maps sorted by
// key, is what the hub's store keeps and compares.
//
// It is not Profile, and DecodeReceived is not ParseProfile, because the
// two ends are lenient in different ways on purpose. The gateway is exact
// in what it sends: ParseProfile refuses a profile that breaks a schema
// rule, so the backend that sent it learns at once (its webhook answers
// 400). The hub receives from backends it cannot fix: DecodeReceived keeps
// what it can read (a wrong-typed field is dropped, a lone string stands
// for a list, 1/"yes"/"on" are booleans, display_rules and
// email_notifications keep keys beyond the documented ones, such as the
// import schema's parent_id, and nickname is kept), and refuses only what
// leaves no usable profile (not an object, no valid id).
type ReceivedProfile struct {
	ID                      string            `json:"id"`
	DisplayName             string            `json:"display_name,omitempty"`
	Name                    *Name             `json:"name,omitempty"`
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

// emailNotificationKeys are the keys of email_notifications that are kept
// (the import schema's parent_id included).
var emailNotificationKeys = []string{"comments", "replies", "likes", "moderator_comments", "moderator_flags", "parent_id"}

// DecodeReceived's refusals.
var (
	ErrNotObject = errors.New("livefyre: pull response is not a JSON object")
	ErrNoID      = errors.New("livefyre: pull response has no id")
	ErrBadID     = errors.New("livefyre: pull response id " + tokens.UserIDRule)
)

// DecodeReceived parses a pull response body leniently: booleans may be
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
func DecodeReceived(body []byte) (*ReceivedProfile, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, ErrNotObject
	}
	if dec.More() {
		return nil, ErrNotObject
	}
	doc := &ReceivedProfile{ID: idString(m["id"])}
	if doc.ID == "" {
		return nil, ErrNoID
	}
	if !tokens.ValidUserID(doc.ID) {
		return nil, ErrBadID
	}
	doc.DisplayName = tokens.SanitizeDisplayName(receivedString(m["display_name"]))
	doc.Email = receivedString(m["email"])
	doc.ImageURL = receivedString(m["image_url"])
	doc.ProfileURL = receivedString(m["profile_url"])
	doc.SettingsURL = receivedString(m["settings_url"])
	doc.Location = receivedString(m["location"])
	doc.Bio = receivedString(m["bio"])
	doc.Nickname = receivedString(m["nickname"])
	doc.Tags = receivedStrings(m["tags"])
	doc.Websites = receivedStrings(m["websites"])
	doc.AutofollowConversations = receivedBool(m["autofollow_conversations"])
	doc.Moderator = receivedBool(m["moderator"])
	doc.GravatarDisabled = receivedBool(m["gravatar_disabled"])

	if obj := receivedObject(m["name"]); obj != nil {
		n := Name{Formatted: receivedString(obj["formatted"]), First: receivedString(obj["first"]), Middle: receivedString(obj["middle"]), Last: receivedString(obj["last"])}
		if n != (Name{}) {
			doc.Name = &n
		}
	}
	if obj := receivedObject(m["email_notifications"]); obj != nil {
		for _, k := range emailNotificationKeys {
			if v := receivedString(obj[k]); v != "" {
				if doc.EmailNotifications == nil {
					doc.EmailNotifications = map[string]string{}
				}
				doc.EmailNotifications[k] = v
			}
		}
	}
	if obj := receivedObject(m["display_rules"]); obj != nil {
		for k, raw := range obj {
			if b := receivedBool(raw); b != nil {
				if doc.DisplayRules == nil {
					doc.DisplayRules = map[string]bool{}
				}
				doc.DisplayRules[k] = *b
			}
		}
	}
	return doc, nil
}

// Canonical is doc's JSON as stored.
func (doc *ReceivedProfile) Canonical() json.RawMessage {
	b, err := json.Marshal(doc)
	if err != nil {
		// Only strings, bools and maps of them: cannot fail.
		panic("livefyre: marshal profile: " + err.Error())
	}
	return b
}

func receivedString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func idString(raw json.RawMessage) string {
	if s := receivedString(raw); s != "" {
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

func receivedStrings(raw json.RawMessage) []string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		if s := receivedString(raw); s != "" {
			return []string{s} // a lone string where a list belongs
		}
		return nil
	}
	var out []string
	for _, item := range items {
		if s := receivedString(item); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func receivedObject(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// boolean reads true/false, their string forms and 0/1; anything else
// (null, "", other values) is unset.
func receivedBool(raw json.RawMessage) *bool {
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
