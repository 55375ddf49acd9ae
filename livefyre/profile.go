package livefyre

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ssogate/ssogate/tokens"
)

// Limits of the pull-response schema (spec §4).
const (
	// MaxDisplayNameLength is the documented display name limit, in
	// characters.
	MaxDisplayNameLength = tokens.MaxDisplayNameLength
	// MaxWebsites is the documented limit on Profile.Websites.
	MaxWebsites = 2
	// maxIDLength follows the import schema (1..255).
	maxIDLength = tokens.MaxUserIDLength
	// maxURLLength bounds every URL field.
	maxURLLength = 2048
	// maxEmailLength is the SMTP path limit.
	maxEmailLength = 254
)

// Notification frequencies allowed in EmailNotifications.
const (
	NotifyImmediately = "immediately"
	NotifyOften       = "often"
	NotifyNever       = "never"
)

// Profile is a user's remote profile, the JSON the pull endpoint answers
// (spec §4). Reading (ParseProfile) is lenient; writing (Canonical) is exact:
// fields in this order, empty fields left out, booleans as JSON booleans.
type Profile struct {
	// ID is the user's id; required, ^[a-zA-Z0-9_.-]+$, at most 255 bytes.
	ID string `json:"id"`
	// DisplayName is required: at most 50 characters, no HTML.
	DisplayName string `json:"display_name"`
	Name        *Name  `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	// ImageURL, ProfileURL and SettingsURL are absolute http(s) URLs.
	ImageURL    string `json:"image_url,omitempty"`
	ProfileURL  string `json:"profile_url,omitempty"`
	SettingsURL string `json:"settings_url,omitempty"`
	// Tags are 1–63 characters of [A-Za-z0-9_] each, without duplicates.
	Tags                    []string            `json:"tags,omitempty"`
	AutofollowConversations *bool               `json:"autofollow_conversations,omitempty"`
	EmailNotifications      *EmailNotifications `json:"email_notifications,omitempty"`
	Location                string              `json:"location,omitempty"`
	Bio                     string              `json:"bio,omitempty"`
	// Websites are at most two absolute http(s) URLs.
	Websites         []string      `json:"websites,omitempty"`
	DisplayRules     *DisplayRules `json:"display_rules,omitempty"`
	Moderator        *bool         `json:"moderator,omitempty"`
	GravatarDisabled *bool         `json:"gravatar_disabled,omitempty"`
}

// Name is Profile.Name.
type Name struct {
	Formatted string `json:"formatted,omitempty"`
	First     string `json:"first,omitempty"`
	Middle    string `json:"middle,omitempty"`
	Last      string `json:"last,omitempty"`
}

// EmailNotifications is Profile.EmailNotifications; each value is
// "immediately", "often" or "never".
type EmailNotifications struct {
	Comments          string `json:"comments,omitempty"`
	Replies           string `json:"replies,omitempty"`
	Likes             string `json:"likes,omitempty"`
	ModeratorComments string `json:"moderator_comments,omitempty"`
	ModeratorFlags    string `json:"moderator_flags,omitempty"`
}

// DisplayRules is Profile.DisplayRules: which fields are public.
type DisplayRules struct {
	Bio              *bool `json:"bio,omitempty"`
	Location         *bool `json:"location,omitempty"`
	Gender           *bool `json:"gender,omitempty"`
	Name             *bool `json:"name,omitempty"`
	Image            *bool `json:"image,omitempty"`
	RemoteProfileURL *bool `json:"remote_profile_url,omitempty"`
}

// FieldError names the input field that is wrong. Field is a path such as
// "display_name", "tags[2]" or "email_notifications.likes".
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	return "livefyre: " + e.Field + ": " + e.Message
}

// ErrInvalidProfile is matched (errors.Is) by every *FieldError.
var ErrInvalidProfile = errors.New("livefyre: invalid profile")

// Is makes errors.Is(err, ErrInvalidProfile) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidProfile }

// PrefixField returns err with prefix added to its field path when it is a
// *FieldError.
func PrefixField(prefix string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: prefix + "." + fe.Field, Message: fe.Message}
	}
	return err
}

// ParseProfile reads a profile leniently and validates it: booleans may be
// JSON booleans or the strings "true"/"false"; "" and null mean unset for
// every field; unknown keys are ignored; an integer id is taken as its
// decimal text. Errors are *FieldError.
func ParseProfile(data []byte) (*Profile, error) {
	p, err := DecodeProfile(data)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// CanonicalProfile parses raw leniently, validates it and returns its
// canonical JSON (the bytes the store keeps and the pull endpoint serves).
func CanonicalProfile(raw []byte) (json.RawMessage, error) {
	p, err := ParseProfile(raw)
	if err != nil {
		return nil, err
	}
	return p.Canonical()
}

// CanonicalProfileRepairDisplayName is CanonicalProfile for a profile
// whose display name is repaired (tokens.SanitizeDisplayName; the id when
// nothing is left) instead of refused. The gateway's login side uses it:
// the name comes from an OpenID provider the user cannot correct it at, and
// refusing it would lock the user out. The webhook, whose sender can fix
// its data, uses CanonicalProfile and refuses.
func CanonicalProfileRepairDisplayName(raw []byte) (json.RawMessage, error) {
	p, err := DecodeProfile(raw)
	if err != nil {
		return nil, err
	}
	if p.DisplayName = tokens.SanitizeDisplayName(p.DisplayName); p.DisplayName == "" {
		p.DisplayName = p.ID
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.Canonical()
}

// Canonical returns the exact JSON of p: fixed field order, no empty
// fields, real booleans. It does not validate.
func (p *Profile) Canonical() (json.RawMessage, error) {
	c := *p
	c.normalize()
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("livefyre: encode profile: %w", err)
	}
	return b, nil
}

// normalize drops empty containers so that "set but empty" and "unset"
// encode the same way.
func (p *Profile) normalize() {
	if p.Name != nil && *p.Name == (Name{}) {
		p.Name = nil
	}
	if p.EmailNotifications != nil && *p.EmailNotifications == (EmailNotifications{}) {
		p.EmailNotifications = nil
	}
	if p.DisplayRules != nil && *p.DisplayRules == (DisplayRules{}) {
		p.DisplayRules = nil
	}
	if len(p.Tags) == 0 {
		p.Tags = nil
	}
	if len(p.Websites) == 0 {
		p.Websites = nil
	}
}

// validTag reports whether tag matches ^[A-Za-z0-9_]{1,63}$.
func validTag(tag string) bool {
	if tag == "" || len(tag) > 63 {
		return false
	}
	for i := 0; i < len(tag); i++ {
		switch b := tag[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '_':
		default:
			return false
		}
	}
	return true
}

var (
	entityPattern = regexp.MustCompile(`&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);`)
)

// Validate checks the schema rules of spec §4 and returns the first
// problem as a *FieldError.
func (p *Profile) Validate() error {
	switch {
	case p.ID == "":
		return &FieldError{"id", "is required"}
	case len(p.ID) > maxIDLength:
		return &FieldError{"id", fmt.Sprintf("is longer than %d bytes", maxIDLength)}
	case !tokens.ValidUserID(p.ID):
		return &FieldError{"id", tokens.UserIDRule}
	}
	if err := validateDisplayName(p.DisplayName); err != nil {
		return err
	}
	if p.Name != nil {
		for _, f := range []strField{{"formatted", p.Name.Formatted}, {"first", p.Name.First}, {"middle", p.Name.Middle}, {"last", p.Name.Last}} {
			if err := validateText("name."+f.name, f.value); err != nil {
				return err
			}
		}
	}
	if p.Email != "" && !validEmail(p.Email) {
		return &FieldError{"email", "is not an email address"}
	}
	for _, f := range []strField{{"image_url", p.ImageURL}, {"profile_url", p.ProfileURL}, {"settings_url", p.SettingsURL}} {
		if f.value != "" {
			if err := validateURL(f.name, f.value); err != nil {
				return err
			}
		}
	}
	// A set, not a search of the list: a 64 KiB body holds some 6,500 tags.
	seen := make(map[string]struct{}, len(p.Tags))
	for i, tag := range p.Tags {
		if !validTag(tag) {
			return &FieldError{fmt.Sprintf("tags[%d]", i), "must be 1 to 63 characters of A-Z, a-z, 0-9 and _"}
		}
		if _, dup := seen[tag]; dup {
			return &FieldError{fmt.Sprintf("tags[%d]", i), "is a duplicate"}
		}
		seen[tag] = struct{}{}
	}
	if n := p.EmailNotifications; n != nil {
		for _, f := range []strField{{"comments", n.Comments}, {"replies", n.Replies}, {"likes", n.Likes}, {"moderator_comments", n.ModeratorComments}, {"moderator_flags", n.ModeratorFlags}} {
			switch f.value {
			case "", NotifyImmediately, NotifyOften, NotifyNever:
			default:
				return &FieldError{"email_notifications." + f.name, `must be "immediately", "often" or "never"`}
			}
		}
	}
	if err := validateText("location", p.Location); err != nil {
		return err
	}
	if err := validateText("bio", p.Bio); err != nil {
		return err
	}
	if len(p.Websites) > MaxWebsites {
		return &FieldError{"websites", fmt.Sprintf("has more than %d entries", MaxWebsites)}
	}
	for i, site := range p.Websites {
		if err := validateURL(fmt.Sprintf("websites[%d]", i), site); err != nil {
			return err
		}
	}
	return nil
}

// validateDisplayName refuses, rather than repairs, a display name that
// is empty, too long, holds HTML, or holds control or invisible format
// characters (tokens.ValidateDisplayName): the gateway is exact in what it
// sends, and the backend that sent such a name learns of it at once.
func validateDisplayName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return &FieldError{"display_name", "is required"}
	case utf8.RuneCountInString(name) > MaxDisplayNameLength:
		return &FieldError{"display_name", fmt.Sprintf("is longer than %d characters", MaxDisplayNameLength)}
	case strings.ContainsAny(name, "<>"):
		return &FieldError{"display_name", "must not contain HTML"}
	case entityPattern.MatchString(name):
		return &FieldError{"display_name", "must not contain HTML entities"}
	}
	if err := tokens.ValidateDisplayName(name); err != nil {
		return &FieldError{"display_name", "must not contain control characters or invisible formatting characters (bidirectional overrides, zero-width spaces; the zero-width joiner and non-joiner are allowed)"}
	}
	return nil
}

// validateText refuses control characters other than newline and tab.
func validateText(field, s string) error {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return &FieldError{field, "contains a control character"}
		}
	}
	return nil
}

func validateURL(field, s string) error {
	if len(s) > maxURLLength {
		return &FieldError{field, fmt.Sprintf("is longer than %d bytes", maxURLLength)}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &FieldError{field, "must be an absolute http or https URL"}
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return &FieldError{field, "must not contain spaces or control characters"}
	}
	return nil
}

func validEmail(s string) bool {
	if len(s) > maxEmailLength || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '<' || r == '>' }) {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.Contains(domain, "@") &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// DecodeProfile is ParseProfile's lenient reader without the validation:
// it checks types only, so that a caller can amend the profile (fill in an
// id, merge a patch) before Validate.
func DecodeProfile(data []byte) (*Profile, error) {
	fields, err := decodeObject("", data)
	if err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, &FieldError{"profile", "must be a JSON object"}
	}
	var p Profile
	var errs error
	str := func(key string, dst *string) {
		if errs == nil {
			*dst, errs = DecodeString(key, fields[key])
		}
	}
	boolean := func(key string, dst **bool) {
		if errs == nil {
			*dst, errs = decodeBool(key, fields[key])
		}
	}
	strs := func(key string, dst *[]string) {
		if errs == nil {
			*dst, errs = decodeStrings(key, fields[key])
		}
	}

	if raw := fields["id"]; len(raw) > 0 && raw[0] != '"' && !IsNull(raw) {
		// Backends that keep numeric ids often send them as numbers.
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			return nil, &FieldError{"id", "must be a string"}
		}
		p.ID = strconv.FormatUint(n, 10)
	} else {
		str("id", &p.ID)
	}
	str("display_name", &p.DisplayName)
	if errs == nil {
		var name map[string]json.RawMessage
		if name, errs = decodeObject("name", fields["name"]); name != nil {
			p.Name = &Name{}
			for _, f := range []strDst{{"formatted", &p.Name.Formatted}, {"first", &p.Name.First}, {"middle", &p.Name.Middle}, {"last", &p.Name.Last}} {
				if errs == nil {
					*f.dst, errs = DecodeString("name."+f.name, name[f.name])
				}
			}
		}
	}
	str("email", &p.Email)
	str("image_url", &p.ImageURL)
	str("profile_url", &p.ProfileURL)
	str("settings_url", &p.SettingsURL)
	strs("tags", &p.Tags)
	p.Tags = dedupe(p.Tags)
	boolean("autofollow_conversations", &p.AutofollowConversations)
	if errs == nil {
		var notify map[string]json.RawMessage
		if notify, errs = decodeObject("email_notifications", fields["email_notifications"]); notify != nil {
			n := &EmailNotifications{}
			for _, f := range []strDst{{"comments", &n.Comments}, {"replies", &n.Replies}, {"likes", &n.Likes}, {"moderator_comments", &n.ModeratorComments}, {"moderator_flags", &n.ModeratorFlags}} {
				if errs == nil {
					*f.dst, errs = DecodeString("email_notifications."+f.name, notify[f.name])
					*f.dst = strings.ToLower(strings.TrimSpace(*f.dst))
				}
			}
			p.EmailNotifications = n
		}
	}
	str("location", &p.Location)
	str("bio", &p.Bio)
	strs("websites", &p.Websites)
	if errs == nil {
		var rules map[string]json.RawMessage
		if rules, errs = decodeObject("display_rules", fields["display_rules"]); rules != nil {
			r := &DisplayRules{}
			for _, f := range []boolDst{{"bio", &r.Bio}, {"location", &r.Location}, {"gender", &r.Gender}, {"name", &r.Name}, {"image", &r.Image}, {"remote_profile_url", &r.RemoteProfileURL}} {
				if errs == nil {
					*f.dst, errs = decodeBool("display_rules."+f.name, rules[f.name])
				}
			}
			p.DisplayRules = r
		}
	}
	boolean("moderator", &p.Moderator)
	boolean("gravatar_disabled", &p.GravatarDisabled)
	if errs != nil {
		return nil, errs
	}
	p.normalize()
	return &p, nil
}

// Field names paired with values or destinations, in schema order, so that
// the first problem reported is always the same one.
type (
	strField struct{ name, value string }
	strDst   struct {
		name string
		dst  *string
	}
	boolDst struct {
		name string
		dst  **bool
	}
)

// dedupe keeps the first of equal strings, in order, in linear time.
func dedupe(items []string) []string {
	if len(items) == 0 {
		return nil
	}
	out := make([]string, 0, len(items))
	seen := make(map[string]struct{}, len(items))
	for _, s := range items {
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	return out
}

// IsNull reports whether raw is absent, null or "": unset, for every field
// of a leniently read object.
func IsNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null")) || bytes.Equal(raw, []byte(`""`))
}

// decodeObject returns nil for an absent, null or "" value.
func decodeObject(field string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	if IsNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		if field == "" {
			return nil, &FieldError{"profile", "must be a JSON object"}
		}
		return nil, &FieldError{field, "must be an object"}
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// DecodeString reads a string field leniently (IsNull is ""); anything but
// a JSON string is a *FieldError naming field.
func DecodeString(field string, raw json.RawMessage) (string, error) {
	if IsNull(raw) {
		return "", nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", &FieldError{field, "must be a string"}
	}
	return s, nil
}

func decodeBool(field string, raw json.RawMessage) (*bool, error) {
	if IsNull(raw) {
		return nil, nil
	}
	var v bool
	switch s := strings.TrimSpace(strings.Trim(string(raw), `"`)); {
	case strings.EqualFold(s, "true"):
		v = true
	case strings.EqualFold(s, "false"):
		v = false
	default:
		return nil, &FieldError{field, `must be a boolean (true, false, "true" or "false")`}
	}
	return &v, nil
}

func decodeStrings(field string, raw json.RawMessage) ([]string, error) {
	if IsNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, &FieldError{field, "must be an array of strings"}
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, err := DecodeString(field, item)
		if err != nil {
			return nil, &FieldError{fmt.Sprintf("%s[%d]", field, i), err.(*FieldError).Message}
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}
