package tokens

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// MaxDisplayNameLength is the longest display name, in characters (runes),
// that Livefyre documents for a userAuthToken. Mint refuses longer ones;
// Verify accepts them (no Livefyre library enforces the limit).
const MaxDisplayNameLength = 50

// maxExpires is 9999-12-31T23:59:59Z: the last expiry this package mints or
// accepts, so that every expiry is a valid time.Time and JSON timestamp.
const maxExpires = 253402300799

// mintHeader is base64url({"alg":"HS256","typ":"JWT"}), the header of every
// minted token, computed once.
var mintHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// MaxUserIDLength is the longest user id, in bytes: Livefyre's import
// schema allows 1 to 255 (spec §4), and both the gateway and the hub hold
// every id they take to it.
const MaxUserIDLength = 255

// UserIDRule says what ValidUserID requires, for error messages.
const UserIDRule = `must match ^[a-zA-Z0-9_.-]+$, be at most 255 bytes and not be "." or ".."`

// ValidUserID reports whether id matches ^[a-zA-Z0-9_.-]+$, the rule of
// every Livefyre library since 2.0 and of Livefyre's documentation, is at
// most MaxUserIDLength bytes long, and is neither "." nor "..": those
// match the rule but name the current and parent directory in a URL path,
// where clients and routers rewrite them, so a ping or pull for such a
// user could never reach it.
func ValidUserID(id string) bool {
	if id == "" || len(id) > MaxUserIDLength || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9',
			b == '_', b == '.', b == '-':
		default:
			return false
		}
	}
	return true
}

// IsReservedUserID reports whether id is "system" in any letter case: the
// network owner's identity, which only MintSystem may put in a token. A
// login, a webhook or a user token carrying it, in any case, would be read
// as (or mistaken for) a system token somewhere down the line.
func IsReservedUserID(id string) bool { return strings.EqualFold(id, SystemUserID) }

// validDisplayName checks what Mint requires of a display name.
func validDisplayName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidDisplayName)
	}
	if n := utf8.RuneCountInString(name); n > MaxDisplayNameLength {
		return fmt.Errorf("%w: %d characters, at most %d allowed", ErrInvalidDisplayName, n, MaxDisplayNameLength)
	}
	return nil
}

// Mint returns a userAuthToken for userID with displayName, valid for ttl
// from now (rounded up to whole seconds).
//
// It refuses, rather than repairs, what Livefyre would not take: an id that
// breaks ValidUserID or is reserved (IsReservedUserID: "system" in any
// case; MintSystem is the only way to a system token) (ErrInvalidUserID),
// a display name over
// MaxDisplayNameLength characters or not UTF-8 (ErrInvalidDisplayName; the
// layers that take outside input validate or shorten names first), and a
// ttl that is not positive (ErrInvalidTTL). An empty display name is
// allowed, as in every library.
func (c *Codec) Mint(userID, displayName string, ttl time.Duration) (string, error) {
	if !ValidUserID(userID) {
		return "", fmt.Errorf("%w: %q "+UserIDRule, ErrInvalidUserID, truncateForError(userID))
	}
	if IsReservedUserID(userID) {
		return "", fmt.Errorf("%w: %q is reserved for system tokens", ErrInvalidUserID, userID)
	}
	if err := validDisplayName(displayName); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w: %s is not positive", ErrInvalidTTL, ttl)
	}
	return c.mint(userID, displayName, ttl)
}

// MintUntil returns a token for userID that expires at expires (cut down to
// the whole second, so never later) and carries only domain, user_id,
// expires and iat: the shape of the tokens Livefyre's own auth API issued,
// with no display name. The hub signs its app-session tokens this way, with
// a Codec of its own key. It refuses what Mint refuses (ErrInvalidUserID),
// and an expiry not at least a second after now (ErrInvalidTTL).
func (c *Codec) MintUntil(userID string, expires time.Time) (string, error) {
	if !ValidUserID(userID) {
		return "", fmt.Errorf("%w: %q "+UserIDRule, ErrInvalidUserID, truncateForError(userID))
	}
	if IsReservedUserID(userID) {
		return "", fmt.Errorf("%w: %q is reserved for system tokens", ErrInvalidUserID, userID)
	}
	iat := c.now().Unix()
	exp := expires.Unix() // floor: never later than asked
	if exp <= iat {
		return "", fmt.Errorf("%w: expiry %s is not after now", ErrInvalidTTL, expires.UTC().Format(time.RFC3339))
	}
	if iat < 0 || exp > maxExpires {
		return "", fmt.Errorf("%w: expiry after the year 9999", ErrInvalidTTL)
	}
	return c.sign(userID, nil, iat, exp)
}

// MintSystem returns a system token: user and display name "system", valid
// for ttl, or DefaultSystemTTL (24h) when ttl is zero. Negative ttls are
// refused with ErrInvalidTTL.
func (c *Codec) MintSystem(ttl time.Duration) (string, error) {
	if ttl == 0 {
		ttl = DefaultSystemTTL
	}
	if ttl < 0 {
		return "", fmt.Errorf("%w: %s is negative", ErrInvalidTTL, ttl)
	}
	return c.mint(SystemUserID, SystemUserID, ttl)
}

func (c *Codec) mint(userID, displayName string, ttl time.Duration) (string, error) {
	iat := c.now().Unix()
	secs := int64(ttl / time.Second)
	if ttl%time.Second != 0 {
		secs++
	}
	if iat < 0 || secs > maxExpires-iat {
		return "", fmt.Errorf("%w: expiry after the year 9999", ErrInvalidTTL)
	}
	return c.sign(userID, &displayName, iat, iat+secs)
}

// sign builds and signs the payload; a nil displayName leaves the claim out.
func (c *Codec) sign(userID string, displayName *string, iat, expires int64) (string, error) {

	// The payload is appended by hand, in Livefyre's claim order, rather
	// than marshalled: it is fixed, small and on every request's path.
	var scratch [256]byte
	payload := append(scratch[:0], `{"domain":`...)
	payload = appendJSONString(payload, c.network)
	payload = append(payload, `,"user_id":`...)
	payload = appendJSONString(payload, userID)
	if displayName != nil {
		payload = append(payload, `,"display_name":`...)
		payload = appendJSONString(payload, *displayName)
	}
	payload = append(payload, `,"expires":`...)
	payload = strconv.AppendInt(payload, expires, 10)
	payload = append(payload, `,"iat":`...)
	payload = strconv.AppendInt(payload, iat, 10)
	payload = append(payload, '}')

	enc := base64.RawURLEncoding
	n := len(mintHeader) + 1 + enc.EncodedLen(len(payload))
	tok := make([]byte, n, n+1+enc.EncodedLen(32))
	copy(tok, mintHeader)
	tok[len(mintHeader)] = '.'
	enc.Encode(tok[len(mintHeader)+1:], payload)

	sig, err := jwt.SigningMethodHS256.Sign(string(tok), c.signKey)
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, sig)
	return string(tok), nil
}

// appendJSONString appends s as a JSON string. s must be valid UTF-8 (Mint
// checks). Besides what JSON requires it escapes U+2028 and U+2029, as
// encoding/json does, so that a decoded payload is safe inside JavaScript.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// truncateForError shortens outside input quoted in an error message.
func truncateForError(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
