package tokens

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, every
// refusal must wrap exactly one sentinel, and whatever verifies must
// round-trip through Mint and agree with encoding/json.
func FuzzVerify(f *testing.F) {
	for _, seed := range []string{
		docSampleToken, nodeSystemToken, nodeUserToken,
		nodeUserToken[:len(nodeUserToken)-1], nodeUserToken + ".",
		signRaw(testKey, `{"alg":"none"}`, `{"domain":"test.fyre.co","user_id":"bob","expires":1400003600}`),
		signRaw(testKey, `{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"bob","expires":1400003600.5,"exp":1400000100}`),
		signRaw(testKey, `{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"bob","expires":"1400003600"}`),
		"", ".", "..", "a.b.c", "e30.e30.", "eyJhbGciOiJIUzI1NiJ9..",
	} {
		f.Add(seed)
	}
	b := setup(f)
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := b.codec.Verify(token)
		if err != nil {
			require.Nil(t, claims)
			require.True(t, strings.HasPrefix(err.Error(), "tokens: "), err.Error())
			requireOneSentinel(t, err)
			require.NotContains(t, err.Error(), testKey)
			return
		}
		checkVerified(t, b, token, claims)
	})
}

// FuzzVerifySigned fuzzes the header and payload JSON of correctly signed
// tokens, which random strings almost never reach, and compares the claims
// parser with encoding/json in both directions.
func FuzzVerifySigned(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"alg":"HS256","typ":"JWT"}`, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"iat":1400000000}`},
		{`{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"system","display_name":"system","expires":1400086400.123}`},
		{`{"alg": "HS256", "typ": "JWT"}`, `{"domain": "test.fyre.co", "expires": 1399674798.904435, "user_id": "commenter_0"}`},
		{`{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"b","expires":1400003600,"exp":1400000001,"nbf":1399999999}`},
		{`{"alg":"HS256"}`, `{"dom\u0061in":"test.fyre.co","user_id":"b","display_name":"\ud83d\ude00\"","expires":1.4e9,"x":[{"}":"]"}]}`},
		{`{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"b","expires":1400003600,"domain":"x"}`},
		{`{"alg":"RS256"}`, `{"domain":"test.fyre.co","user_id":"b","expires":1400003600}`},
		{`{"alg":"HS256"}`, `{"Domain":"test.fyre.co","user_id":"b","expires":1400003600}`},
	} {
		f.Add(seed[0], seed[1])
	}
	b := setup(f)
	f.Fuzz(func(t *testing.T, header, payload string) {
		token := signRaw(testKey, header, payload)
		claims, err := b.codec.Verify(token)
		if err != nil {
			require.Nil(t, claims)
			requireOneSentinel(t, err)
		} else {
			checkVerified(t, b, token, claims)
		}
		if len(token) > MaxTokenLength || len(header) > maxHeaderLength {
			return
		}
		// The other direction: what encoding/json reads as a well-formed
		// token with an HS256 header must verify.
		if wantValid(header, payload, b.now) {
			require.NoError(t, err, "header %s payload %s", header, payload)
		}
	})
}

// checkVerified checks the properties of any verified token.
func checkVerified(t *testing.T, b *testBundle, token string, claims *Claims) {
	t.Helper()
	require.Equal(t, b.codec.Network(), claims.Domain)
	require.True(t, ValidUserID(claims.UserID), claims.UserID)
	require.False(t, b.now.After(claims.Expires), "expired token verified")

	domain, err := PeekDomain(token)
	require.NoError(t, err)
	require.Equal(t, claims.Domain, domain)

	// encoding/json reads the same claims.
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	require.Equal(t, claims.Domain, m["domain"])
	require.Equal(t, claims.UserID, m["user_id"])
	if claims.HasDisplayName {
		require.Equal(t, claims.DisplayName, m["display_name"])
	} else {
		require.Nil(t, m["display_name"])
	}
	expires, ok := m["expires"].(float64)
	require.True(t, ok)
	require.LessOrEqual(t, claims.Expires.Sub(secondsToTime(expires)), time.Duration(0))

	// Round trip: the same user and name minted again verify to the same
	// claims (Mint refuses names a foreign minter may have sent).
	tok, err := b.codec.Mint(claims.UserID, claims.DisplayName, time.Minute)
	if IsReservedUserID(claims.UserID) {
		// A system token's claims: only MintSystem makes those.
		require.ErrorIs(t, err, ErrInvalidUserID)
		return
	}
	if !utf8.ValidString(claims.DisplayName) || utf8.RuneCountInString(claims.DisplayName) > MaxDisplayNameLength {
		require.ErrorIs(t, err, ErrInvalidDisplayName)
		return
	}
	require.NoError(t, err)
	again, err := b.codec.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, claims.UserID, again.UserID)
	require.Equal(t, claims.DisplayName, again.DisplayName)
	require.True(t, again.HasDisplayName)
}

// wantValid decides with encoding/json alone whether a signed token of
// header and payload must verify at now (no leeway).
func wantValid(header, payload string, now time.Time) bool {
	hm, ok := uniqueObject(header)
	if !ok || hm["alg"] != "HS256" {
		return false
	}
	if _, ok := hm["crit"]; ok {
		return false
	}
	pm, ok := uniqueObject(payload)
	if !ok {
		return false
	}
	if pm["domain"] != nodeNetwork {
		return false
	}
	if id, ok := pm["user_id"].(string); !ok || !ValidUserID(id) {
		return false
	}
	if dn, ok := pm["display_name"]; ok && dn != nil {
		if _, ok := dn.(string); !ok {
			return false
		}
	}
	expires, ok := pm["expires"].(float64)
	if !ok || expires > maxExpires || secondsToTime(expires).Before(now) {
		return false
	}
	for _, reg := range []string{"exp", "nbf"} {
		if _, ok := pm[reg]; ok {
			return false // covered by the table tests
		}
	}
	return true
}

// uniqueObject decodes a JSON object with encoding/json, refusing duplicate
// member names (which encoding/json alone would resolve silently).
func uniqueObject(s string) (map[string]any, bool) {
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil || m == nil {
		return nil, false
	}
	d := json.NewDecoder(strings.NewReader(s))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, false
		}
		name := tok.(string)
		if seen[name] {
			return nil, false
		}
		seen[name] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return nil, false
		}
	}
	if _, err := d.Token(); err != nil {
		return nil, false
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return m, true
}

// FuzzPeekDomain: PeekDomain reads unverified input; it must never panic
// and must read what encoding/json reads.
func FuzzPeekDomain(f *testing.F) {
	for _, seed := range []string{docSampleToken, nodeUserToken, "a.e30.b", "a.eyJkb21haW4iOjF9.b", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		domain, err := PeekDomain(token)
		if err != nil {
			requireOneSentinel(t, err)
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		require.Equal(t, domain, m["domain"])
	})
}
