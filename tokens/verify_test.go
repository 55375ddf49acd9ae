package tokens

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVerifyVectors(t *testing.T) {
	t.Parallel()

	docClaims := &Claims{
		Domain: docSampleNetwork, UserID: "system", DisplayName: "system", HasDisplayName: true,
		Expires: time.Unix(docSampleExpires, 0).UTC(),
	}
	tests := []struct {
		name        string
		network     string
		token       string
		clock       int64
		leeway      time.Duration // 0: none
		want        *Claims
		wantErr     error
		wantExpires int64 // with ErrExpired
	}{
		{name: "doc sample an hour before expiry", network: docSampleNetwork, token: docSampleToken,
			clock: docSampleExpires - 3600, want: docClaims},
		{name: "doc sample at expiry", network: docSampleNetwork, token: docSampleToken,
			clock: docSampleExpires, want: docClaims},
		{name: "doc sample a second after expiry", network: docSampleNetwork, token: docSampleToken,
			clock: docSampleExpires + 1, wantErr: ErrExpired, wantExpires: docSampleExpires},
		{name: "doc sample within default leeway", network: docSampleNetwork, token: docSampleToken,
			clock: docSampleExpires + 30, leeway: DefaultLeeway, want: docClaims},
		{name: "doc sample beyond default leeway", network: docSampleNetwork, token: docSampleToken,
			clock: docSampleExpires + 31, leeway: DefaultLeeway, wantErr: ErrExpired, wantExpires: docSampleExpires},
		{name: "doc sample at today's clock", network: docSampleNetwork, token: docSampleToken,
			clock: time.Now().Unix(), leeway: DefaultLeeway, wantErr: ErrExpired, wantExpires: docSampleExpires},
		{name: "doc sample on another network", network: nodeNetwork, token: docSampleToken,
			clock: docSampleExpires, wantErr: ErrWrongDomain},
		{name: "node system token", network: nodeNetwork, token: nodeSystemToken, clock: nodeClock,
			want: &Claims{
				Domain: nodeNetwork, UserID: "system", DisplayName: "system", HasDisplayName: true,
				Expires:  time.Unix(1400086400, 123e6).UTC(),
				IssuedAt: time.Unix(nodeClock, 0).UTC(),
			}},
		{name: "node user token", network: nodeNetwork, token: nodeUserToken, clock: nodeClock,
			want: &Claims{
				Domain: nodeNetwork, UserID: "user-1.a_b", DisplayName: "Bob Dole", HasDisplayName: true,
				Expires:  time.Unix(1400003600, 123e6).UTC(),
				IssuedAt: time.Unix(nodeClock, 0).UTC(),
			}},
		{name: "node user token at its float expiry", network: nodeNetwork, token: nodeUserToken,
			clock: 1400003600, want: &Claims{
				Domain: nodeNetwork, UserID: "user-1.a_b", DisplayName: "Bob Dole", HasDisplayName: true,
				Expires:  time.Unix(1400003600, 123e6).UTC(),
				IssuedAt: time.Unix(nodeClock, 0).UTC(),
			}},
		{name: "node user token after expiry", network: nodeNetwork, token: nodeUserToken,
			clock: 1400003601, wantErr: ErrExpired},
		{name: "node user token with tampered signature", network: nodeNetwork,
			token: nodeUserToken[:len(nodeUserToken)-5] + "AAAAA", clock: nodeClock, wantErr: ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			leeway := tc.leeway
			if leeway == 0 {
				leeway = -1
			}
			c, err := New(Config{Network: tc.network, Key: testKey, Leeway: leeway,
				Now: func() time.Time { return time.Unix(tc.clock, 0) }})
			require.NoError(t, err)

			got, err := c.Verify(tc.token)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, got)
				if tc.wantExpires != 0 {
					var expired *ExpiredError
					require.ErrorAs(t, err, &expired)
					require.Equal(t, time.Unix(tc.wantExpires, 0).UTC(), expired.Expires)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()

	const (
		hs256   = `{"alg":"HS256","typ":"JWT"}`
		payload = `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600}`
	)
	valid := signRaw(testKey, hs256, payload)
	withPayload := func(p string) string { return signRaw(testKey, hs256, p) }
	withHeader := func(h string) string { return signRaw(testKey, h, payload) }
	unsigned := func(h string) string {
		tok := signRaw(testKey, h, payload)
		return tok[:strings.LastIndexByte(tok, '.')+1]
	}
	// The Node user token's signature over a payload that says otherwise.
	mallory := `{"domain":"test.fyre.co","user_id":"user-1.a_b","display_name":"Mallory","expires":1400003600.123,"iat":1400000000}`
	swapped := segment(nodeUserToken, 0) + "." + segment(signRaw(testKey, hs256, mallory), 1) + "." + segment(nodeUserToken, 2)

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		// Forgeries.
		{"alg none without signature", unsigned(`{"alg":"none","typ":"JWT"}`), ErrUnsupportedAlgorithm},
		{"alg none with HMAC signature", withHeader(`{"alg":"none"}`), ErrUnsupportedAlgorithm},
		{"alg None", unsigned(`{"alg":"None"}`), ErrUnsupportedAlgorithm},
		{"RS256 header over HMAC signature", withHeader(`{"alg":"RS256","typ":"JWT"}`), ErrUnsupportedAlgorithm},
		{"RS512 header", withHeader(`{"alg":"RS512"}`), ErrUnsupportedAlgorithm},
		{"ES256 header", withHeader(`{"alg":"ES256"}`), ErrUnsupportedAlgorithm},
		{"PS256 header", withHeader(`{"alg":"PS256"}`), ErrUnsupportedAlgorithm},
		{"EdDSA header", withHeader(`{"alg":"EdDSA"}`), ErrUnsupportedAlgorithm},
		{"HS384 header", withHeader(`{"alg":"HS384"}`), ErrUnsupportedAlgorithm},
		{"HS512 header", withHeader(`{"alg":"HS512"}`), ErrUnsupportedAlgorithm},
		{"lowercase hs256", withHeader(`{"alg":"hs256"}`), ErrUnsupportedAlgorithm},
		{"alg empty", withHeader(`{"alg":""}`), ErrUnsupportedAlgorithm},
		{"alg a number", withHeader(`{"alg":256}`), ErrUnsupportedAlgorithm},
		{"crit header (b64 false)", withHeader(`{"alg":"HS256","b64":false,"crit":["b64"]}`), ErrUnsupportedAlgorithm},
		{"alg missing", withHeader(`{"typ":"JWT"}`), ErrMalformed},
		{"alg twice", withHeader(`{"alg":"HS256","alg":"none"}`), ErrMalformed},
		{"changed payload with the old signature", swapped, ErrBadSignature},
		{"another network's key", signRaw("anotherkey", hs256, payload), ErrBadSignature},
		{"another network's domain", withPayload(`{"domain":"other.fyre.co","user_id":"bob","expires":1400003600}`), ErrWrongDomain},
		{"missing domain", withPayload(`{"user_id":"bob","display_name":"Bob","expires":1400003600}`), ErrWrongDomain},
		{"null domain", withPayload(`{"domain":null,"user_id":"bob","expires":1400003600}`), ErrWrongDomain},
		{"domain spelled Domain", withPayload(`{"Domain":"test.fyre.co","user_id":"bob","expires":1400003600}`), ErrWrongDomain},
		{"domain a suffix", withPayload(`{"domain":"test.fyre.co.evil","user_id":"bob","expires":1400003600}`), ErrWrongDomain},
		{"expires as string", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":"1400003600"}`), ErrMalformed},

		// Claim types and values.
		{"domain a number", withPayload(`{"domain":1,"user_id":"bob","expires":1400003600}`), ErrMalformed},
		{"iat twice", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1400003600,"iat":1,"iat":2}`), ErrMalformed},
		{"domain twice", withPayload(`{"domain":"other.fyre.co","domain":"test.fyre.co","user_id":"bob","expires":1400003600}`), ErrMalformed},
		{"expires missing", withPayload(`{"domain":"test.fyre.co","user_id":"bob"}`), ErrMalformed},
		{"expires null", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":null}`), ErrMalformed},
		{"expires true", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":true}`), ErrMalformed},
		{"expires an array", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":[1400003600]}`), ErrMalformed},
		{"expires beyond float64", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1e400}`), ErrMalformed},
		{"expires negative", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":-1}`), ErrMalformed},
		{"expires after 9999", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":253402300800}`), ErrMalformed},
		{"expires in the past", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1399999999}`), ErrExpired},
		{"user_id missing", withPayload(`{"domain":"test.fyre.co","expires":1400003600}`), ErrMalformed},
		{"user_id a number", withPayload(`{"domain":"test.fyre.co","user_id":42,"expires":1400003600}`), ErrMalformed},
		{"user_id empty", withPayload(`{"domain":"test.fyre.co","user_id":"","expires":1400003600}`), ErrInvalidUserID},
		{"user_id with @", withPayload(`{"domain":"test.fyre.co","user_id":"bad@id","expires":1400003600}`), ErrInvalidUserID},
		{"user_id with a slash", withPayload(`{"domain":"test.fyre.co","user_id":"../admin","expires":1400003600}`), ErrInvalidUserID},
		{"user_id a dot", withPayload(`{"domain":"test.fyre.co","user_id":".","expires":1400003600}`), ErrInvalidUserID},
		{"user_id two dots", withPayload(`{"domain":"test.fyre.co","user_id":"..","expires":1400003600}`), ErrInvalidUserID},
		{"user_id of 256 bytes", withPayload(`{"domain":"test.fyre.co","user_id":"` + strings.Repeat("a", 256) + `","expires":1400003600}`), ErrInvalidUserID},
		{"display_name a number", withPayload(`{"domain":"test.fyre.co","user_id":"bob","display_name":7,"expires":1400003600}`), ErrMalformed},
		{"exp in the past", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1400003600,"exp":1399999999}`), ErrExpired},
		{"exp now (exclusive)", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1400003600,"exp":1400000000}`), ErrExpired},
		{"exp as string", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1400003600,"exp":"1400003600"}`), ErrMalformed},
		{"nbf in the future", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1400003600,"nbf":1400000001}`), ErrNotYetValid},
		{"payload not JSON", withPayload(`domain=test.fyre.co`), ErrMalformed},
		{"payload a JSON array", withPayload(`["test.fyre.co"]`), ErrMalformed},
		{"payload with trailing data", withPayload(payload + `{}`), ErrMalformed},
		{"payload empty", withPayload(``), ErrMalformed},

		// Shape.
		{"empty", "", ErrMalformed},
		{"one segment", "abc", ErrMalformed},
		{"two segments", segment(valid, 0) + "." + segment(valid, 1), ErrMalformed},
		{"four segments", valid + ".AAAA", ErrMalformed},
		{"padding", valid + "=", ErrMalformed},
		{"space", " " + valid, ErrMalformed},
		{"newline inside payload", segment(valid, 0) + "." + segment(valid, 1)[:10] + "\n" + segment(valid, 1)[10:] + "." + segment(valid, 2), ErrMalformed},
		{"standard base64 alphabet", stdAlphabet(withPayload(`{"domain":"test.fyre.co","user_id":"bob","display_name":"??>>","expires":1400003600}`)), ErrMalformed},
		{"too long", withPayload(`{"domain":"test.fyre.co","user_id":"bob","expires":1400003600,"x":"` + strings.Repeat("x", MaxTokenLength) + `"}`), ErrMalformed},
		{"header not base64url", "e.e." + segment(valid, 2), ErrMalformed},
		{"header not JSON", withHeader(`alg=HS256`), ErrMalformed},
		{"header too long", withHeader(`{"alg":"HS256","x":"` + strings.Repeat("x", maxHeaderLength) + `"}`), ErrMalformed},
		{"signature one character short", valid[:len(valid)-1], ErrBadSignature},
		{"signature empty", valid[:strings.LastIndexByte(valid, '.')+1], ErrBadSignature},
		{"signature not canonical base64url", nonCanonical(valid), ErrMalformed},
		{"payload not base64url", segment(valid, 0) + ".A." + segment(valid, 2), ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			got, err := b.codec.Verify(tc.token)
			require.ErrorIs(t, err, tc.wantErr)
			require.Nil(t, got)
			require.True(t, strings.HasPrefix(err.Error(), "tokens: "), "error %q lacks the package prefix", err)
			requireOneSentinel(t, err)
		})
	}
	// The untouched token passes, so each case fails for its own reason.
	_, err := setup(t).codec.Verify(valid)
	require.NoError(t, err)
}

// stdAlphabet turns base64url into standard base64 characters.
func stdAlphabet(tok string) string {
	std := strings.NewReplacer("-", "+", "_", "/").Replace(tok)
	if std == tok {
		panic("token has no base64url-only character")
	}
	return std
}

// nonCanonical changes the last signature character so that its unused low
// bits are set: the same bytes for a lax decoder, another string for Node.
func nonCanonical(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[last|1])
}

var sentinels = []error{ErrMalformed, ErrBadSignature, ErrUnsupportedAlgorithm, ErrWrongDomain,
	ErrExpired, ErrNotYetValid, ErrNotSystem, ErrInvalidUserID, ErrInvalidDisplayName, ErrInvalidTTL}

func requireOneSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	require.Equal(t, 1, n, "error %q should wrap exactly one sentinel", err)
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()

	const hs256 = `{"alg":"HS256","typ":"JWT"}`
	bob := func(mod func(*Claims)) *Claims {
		c := &Claims{Domain: nodeNetwork, UserID: "bob", DisplayName: "Bob", HasDisplayName: true,
			Expires: time.Unix(1400003600, 0).UTC()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	const bobPayload = `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600}`
	tests := []struct {
		name    string
		header  string
		payload string
		want    *Claims
	}{
		{"header alg only (DOC-LIB, older Java)", `{"alg":"HS256"}`, bobPayload, bob(nil)},
		{"header lowercase typ", `{"typ":"jwt","alg":"HS256"}`, bobPayload, bob(nil)},
		{"header with spaces (server-issued)", `{"alg": "HS256", "typ": "JWT"}`, bobPayload, bob(nil)},
		{"header with kid and crit-free extras", `{"alg":"HS256","kid":"k1","x":{"y":[1,"}"]}}`, bobPayload, bob(nil)},
		{"header alg escaped", `{"\u0061lg":"H\u0053256"}`, bobPayload, bob(nil)},
		{"server-issued shape without display_name", hs256,
			`{"domain": "test.fyre.co", "expires": 1400003600.904435, "user_id": "commenter_0"}`,
			&Claims{Domain: nodeNetwork, UserID: "commenter_0", Expires: time.Unix(1400003600, 904435e3).UTC()}},
		{"display_name null", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":null,"expires":1400003600}`,
			bob(func(c *Claims) { c.DisplayName, c.HasDisplayName = "", false })},
		{"display_name empty", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"","expires":1400003600}`,
			bob(func(c *Claims) { c.DisplayName = "" })},
		{"display_name over 50 characters kept whole", hs256,
			`{"domain":"test.fyre.co","user_id":"bob","display_name":"` + strings.Repeat("é", 80) + `","expires":1400003600}`,
			bob(func(c *Claims) { c.DisplayName = strings.Repeat("é", 80) })},
		{"display_name with escapes", hs256,
			`{"domain":"test.fyre.co","user_id":"bob","display_name":"B\"o\\b\n\u00e9\ud83d\ude00","expires":1400003600}`,
			bob(func(c *Claims) { c.DisplayName = "B\"o\\b\né😀" })},
		{"display_name invalid UTF-8 replaced", hs256,
			"{\"domain\":\"test.fyre.co\",\"user_id\":\"bob\",\"display_name\":\"B\xffb\",\"expires\":1400003600}",
			bob(func(c *Claims) { c.DisplayName = "B\uFFFDb" })},
		{"user id system", hs256, `{"domain":"test.fyre.co","user_id":"system","expires":1400003600}`,
			&Claims{Domain: nodeNetwork, UserID: "system", Expires: time.Unix(1400003600, 0).UTC()}},
		{"iat a string is ignored", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"iat":"yesterday"}`, bob(nil)},
		{"iat in the future is ignored", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"iat":1500000000}`,
			bob(func(c *Claims) { c.IssuedAt = time.Unix(1500000000, 0).UTC() })},
		{"expires float", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600.5}`,
			bob(func(c *Claims) { c.Expires = time.Unix(1400003600, 5e8).UTC() })},
		{"expires with exponent", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1.4000036e9}`, bob(nil)},
		{"expires exactly now", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400000000}`,
			bob(func(c *Claims) { c.Expires = time.Unix(1400000000, 0).UTC() })},
		{"exp later than expires", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"exp":1400009999}`, bob(nil)},
		{"exp earlier than expires", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"exp":1400000100}`,
			bob(func(c *Claims) { c.Expires = time.Unix(1400000100, 0).UTC() })},
		{"nbf in the past", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"nbf":1399999999}`, bob(nil)},
		{"nbf now", hs256, `{"domain":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600,"nbf":1400000000}`, bob(nil)},
		{"unknown claims of every type", hs256,
			`{"a":{"b":["}",{"c":"]"}]},"domain":"test.fyre.co","t":true,"n":null,"user_id":"bob","f":-0.5e-3,"display_name":"Bob","expires":1400003600,"s":"\"}"}`, bob(nil)},
		{"whitespace everywhere", hs256,
			" {\n\t\"domain\" : \"test.fyre.co\" ,\r\n \"user_id\":\"bob\", \"display_name\" :\"Bob\",\"expires\": 1400003600 } ", bob(nil)},
		{"claim name escaped", hs256, `{"dom\u0061in":"test.fyre.co","user_id":"bob","display_name":"Bob","expires":1400003600}`, bob(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			got, err := b.codec.Verify(signRaw(testKey, tc.header, tc.payload))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	t.Parallel()

	const hs256 = `{"alg":"HS256"}`
	tests := []struct {
		name    string
		leeway  time.Duration
		payload string
		wantErr error
	}{
		{"expired 10s ago, leeway 30s", 30 * time.Second, `{"domain":"test.fyre.co","user_id":"b","expires":1399999990}`, nil},
		{"expired 10s ago, no leeway", -1, `{"domain":"test.fyre.co","user_id":"b","expires":1399999990}`, ErrExpired},
		{"expired 31s ago, leeway 30s", 30 * time.Second, `{"domain":"test.fyre.co","user_id":"b","expires":1399999969}`, ErrExpired},
		{"exp 10s ago, leeway 30s", 30 * time.Second, `{"domain":"test.fyre.co","user_id":"b","expires":1400003600,"exp":1399999990}`, nil},
		{"exp 30s ago, leeway 30s", 30 * time.Second, `{"domain":"test.fyre.co","user_id":"b","expires":1400003600,"exp":1399999970}`, ErrExpired},
		{"nbf in 10s, leeway 30s", 30 * time.Second, `{"domain":"test.fyre.co","user_id":"b","expires":1400003600,"nbf":1400000010}`, nil},
		{"nbf in 31s, leeway 30s", 30 * time.Second, `{"domain":"test.fyre.co","user_id":"b","expires":1400003600,"nbf":1400000031}`, ErrNotYetValid},
		{"default leeway", 0, `{"domain":"test.fyre.co","user_id":"b","expires":1399999971}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(cfg *Config) { cfg.Leeway = tc.leeway })
			_, err := b.codec.Verify(signRaw(testKey, hs256, tc.payload))
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestVerifyClockMoves(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, err := b.codec.Mint("bob", "Bob", time.Minute)
	require.NoError(t, err)

	b.now = b.now.Add(time.Minute)
	_, err = b.codec.Verify(tok)
	require.NoError(t, err, "valid through its last second")

	b.now = b.now.Add(time.Second)
	_, err = b.codec.Verify(tok)
	var expired *ExpiredError
	require.ErrorAs(t, err, &expired)
	require.Equal(t, time.Unix(nodeClock+60, 0).UTC(), expired.Expires)
	require.ErrorIs(t, err, ErrExpired)
	require.Equal(t, "tokens: token expired at 2014-05-13T16:54:20Z", err.Error())
}

func TestVerifySystem(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"node system token", nodeSystemToken, nil},
		{"node user token", nodeUserToken, ErrNotSystem},
		{"system token of another network", signRaw(testKey, `{"alg":"HS256"}`, `{"domain":"other.fyre.co","user_id":"system","display_name":"system","expires":1400086400}`), ErrWrongDomain},
		{"system token with another display name", signRaw(testKey, `{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"system","display_name":"root","expires":1400086400}`), nil},
		{"system token expired", signRaw(testKey, `{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"system","display_name":"system","expires":1399999999}`), ErrExpired},
		{"system token forged", signRaw("guess", `{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"system","display_name":"system","expires":1400086400}`), ErrBadSignature},
		{"user named System", signRaw(testKey, `{"alg":"HS256"}`, `{"domain":"test.fyre.co","user_id":"System","expires":1400086400}`), ErrNotSystem},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			got, err := b.codec.VerifySystem(tc.token)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.True(t, got.IsSystem())
		})
	}
}

func TestKeyRing(t *testing.T) {
	t.Parallel()

	const (
		oldKey  = "b2xkIGtleSBvZiB0aGUgbmV0d29yaw=="
		newKey  = "bmV3IGtleSBvZiB0aGUgbmV0d29yaw=="
		longKey = "0123456789abcdef0123456789abcdef-java-cuts-here"
	)
	codec := func(t *testing.T, cfg Config) *Codec {
		t.Helper()
		cfg.Network = nodeNetwork
		cfg.Now = func() time.Time { return time.Unix(nodeClock, 0) }
		c, err := New(cfg)
		require.NoError(t, err)
		return c
	}
	const payload = `{"domain":"test.fyre.co","user_id":"bob","expires":1400003600}`

	t.Run("previous keys verify, the current key signs", func(t *testing.T) {
		t.Parallel()
		rotated := codec(t, Config{Key: newKey, PreviousKeys: []string{oldKey}})
		oldTok, err := codec(t, Config{Key: oldKey}).Mint("bob", "Bob", time.Hour)
		require.NoError(t, err)
		_, err = rotated.Verify(oldTok)
		require.NoError(t, err)

		newTok, err := rotated.Mint("bob", "Bob", time.Hour)
		require.NoError(t, err)
		_, err = codec(t, Config{Key: newKey}).Verify(newTok)
		require.NoError(t, err)
		_, err = codec(t, Config{Key: oldKey}).Verify(newTok)
		require.ErrorIs(t, err, ErrBadSignature)
	})
	t.Run("a dropped key no longer verifies", func(t *testing.T) {
		t.Parallel()
		_, err := codec(t, Config{Key: newKey}).Verify(signRaw(oldKey, `{"alg":"HS256"}`, payload))
		require.ErrorIs(t, err, ErrBadSignature)
	})
	t.Run("java truncation off", func(t *testing.T) {
		t.Parallel()
		c := codec(t, Config{Key: longKey})
		_, err := c.Verify(signRaw(longKey[:32], `{"alg":"HS256"}`, payload))
		require.ErrorIs(t, err, ErrBadSignature)
		_, err = c.Verify(signRaw(longKey, `{"alg":"HS256"}`, payload))
		require.NoError(t, err)
	})
	t.Run("java truncation on", func(t *testing.T) {
		t.Parallel()
		c := codec(t, Config{Key: newKey, PreviousKeys: []string{longKey}, JavaKeyTruncation: true})
		for _, key := range []string{longKey[:32], longKey, newKey} {
			_, err := c.Verify(signRaw(key, `{"alg":"HS256"}`, payload))
			require.NoError(t, err)
		}
		_, err := c.Verify(signRaw(longKey[:31], `{"alg":"HS256"}`, payload))
		require.ErrorIs(t, err, ErrBadSignature)
		// Java zero-pads short keys, which HMAC does anyway: nothing to add.
		require.Len(t, c.verifyKeys, 3)
	})
	t.Run("duplicates are dropped", func(t *testing.T) {
		t.Parallel()
		c := codec(t, Config{Key: newKey, PreviousKeys: []string{newKey, oldKey, oldKey}})
		require.Len(t, c.verifyKeys, 2)
	})
}

func TestPeekDomain(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		token   string
		want    string
		wantErr error
	}{
		{"node token", nodeUserToken, nodeNetwork, nil},
		{"doc sample, expired", docSampleToken, docSampleNetwork, nil},
		{"forged signature is not checked", signRaw("guess", `{"alg":"none"}`, `{"domain":"evil.fyre.co"}`), "evil.fyre.co", nil},
		{"no domain", signRaw(testKey, `{"alg":"HS256"}`, `{"user_id":"bob"}`), "", ErrWrongDomain},
		{"domain a number", signRaw(testKey, `{"alg":"HS256"}`, `{"domain":5}`), "", ErrMalformed},
		{"payload not JSON", signRaw(testKey, `{"alg":"HS256"}`, `domain`), "", ErrMalformed},
		{"garbage", "not a token", "", ErrMalformed},
		{"two segments", "a.b", "", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := PeekDomain(tc.token)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
