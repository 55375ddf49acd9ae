package tokens

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// Mint and Verify are measured against a floor: the same token built and
// checked by hand with base64url and HMAC-SHA256, no JWT library and no
// checks beyond signature, domain and expiry. Run:
//
//	go test -run='^$' -bench=. -benchmem -count=5 ./tokens/
//
// Target: each within 2.5x of its floor.

const (
	benchNetwork = "labs.fyre.co"
	benchKey     = "bGFicyBuZXR3b3JrIGtleSAxMjM=" // 28 characters, like real keys
	benchUser    = "user-1.a_b"
	benchName    = "Bob Dole"
	benchTTL     = time.Hour
	benchClock   = 1400000000
)

// floorMint is the hand-rolled minimum of Mint: the header as a constant,
// the payload appended without escaping (the inputs need none), one HMAC.
func floorMint(key []byte, network, userID, displayName string, expires, iat int64) string {
	const header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" // {"alg":"HS256","typ":"JWT"}
	payload := make([]byte, 0, 160)
	payload = append(payload, `{"domain":"`...)
	payload = append(payload, network...)
	payload = append(payload, `","user_id":"`...)
	payload = append(payload, userID...)
	payload = append(payload, `","display_name":"`...)
	payload = append(payload, displayName...)
	payload = append(payload, `","expires":`...)
	payload = strconv.AppendInt(payload, expires, 10)
	payload = append(payload, `,"iat":`...)
	payload = strconv.AppendInt(payload, iat, 10)
	payload = append(payload, '}')

	enc := base64.RawURLEncoding
	tok := make([]byte, 0, len(header)+2+enc.EncodedLen(len(payload))+43)
	tok = append(tok, header...)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, payload)
	m := hmac.New(sha256.New, key)
	m.Write(tok)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, m.Sum(nil))
	return string(tok)
}

type floorClaims struct {
	Domain      string  `json:"domain"`
	UserID      string  `json:"user_id"`
	DisplayName string  `json:"display_name"`
	Expires     float64 `json:"expires"`
}

// floorSignature checks the HMAC of a token by hand.
func floorSignature(key []byte, token string) (payloadSeg string, ok bool) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", false
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		return "", false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token[:i]))
	if !hmac.Equal(m.Sum(nil), sig) {
		return "", false
	}
	_, payloadSeg, _ = strings.Cut(token[:i], ".")
	return payloadSeg, true
}

// floorVerify is the hand-rolled minimum of Verify: HMAC, then the claims
// decoded into a struct with encoding/json, then domain and expiry.
func floorVerify(key []byte, network, token string, now float64) (*floorClaims, bool) {
	seg, ok := floorSignature(key, token)
	if !ok {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, false
	}
	var c floorClaims
	if json.Unmarshal(payload, &c) != nil || c.Domain != network || c.Expires < now {
		return nil, false
	}
	return &c, true
}

func benchCodec(tb testing.TB) *Codec {
	tb.Helper()
	c, err := New(Config{Network: benchNetwork, Key: benchKey, Now: func() time.Time { return time.Unix(benchClock, 0) }})
	require.NoError(tb, err)
	return c
}

// TestFloorMatches keeps the floor honest: it builds and accepts the very
// tokens the codec does.
func TestFloorMatches(t *testing.T) {
	t.Parallel()
	c := benchCodec(t)
	tok, err := c.Mint(benchUser, benchName, benchTTL)
	require.NoError(t, err)
	require.Equal(t, tok, floorMint([]byte(benchKey), benchNetwork, benchUser, benchName, benchClock+3600, benchClock))

	fc, ok := floorVerify([]byte(benchKey), benchNetwork, tok, benchClock)
	require.True(t, ok)
	claims, err := c.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, claims.UserID, fc.UserID)
	require.Equal(t, claims.DisplayName, fc.DisplayName)
}

var (
	sinkString string
	sinkClaims *Claims
	sinkFloor  *floorClaims
)

func BenchmarkMint(b *testing.B) {
	key := []byte(benchKey)
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkString = floorMint(key, benchNetwork, benchUser, benchName, benchClock+3600, benchClock)
		}
	})
	b.Run("tokens", func(b *testing.B) {
		c := benchCodec(b)
		b.ReportAllocs()
		for b.Loop() {
			tok, err := c.Mint(benchUser, benchName, benchTTL)
			if err != nil {
				b.Fatal(err)
			}
			sinkString = tok
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	c := benchCodec(b)
	tok, err := c.Mint(benchUser, benchName, benchTTL)
	require.NoError(b, err)
	key := []byte(benchKey)

	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fc, ok := floorVerify(key, benchNetwork, tok, benchClock)
			if !ok {
				b.Fatal("floor refused")
			}
			sinkFloor = fc
		}
	})
	b.Run("floor_signature_only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			seg, ok := floorSignature(key, tok)
			if !ok {
				b.Fatal("floor refused")
			}
			sinkString = seg
		}
	})
	b.Run("tokens", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			claims, err := c.Verify(tok)
			if err != nil {
				b.Fatal(err)
			}
			sinkClaims = claims
		}
	})
	// For scale: jwt/v5's own parser with MapClaims, which Verify avoids
	// (reflection, a map, every segment decoded before the signature).
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	b.Run("jwt_parser_mapclaims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t, err := parser.Parse(tok, keyFunc)
			if err != nil || t.Claims.(jwt.MapClaims)["domain"] != benchNetwork {
				b.Fatal(err)
			}
		}
	})
	// A Livefyre-minted shape: another header, float expires; the header is
	// decoded and parsed instead of matched.
	other := signRaw(benchKey, `{"alg": "HS256", "typ": "JWT"}`,
		`{"domain": "labs.fyre.co", "expires": 1400003600.904435, "user_id": "user-1.a_b", "display_name": "Bob Dole"}`)
	b.Run("tokens_foreign_header", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			claims, err := c.Verify(other)
			if err != nil {
				b.Fatal(err)
			}
			sinkClaims = claims
		}
	})
	// During a rotation, a token of the previous key costs a second HMAC.
	rotated, err := New(Config{Network: benchNetwork, Key: "bmV3IGxhYnMga2V5IDEyMzQ1Njc=", PreviousKeys: []string{benchKey},
		Now: func() time.Time { return time.Unix(benchClock, 0) }})
	require.NoError(b, err)
	b.Run("tokens_previous_key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			claims, err := rotated.Verify(tok)
			if err != nil {
				b.Fatal(err)
			}
			sinkClaims = claims
		}
	})
}
