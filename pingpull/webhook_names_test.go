package pingpull

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
)

// TestWebhookRefusesHiddenCharacters: a display name with a bidi override
// or an invisible character (a look-alike of another user) is refused with
// a JSON 400 naming the field; names scripts need joiners for pass.
func TestWebhookRefusesHiddenCharacters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	refused := map[string]string{
		"right-to-left override": `Bob\u202Egnp.exe`,
		"zero-width space":       `Bo\u200Bb`,
		"left-to-right mark":     `\u200EBob`,
		"byte order mark":        `\uFEFFBob`,
		"first strong isolate":   `\u2068Bob`,
		"tag character":          `Bob\uDB40\uDC41`,
		"newline":                `Bob\nDole`,
		"line separator":         `Bob\u2028Dole`,
	}
	for name, display := range refused {
		t.Run(name, func(t *testing.T) {
			body := `{"user_id":"u1","profile":{"id":"u1","display_name":"` + display + `"}}`
			status, header, answer := b.webhook(t, webhookReq{body: body})
			require.Equal(t, http.StatusBadRequest, status, string(answer))
			require.Equal(t, "application/json; charset=utf-8", header.Get("Content-Type"))
			require.Equal(t, "invalid_field", errorCode(t, answer))
			var e struct{ Error struct{ Message string } }
			require.NoError(t, json.Unmarshal(answer, &e))
			require.True(t, strings.HasPrefix(e.Error.Message, "profile.display_name:"), e.Error.Message)
		})
	}
	// A merge patch is held to the same rule.
	b.accept(t, webhookReq{body: profileBody("u2", "Ann")})
	status, _, answer := b.webhook(t, webhookReq{body: `{"user_id":"u2","patch":{"display_name":"Ann\u202E"}}`})
	require.Equal(t, http.StatusBadRequest, status, string(answer))
	require.Equal(t, "invalid_field", errorCode(t, answer))

	for _, display := range []string{`می\u200Cخواهم`, `👩\u200D💻 Ada`} {
		body := `{"user_id":"u3","profile":{"id":"u3","display_name":"` + display + `"}}`
		b.accept(t, webhookReq{body: body})
	}
	_, err := b.store.ProfileGet(context.Background(), "u1")
	require.Error(t, err, "no refused name was stored")
}

// TestWebhookRefusesUndeliverableIDs: "." and ".." match Livefyre's id
// pattern but can never be pinged or pulled (URL path segments); ids over
// 255 bytes break the import schema.
func TestWebhookRefusesUndeliverableIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{".", "..", strings.Repeat("a", 256)} {
		body := `{"user_id":"` + id + `","profile":{"id":"` + id + `","display_name":"X"}}`
		status, _, answer := b.webhook(t, webhookReq{body: body})
		require.Equal(t, http.StatusBadRequest, status, string(answer))
		require.Equal(t, "invalid_field", errorCode(t, answer))
	}
	require.Empty(t, b.pingJobs(t))
	// The longest allowed id and other dotted ids pass.
	for _, id := range []string{strings.Repeat("a", 255), "...", ".a", "a.."} {
		b.accept(t, webhookReq{body: profileBody(id, "X")})
	}
}

// TestLoginProfileRepairsHiddenCharacters: the login side's profiles come
// from the OpenID provider, which the user cannot correct, so the name is
// cleaned rather than the login refused.
func TestLoginProfileRepairsHiddenCharacters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got, err := b.h.CanonicalProfile(json.RawMessage(`{"id":"u1","display_name":"\u202EBob\u200B ` + strings.Repeat("x", 60) + `"}`))
	require.NoError(t, err)
	require.Equal(t, `{"id":"u1","display_name":"Bob `+strings.Repeat("x", 46)+`"}`, string(got))

	got, err = b.h.CanonicalProfile(json.RawMessage(`{"id":"u1","display_name":"\u202E\u200B"}`))
	require.NoError(t, err)
	require.Equal(t, `{"id":"u1","display_name":"u1"}`, string(got))

	_, err = b.h.CanonicalProfile(json.RawMessage(`{"id":"u1","display_name":"<b>Bob</b>"}`))
	require.ErrorIs(t, err, livefyre.ErrInvalidProfile)
}
