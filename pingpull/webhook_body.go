package pingpull

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/tokens"
)

// maxWebhookIDLength bounds the webhook-id header (it is a database key).
const maxWebhookIDLength = 256

// webhookBody is the profile-changed webhook payload:
// {"user_id": "...", "profile": {...} | "patch": {...}, "updated_at": "RFC 3339"}.
type webhookBody struct {
	UserID string
	// Profile is the raw profile object, the whole document that replaces
	// the stored one; nil when absent, null or "".
	Profile json.RawMessage
	// Patch is an RFC 7386 JSON Merge Patch object applied to the stored
	// profile; nil when absent, null or "". Never set together with Profile.
	Patch json.RawMessage
	// UpdatedAt is zero when absent.
	UpdatedAt time.Time
}

// fromSource reports whether the profile must be fetched from the profile
// source: the webhook carries neither a profile nor a patch.
func (b *webhookBody) fromSource() bool { return b.Profile == nil && b.Patch == nil }

// parseWebhookBody reads the payload leniently (unknown keys ignored, ""
// and null as unset; updated_at also as Unix seconds) and returns a
// *livefyre.FieldError naming the bad field. It does not validate the profile.
func parseWebhookBody(data []byte) (*webhookBody, error) {
	var fields map[string]json.RawMessage
	if len(data) == 0 || data[0] != '{' {
		if err := json.Unmarshal(data, new(any)); err != nil {
			return nil, &livefyre.FieldError{Field: "body", Message: "is not valid JSON"}
		}
		return nil, &livefyre.FieldError{Field: "body", Message: "must be a JSON object"}
	}
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, &livefyre.FieldError{Field: "body", Message: "is not valid JSON"}
	}
	var b webhookBody
	userID, err := livefyre.DecodeString("user_id", fields["user_id"])
	if err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, &livefyre.FieldError{Field: "user_id", Message: "is required"}
	}
	if tokens.IsReservedUserID(userID) {
		return nil, &livefyre.FieldError{Field: "user_id", Message: `"system" is reserved for the network owner (in any letter case)`}
	}
	if len(userID) > tokens.MaxUserIDLength || !validUserID(userID) {
		return nil, &livefyre.FieldError{Field: "user_id", Message: "must match ^[a-zA-Z0-9_.-]+$ (at most 255 bytes)"}
	}
	b.UserID = userID

	if raw := fields["profile"]; !livefyre.IsNull(raw) {
		if raw[0] != '{' {
			return nil, &livefyre.FieldError{Field: "profile", Message: "must be an object"}
		}
		b.Profile = raw
	}
	if raw := fields["patch"]; !livefyre.IsNull(raw) {
		if raw[0] != '{' {
			return nil, &livefyre.FieldError{Field: "patch", Message: "must be an object (an RFC 7386 JSON Merge Patch)"}
		}
		if b.Profile != nil {
			return nil, &livefyre.FieldError{Field: "patch", Message: "cannot be sent with profile: send the whole profile or a patch"}
		}
		b.Patch = raw
	}

	switch raw := fields["updated_at"]; {
	case livefyre.IsNull(raw):
	case raw[0] == '"':
		s, err := livefyre.DecodeString("updated_at", raw)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
		if err != nil {
			return nil, &livefyre.FieldError{Field: "updated_at", Message: "must be an RFC 3339 time"}
		}
		b.UpdatedAt = t
	default:
		secs, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || secs <= 0 || secs > 1e11 {
			return nil, &livefyre.FieldError{Field: "updated_at", Message: "must be an RFC 3339 time"}
		}
		b.UpdatedAt = time.Unix(0, int64(secs*1e9))
	}
	return &b, nil
}

// parseWebhookSecret reads a "whsec_" + base64 secret (the prefix is
// optional) of at least 16 bytes.
func parseWebhookSecret(secret string) (*standardwebhooks.Webhook, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
	if err != nil {
		return nil, errors.New(`not "whsec_" followed by base64`)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("key is %d bytes, at least 16 are required", len(key))
	}
	return standardwebhooks.NewWebhookRaw(key)
}

// Reasons a webhook signature is refused; each is the 401's error code.
var (
	errSignatureMissing  = errors.New("missing_signature")
	errSignatureBad      = errors.New("invalid_signature")
	errTimestampTooOld   = errors.New("timestamp_too_old")
	errTimestampTooNew   = errors.New("timestamp_too_new")
	errTimestampMalforme = errors.New("invalid_timestamp")
)

// verifyWebhook checks the Standard Webhooks headers against body: the
// timestamp within tolerance of now (our clock, not the library's), and a
// v1 signature matching any of the secrets.
func verifyWebhook(secrets []*standardwebhooks.Webhook, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id := header.Get(standardwebhooks.HeaderWebhookID)
	ts := header.Get(standardwebhooks.HeaderWebhookTimestamp)
	sig := header.Get(standardwebhooks.HeaderWebhookSignature)
	if id == "" || ts == "" || sig == "" {
		return errSignatureMissing
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errTimestampMalforme
	}
	sent := time.Unix(secs, 0)
	switch {
	case now.Sub(sent) > tolerance:
		return errTimestampTooOld
	case sent.Sub(now) > tolerance:
		return errTimestampTooNew
	}
	for _, wh := range secrets {
		if wh.VerifyIgnoringTimestamp(body, header) == nil {
			return nil
		}
	}
	return errSignatureBad
}
