package tokens

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMintWireFormat(t *testing.T) {
	t.Parallel()
	b := setup(t)

	tok, err := b.codec.Mint("user-1.a_b", "Bob Dole", time.Hour)
	require.NoError(t, err)

	// Byte for byte what a hand-built HS256 token of these claims is.
	const (
		header  = `{"alg":"HS256","typ":"JWT"}`
		payload = `{"domain":"test.fyre.co","user_id":"user-1.a_b","display_name":"Bob Dole","expires":1400003600,"iat":1400000000}`
	)
	require.Equal(t, signRaw(testKey, header, payload), tok)
}

func TestMintKeyIsTheStringBytes(t *testing.T) {
	t.Parallel()
	// Real keys look like base64; they are still used as they are.
	const key = "dGhpcyBpcyBub3QgZGVjb2RlZA=="
	b := setup(t, func(cfg *Config) { cfg.Key = key })
	tok, err := b.codec.MintSystem(0)
	require.NoError(t, err)
	require.Equal(t, signRaw(key, `{"alg":"HS256","typ":"JWT"}`,
		`{"domain":"test.fyre.co","user_id":"system","display_name":"system","expires":1400086400,"iat":1400000000}`), tok)
}

func TestMintRoundTrip(t *testing.T) {
	t.Parallel()

	names := []struct{ name, display string }{
		{"empty", ""},
		{"plain", "Bob Dole"},
		{"quotes and backslashes", `Bob "the \ builder"`},
		{"control characters", "a\nb\rc\td\x00e\x1ff\x7f"},
		{"html", "<script>&amp;</script>"},
		{"accents", "Zoë Ångström-Øre"},
		{"emoji", "😀 party 🎉"},
		{"line separators", "a\u2028b\u2029c"},
		{"fifty runes", strings.Repeat("ß", MaxDisplayNameLength)},
		{"system", "system"},
	}
	for _, tc := range names {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tok, err := b.codec.Mint("bob", tc.display, 90*time.Second)
			require.NoError(t, err)

			got, err := b.codec.Verify(tok)
			require.NoError(t, err)
			require.Equal(t, &Claims{
				Domain: nodeNetwork, UserID: "bob", DisplayName: tc.display, HasDisplayName: true,
				Expires:  time.Unix(nodeClock+90, 0).UTC(),
				IssuedAt: time.Unix(nodeClock, 0).UTC(),
			}, got)

			// Any JSON decoder reads the same claims (and integers).
			raw, err := base64.RawURLEncoding.DecodeString(segment(tok, 1))
			require.NoError(t, err)
			var m map[string]any
			d := json.NewDecoder(strings.NewReader(string(raw)))
			d.UseNumber()
			require.NoError(t, d.Decode(&m))
			require.Equal(t, map[string]any{
				"domain": nodeNetwork, "user_id": "bob", "display_name": tc.display,
				"expires": json.Number("1400000090"), "iat": json.Number("1400000000"),
			}, m)
			require.NotContains(t, string(raw), "\u2028")
		})
	}
}

func TestMintRefuses(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		userID  string
		display string
		ttl     time.Duration
		wantErr error
	}{
		{"id with @ (JAVA)", "fjaowie@123", "n", time.Hour, ErrInvalidUserID},
		{"id with @ and dots (RUBY)", "fjoi@wje.1fj", "n", time.Hour, ErrInvalidUserID},
		{"id system@blah (PY)", "system@blah", "n", time.Hour, ErrInvalidUserID},
		{"id with @ and dashes (PHP)", "fawe-f@-fawef.", "n", time.Hour, ErrInvalidUserID},
		{"id bad@id (NODE)", "bad@id", "n", time.Hour, ErrInvalidUserID},
		{"empty id", "", "n", time.Hour, ErrInvalidUserID},
		{"id with space", "bob dole", "n", time.Hour, ErrInvalidUserID},
		{"id with newline", "bob\nroot", "n", time.Hour, ErrInvalidUserID},
		{"id with slash", "a/b", "n", time.Hour, ErrInvalidUserID},
		{"id with non-ASCII letter", "zoë", "n", time.Hour, ErrInvalidUserID},
		{"display name of 51 characters", "bob", strings.Repeat("ß", MaxDisplayNameLength+1), time.Hour, ErrInvalidDisplayName},
		{"display name not UTF-8", "bob", "B\xffb", time.Hour, ErrInvalidDisplayName},
		{"zero ttl", "bob", "n", 0, ErrInvalidTTL},
		{"negative ttl", "bob", "n", -time.Second, ErrInvalidTTL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tok, err := b.codec.Mint(tc.userID, tc.display, tc.ttl)
			require.ErrorIs(t, err, tc.wantErr)
			require.Empty(t, tok)
			require.True(t, strings.HasPrefix(err.Error(), "tokens: "), err.Error())
			requireOneSentinel(t, err)
		})
	}
}

func TestMintAtTheEndOfTime(t *testing.T) {
	t.Parallel()
	b := setup(t, atClock(maxExpires-10))
	_, err := b.codec.Mint("bob", "Bob", time.Hour)
	require.ErrorIs(t, err, ErrInvalidTTL)
	tok, err := b.codec.Mint("bob", "Bob", 10*time.Second)
	require.NoError(t, err)
	got, err := b.codec.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), got.Expires)
}

func TestValidUserID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		id   string
		want bool
	}{
		// Accepted by the NODE, RUBY, PHP and JAVA tests.
		{"test.-_F12", true},
		{"abc.ABC-123_huh", true},
		{"user-name_123.BLAH", true},
		{"aB-f_a.123D", true},
		{"system", true},
		{"0", true},
		{"...", true},
		{".a", true},
		{strings.Repeat("a", MaxUserIDLength), true},
		// Refused by them.
		{"fjaowie@123", false},
		{"fjoi@wje.1fj", false},
		{"system@blah", false},
		{"fawe-f@-fawef.", false},
		{"", false},
		{"a b", false},
		{"a+b", false},
		{"a\nb", false}, // Ruby's ^$ would let this through; the rule does not.
		{"Zoë", false},
		{"a\x00", false},
		// Path segments that URL clients and routers rewrite: a ping or a
		// pull for them would never arrive.
		{".", false},
		{"..", false},
		{strings.Repeat("a", MaxUserIDLength+1), false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%.20q", tc.id), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, ValidUserID(tc.id))
		})
	}
}

func TestMintSystem(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		ttl         time.Duration
		wantExpires int64
		wantErr     error
	}{
		{"default 24h", 0, nodeClock + 86400, nil},
		{"one hour", time.Hour, nodeClock + 3600, nil},
		{"sub-second rounds up", 1500 * time.Millisecond, nodeClock + 2, nil},
		{"negative", -time.Hour, 0, ErrInvalidTTL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tok, err := b.codec.MintSystem(tc.ttl)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			got, err := b.codec.VerifySystem(tok)
			require.NoError(t, err)
			require.Equal(t, &Claims{
				Domain: nodeNetwork, UserID: "system", DisplayName: "system", HasDisplayName: true,
				Expires:  time.Unix(tc.wantExpires, 0).UTC(),
				IssuedAt: time.Unix(nodeClock, 0).UTC(),
			}, got)
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()

	tests := []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{`"\`, `"\"\\"`},
		{"\n\r\t\x00\x1f", `"\n\r\t\u0000\u001f"`},
		{"é\u2028\u2029", `"é\u2028\u2029"`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			got := appendJSONString(nil, tc.in)
			require.Equal(t, tc.want, string(got))
			var back string
			require.NoError(t, json.Unmarshal(got, &back))
			require.Equal(t, tc.in, back)
		})
	}
}

func TestMintRefusesTheReservedSystemID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{"system", "System", "SYSTEM", "sYsTeM"} {
		_, err := b.codec.Mint(id, "x", time.Hour)
		require.ErrorIs(t, err, ErrInvalidUserID, id)
		require.ErrorContains(t, err, "reserved", id)
		_, err = b.codec.MintUntil(id, b.now.Add(time.Hour))
		require.ErrorIs(t, err, ErrInvalidUserID, id)
		require.True(t, IsReservedUserID(id), id)
	}
	for _, id := range []string{"systems", "system1", "s_system", "sys"} {
		require.False(t, IsReservedUserID(id), id)
		_, err := b.codec.Mint(id, "", time.Hour)
		require.NoError(t, err, id)
	}
	// MintSystem stays the one way to a system token.
	tok, err := b.codec.MintSystem(time.Hour)
	require.NoError(t, err)
	claims, err := b.codec.VerifySystem(tok)
	require.NoError(t, err)
	require.True(t, claims.IsSystem())
}

func TestMintUntil(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The expiry is cut to the second, never rounded up; no display_name.
	tok, err := b.codec.MintUntil("bob", b.now.Add(90*time.Second+900*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, signRaw(testKey, `{"alg":"HS256","typ":"JWT"}`,
		`{"domain":"test.fyre.co","user_id":"bob","expires":1400000090,"iat":1400000000}`), tok)
	claims, err := b.codec.Verify(tok)
	require.NoError(t, err)
	require.False(t, claims.HasDisplayName)
	require.Equal(t, time.Unix(nodeClock, 0).UTC(), claims.IssuedAt)

	for name, exp := range map[string]time.Time{
		"now":             b.now,
		"under a second":  b.now.Add(999 * time.Millisecond),
		"past":            b.now.Add(-time.Hour),
		"after year 9999": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		_, err := b.codec.MintUntil("bob", exp)
		require.ErrorIs(t, err, ErrInvalidTTL, name)
	}
	_, err = b.codec.MintUntil("a@b", b.now.Add(time.Hour))
	require.ErrorIs(t, err, ErrInvalidUserID)
}
