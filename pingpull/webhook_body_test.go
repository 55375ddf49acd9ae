package pingpull

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
)

func TestParseWebhookBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantUser  string
		wantProf  bool
		wantTime  time.Time
		wantField string
	}{
		{name: "user only", in: `{"user_id":"u1"}`, wantUser: "u1"},
		{name: "with profile", in: `{"user_id":"u1","profile":{"display_name":"Ann"}}`, wantUser: "u1", wantProf: true},
		{name: "null profile", in: `{"user_id":"u1","profile":null}`, wantUser: "u1"},
		{name: "empty profile string", in: `{"user_id":"u1","profile":""}`, wantUser: "u1"},
		{name: "updated_at", in: `{"user_id":"u1","updated_at":"2024-05-01T10:00:00.5+02:00"}`, wantUser: "u1", wantTime: time.Date(2024, 5, 1, 8, 0, 0, 5e8, time.UTC)},
		{name: "updated_at unix", in: `{"user_id":"u1","updated_at":1714550400}`, wantUser: "u1", wantTime: time.Unix(1714550400, 0)},
		{name: "empty updated_at", in: `{"user_id":"u1","updated_at":""}`, wantUser: "u1"},
		{name: "unknown keys", in: `{"user_id":"u1","type":"user.updated"}`, wantUser: "u1"},
		{name: "broken JSON", in: `{"user_id":`, wantField: "body"},
		{name: "empty body", in: ``, wantField: "body"},
		{name: "array", in: `[{"user_id":"u1"}]`, wantField: "body"},
		{name: "missing user", in: `{}`, wantField: "user_id"},
		{name: "numeric user", in: `{"user_id":5}`, wantField: "user_id"},
		{name: "bad user", in: `{"user_id":"a b"}`, wantField: "user_id"},
		{name: "reserved user", in: `{"user_id":"System"}`, wantField: "user_id"},
		{name: "profile not object", in: `{"user_id":"u1","profile":[1]}`, wantField: "profile"},
		{name: "bad updated_at", in: `{"user_id":"u1","updated_at":"yesterday"}`, wantField: "updated_at"},
		{name: "bad updated_at type", in: `{"user_id":"u1","updated_at":true}`, wantField: "updated_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseWebhookBody([]byte(tt.in))
			if tt.wantField != "" {
				var fe *livefyre.FieldError
				require.True(t, errors.As(err, &fe), "err = %v", err)
				require.Equal(t, tt.wantField, fe.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantUser, got.UserID)
			require.Equal(t, tt.wantProf, got.Profile != nil)
			require.True(t, tt.wantTime.Equal(got.UpdatedAt), "updated_at = %v", got.UpdatedAt)
		})
	}
}

func FuzzWebhookBody(f *testing.F) {
	f.Add([]byte(`{"user_id":"u1","profile":{"id":"u1","display_name":"Ann"},"updated_at":"2024-05-01T10:00:00Z"}`))
	f.Add([]byte(`{"user_id":"u1","updated_at":1714550400.5}`))
	f.Add([]byte(`{"user_id":"u1","profile":""}`))
	f.Add([]byte(`nul`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseWebhookBody(data)
		if err != nil {
			var fe *livefyre.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if !validUserID(b.UserID) {
			t.Fatalf("accepted invalid user id %q", b.UserID)
		}
		if b.Profile != nil && b.Profile[0] != '{' {
			t.Fatalf("accepted non-object profile %s", b.Profile)
		}
	})
}

// signedHeader signs body the way a Standard Webhooks sender does.
func signedHeader(t testing.TB, secret, id string, at time.Time, body []byte) http.Header {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	sig, err := wh.Sign(id, at, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

func testSecret(b byte) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune('a'+b)), 32)))
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"user_id":"u1"}`)
	oldSecret, newSecret, otherSecret := testSecret(0), testSecret(1), testSecret(2)
	var secrets []*standardwebhooks.Webhook
	for _, s := range []string{newSecret, oldSecret} {
		wh, err := parseWebhookSecret(s)
		require.NoError(t, err)
		secrets = append(secrets, wh)
	}
	tests := []struct {
		name   string
		header func() http.Header
		body   []byte
		want   error
	}{
		{"new secret", func() http.Header { return signedHeader(t, newSecret, "msg_1", now, body) }, body, nil},
		{"old secret", func() http.Header { return signedHeader(t, oldSecret, "msg_1", now, body) }, body, nil},
		{"several signatures, one good", func() http.Header {
			h := signedHeader(t, otherSecret, "msg_1", now, body)
			good := signedHeader(t, oldSecret, "msg_1", now, body)
			h.Set("webhook-signature", h.Get("webhook-signature")+" "+good.Get("webhook-signature"))
			return h
		}, body, nil},
		{"edge of tolerance", func() http.Header { return signedHeader(t, newSecret, "msg_1", now.Add(-5*time.Minute), body) }, body, nil},
		{"unknown secret", func() http.Header { return signedHeader(t, otherSecret, "msg_1", now, body) }, body, errSignatureBad},
		{"body changed", func() http.Header { return signedHeader(t, newSecret, "msg_1", now, body) }, []byte(`{"user_id":"u2"}`), errSignatureBad},
		{"id changed", func() http.Header {
			h := signedHeader(t, newSecret, "msg_1", now, body)
			h.Set("webhook-id", "msg_2")
			return h
		}, body, errSignatureBad},
		{"v2 signature ignored", func() http.Header {
			h := signedHeader(t, newSecret, "msg_1", now, body)
			h.Set("webhook-signature", strings.Replace(h.Get("webhook-signature"), "v1,", "v2,", 1))
			return h
		}, body, errSignatureBad},
		{"too old", func() http.Header {
			return signedHeader(t, newSecret, "msg_1", now.Add(-5*time.Minute-time.Second), body)
		}, body, errTimestampTooOld},
		{"too new", func() http.Header {
			return signedHeader(t, newSecret, "msg_1", now.Add(5*time.Minute+time.Second), body)
		}, body, errTimestampTooNew},
		{"timestamp not a number", func() http.Header {
			h := signedHeader(t, newSecret, "msg_1", now, body)
			h.Set("webhook-timestamp", "2024-01-01")
			return h
		}, body, errTimestampMalforme},
		{"no signature", func() http.Header {
			h := signedHeader(t, newSecret, "msg_1", now, body)
			h.Del("webhook-signature")
			return h
		}, body, errSignatureMissing},
		{"no id", func() http.Header {
			h := signedHeader(t, newSecret, "msg_1", now, body)
			h.Del("webhook-id")
			return h
		}, body, errSignatureMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := verifyWebhook(secrets, tt.header(), tt.body, now, 5*time.Minute)
			require.Equal(t, tt.want, err)
		})
	}
}

func TestParseWebhookSecret(t *testing.T) {
	t.Parallel()
	_, err := parseWebhookSecret(testSecret(0))
	require.NoError(t, err)
	_, err = parseWebhookSecret(strings.TrimPrefix(testSecret(0), "whsec_"))
	require.NoError(t, err, "the prefix is optional")
	_, err = parseWebhookSecret("whsec_not base64!")
	require.Error(t, err)
	_, err = parseWebhookSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte("short")))
	require.ErrorContains(t, err, "at least 16")
}
