package authdelegate

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseLogoutToken(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	want := logoutCheck{Issuer: "https://idp.example", ClientID: "gw", Now: now, MaxAge: 5 * time.Minute, Leeway: 30 * time.Second}
	base := func(edit func(map[string]any)) []byte {
		c := map[string]any{
			"iss": "https://idp.example", "aud": "gw", "iat": now.Unix(), "jti": "j1", "sub": "alice",
			"events": map[string]any{backChannelLogoutEvent: map[string]any{}},
		}
		if edit != nil {
			edit(c)
		}
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name   string
		claims []byte
		result string // "" accepted
	}{
		{"no exp, fresh iat", base(nil), ""},
		{"exp in the future", base(func(c map[string]any) { c["exp"] = now.Add(time.Minute).Unix() }), ""},
		{"exp within leeway", base(func(c map[string]any) { c["exp"] = now.Add(-10 * time.Second).Unix() }), ""},
		{"sid only", base(func(c map[string]any) { delete(c, "sub"); c["sid"] = "s1" }), ""},
		{"fractional iat", base(func(c map[string]any) { c["iat"] = float64(now.Unix()) + 0.5 }), ""},
		{"expired", base(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), "expired"},
		{"no exp, old iat", base(func(c map[string]any) { c["iat"] = now.Add(-6 * time.Minute).Unix() }), "expired"},
		{"iat in the future", base(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() }), "invalid"},
		{"no iat", base(func(c map[string]any) { delete(c, "iat") }), "invalid"},
		{"null iat", base(func(c map[string]any) { c["iat"] = nil }), "invalid"},
		{"negative iat", base(func(c map[string]any) { c["iat"] = -1 }), "malformed"},
		{"huge iat", base(func(c map[string]any) { c["iat"] = 1e300 }), "malformed"},
		{"other issuer", base(func(c map[string]any) { c["iss"] = "https://evil.example" }), "invalid"},
		{"other audience", base(func(c map[string]any) { c["aud"] = []string{"x"} }), "invalid"},
		{"audience a number", base(func(c map[string]any) { c["aud"] = 3 }), "malformed"},
		{"nonce", base(func(c map[string]any) { c["nonce"] = "" }), "invalid"},
		{"null nonce", base(func(c map[string]any) { c["nonce"] = nil }), "invalid"},
		{"no events", base(func(c map[string]any) { delete(c, "events") }), "invalid"},
		{"event is null", base(func(c map[string]any) { c["events"] = map[string]any{backChannelLogoutEvent: nil} }), "invalid"},
		{"no jti", base(func(c map[string]any) { delete(c, "jti") }), "invalid"},
		{"neither sub nor sid", base(func(c map[string]any) { delete(c, "sub") }), "invalid"},
		{"not JSON", []byte("{"), "malformed"},
		{"an array", []byte("[]"), "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lt, err := parseLogoutToken(tc.claims, want)
			if tc.result == "" {
				require.NoError(t, err)
				require.Equal(t, "https://idp.example", lt.Issuer)
				return
			}
			var le *logoutTokenError
			require.ErrorAs(t, err, &le)
			require.Equal(t, tc.result, le.Result, le.Reason)
			require.NotEmpty(t, le.Reason)
		})
	}
}

// FuzzParseLogoutToken: any claims either parse into a token that passed
// every check or are refused with a result label; never a panic.
func FuzzParseLogoutToken(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	want := logoutCheck{Issuer: "https://idp.example", ClientID: "gw", Now: now, MaxAge: 5 * time.Minute, Leeway: 30 * time.Second}
	f.Add([]byte(`{"iss":"https://idp.example","aud":"gw","iat":1800000000,"jti":"j","sub":"a","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`))
	f.Add([]byte(`{"iss":"https://idp.example","aud":["gw"],"iat":1800000000.7,"exp":1800000100,"jti":"j","sid":"s","events":{"http://schemas.openid.net/event/backchannel-logout":{"x":1}}}`))
	f.Add([]byte(`{"iat":"1","exp":null,"nonce":null,"events":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, claims []byte) {
		lt, err := parseLogoutToken(claims, want)
		if err != nil {
			var le *logoutTokenError
			require.ErrorAs(t, err, &le)
			require.Contains(t, []string{"malformed", "invalid", "expired"}, le.Result)
			return
		}
		require.Equal(t, want.Issuer, lt.Issuer)
		require.NotEmpty(t, lt.TokenID)
		require.True(t, lt.Subject != "" || lt.SessionID != "")
		require.False(t, lt.IssuedAt.Before(now.Add(-want.MaxAge)) || lt.IssuedAt.After(now.Add(want.Leeway)))
		require.True(t, lt.Expiry.IsZero() || !lt.Expiry.Before(now.Add(-want.Leeway)))
	})
}

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBackchannelRefusalLogged(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	b := setup(t, setupOpts{mutate: func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}})
	tok := b.signed(b.logoutClaims(func(c map[string]any) { c["aud"] = "another-client" }))
	status, body := b.postLogoutToken(tok)
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "logout token not valid", body["error_description"], "the provider gets no detail")
	out := logs.String()
	require.Contains(t, out, `"level":"WARN"`)
	require.Contains(t, out, `audience [\"another-client\"] does not name client \"gateway\"`)
	require.NotContains(t, out, tok[strings.LastIndex(tok, ".")+1:], "no signature in the log")
	require.NotContains(t, out, tok[:strings.Index(tok, ".")], "no token in the log")
}
