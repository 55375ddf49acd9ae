package tokens

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenLength bounds the tokens Verify and PeekDomain read. Livefyre
// tokens are a few hundred bytes; anything near this is an attack.
const MaxTokenLength = 8 << 10

// hs256SigLength is the length of a base64url (unpadded) HMAC-SHA256.
const hs256SigLength = 43

// knownHS256Headers are header segments seen on every request (ssogate's
// own and Node's), accepted without decoding them again.
var knownHS256Headers = [...]string{
	mintHeader,
	base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`)),
}

// maxHeaderLength bounds a decoded header; real ones are under 64 bytes.
const maxHeaderLength = 512

// segments are the three parts of a compact JWS, as received.
type segments struct {
	header, payload, signature string
	signingInput               string // header + "." + payload
}

// split checks the token's shape: length, exactly three segments, and only
// base64url characters (so no padding, and none of the whitespace that Go's
// decoder would skip while the signature covers it).
func split(token string) (segments, error) {
	if len(token) > MaxTokenLength {
		return segments{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenLength)
	}
	dots := 0
	for i := 0; i < len(token); i++ {
		switch b := token[i]; {
		case b == '.':
			dots++
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_':
		default:
			return segments{}, fmt.Errorf("%w: byte %#x is not base64url", ErrMalformed, b)
		}
	}
	if dots != 2 {
		return segments{}, fmt.Errorf("%w: %d segments, want 3", ErrMalformed, dots+1)
	}
	h, rest, _ := strings.Cut(token, ".")
	p, sig, _ := strings.Cut(rest, ".")
	return segments{header: h, payload: p, signature: sig, signingInput: token[:len(h)+1+len(p)]}, nil
}

// decodeSegment decodes a base64url segment into scratch when it fits.
func decodeSegment(seg string, scratch []byte) ([]byte, bool) {
	enc := base64.RawURLEncoding.Strict()
	n := enc.DecodedLen(len(seg))
	dst := scratch
	if n > len(dst) {
		dst = make([]byte, n)
	}
	n, err := enc.Decode(dst, []byte(seg))
	if err != nil {
		return nil, false
	}
	return dst[:n], true
}

// checkHeader accepts a header whose alg is HS256, whatever else it holds.
func checkHeader(seg string) error {
	for _, known := range knownHS256Headers {
		if seg == known {
			return nil
		}
	}
	if base64.RawURLEncoding.DecodedLen(len(seg)) > maxHeaderLength {
		return fmt.Errorf("%w: header longer than %d bytes", ErrMalformed, maxHeaderLength)
	}
	var scratch [maxHeaderLength]byte
	header, ok := decodeSegment(seg, scratch[:])
	if !ok {
		return fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	s, ok := newObjectScanner(header)
	if !ok {
		return fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	var alg []byte
	found := false
	for {
		name, value, ok := s.next()
		if !ok {
			break
		}
		if nameIs(name, "crit") {
			// RFC 7515: extensions named in crit must be understood; this
			// verifier understands none, and no Livefyre library sets it.
			return fmt.Errorf("%w: crit header not supported", ErrUnsupportedAlgorithm)
		}
		if !nameIs(name, "alg") {
			continue
		}
		if found {
			return fmt.Errorf("%w: duplicate alg", ErrMalformed)
		}
		found = true
		if kindOf(value) != kindString {
			return fmt.Errorf("%w: alg is not a string", ErrUnsupportedAlgorithm)
		}
		alg = rawString(value)
	}
	if !found {
		return fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	// jwt's registry decides what the name means; only its HS256 passes.
	if jwt.GetSigningMethod(string(alg)) != jwt.SigningMethodHS256 {
		return fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, truncateForError(string(alg)))
	}
	return nil
}

// verifySignature checks the signature against every key of the ring.
func (c *Codec) verifySignature(seg segments) error {
	if len(seg.signature) != hs256SigLength {
		return fmt.Errorf("%w: %d characters, want %d", ErrBadSignature, len(seg.signature), hs256SigLength)
	}
	var scratch [32]byte
	sig, ok := decodeSegment(seg.signature, scratch[:])
	if !ok {
		return fmt.Errorf("%w: signature is not canonical base64url", ErrMalformed)
	}
	for _, key := range c.verifyKeys {
		err := jwt.SigningMethodHS256.Verify(seg.signingInput, sig, key)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jwt.ErrSignatureInvalid) {
			return fmt.Errorf("tokens: verify signature: %w", err)
		}
	}
	return ErrBadSignature
}

// Verify checks a userAuthToken or system token of any user and returns its
// claims. The checks, in order: shape (ErrMalformed), header alg HS256
// (ErrUnsupportedAlgorithm), signature with any key of the ring
// (ErrBadSignature), claim types (ErrMalformed), domain equal to the network
// (ErrWrongDomain, also when missing), user id (ErrInvalidUserID), expires
// and exp (*ExpiredError), nbf (ErrNotYetValid). Nothing in the payload is
// looked at before the signature holds.
func (c *Codec) Verify(token string) (*Claims, error) {
	seg, err := split(token)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(seg.header); err != nil {
		return nil, err
	}
	if err := c.verifySignature(seg); err != nil {
		return nil, err
	}
	var scratch [512]byte
	payload, ok := decodeSegment(seg.payload, scratch[:])
	if !ok {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	pc, err := parsePayload(payload)
	if err != nil {
		return nil, err
	}
	return c.check(&pc)
}

// VerifySystem is Verify plus what Livefyre's validateLivefyreToken adds:
// the user must be "system" (ErrNotSystem).
func (c *Codec) VerifySystem(token string) (*Claims, error) {
	claims, err := c.Verify(token)
	if err != nil {
		return nil, err
	}
	if !claims.IsSystem() {
		return nil, fmt.Errorf("%w: user %q", ErrNotSystem, claims.UserID)
	}
	return claims, nil
}

// check applies the value checks to signed claims and builds Claims.
func (c *Codec) check(pc *payloadClaims) (*Claims, error) {
	if !pc.hasDomain {
		return nil, fmt.Errorf("%w: no domain claim", ErrWrongDomain)
	}
	if string(pc.domain) != c.network {
		return nil, fmt.Errorf("%w: %q, want %q", ErrWrongDomain, truncateForError(string(pc.domain)), c.network)
	}
	if !pc.hasUserID {
		return nil, fmt.Errorf("%w: no user_id claim", ErrMalformed)
	}
	// Strings compared in place convert without allocating.
	var userID string
	if string(pc.userID) == SystemUserID {
		userID = SystemUserID
	} else {
		userID = string(pc.userID)
		if !ValidUserID(userID) {
			return nil, fmt.Errorf("%w: %q "+UserIDRule, ErrInvalidUserID, truncateForError(userID))
		}
	}
	if !pc.hasExpires {
		return nil, fmt.Errorf("%w: no expires claim", ErrMalformed)
	}

	now := c.now()
	expires := secondsToTime(pc.expires)
	expired := now.After(expires.Add(c.leeway))
	if pc.hasExp {
		// RFC 7519: valid only before exp (expires is inclusive).
		exp := secondsToTime(pc.exp)
		if exp.Before(expires) {
			expires = exp
		}
		expired = expired || !now.Before(exp.Add(c.leeway))
	}
	if expired {
		return nil, &ExpiredError{Expires: expires}
	}
	if pc.hasNbf {
		if nbf := secondsToTime(pc.nbf); now.Add(c.leeway).Before(nbf) {
			return nil, fmt.Errorf("%w: not before %s", ErrNotYetValid, nbf.Format(time.RFC3339))
		}
	}

	claims := &Claims{
		Domain:         c.network,
		UserID:         userID,
		Expires:        expires,
		HasDisplayName: pc.hasDisplayName,
	}
	if pc.hasDisplayName {
		if string(pc.displayName) == SystemUserID {
			claims.DisplayName = SystemUserID
		} else {
			claims.DisplayName = string(pc.displayName)
		}
	}
	if pc.hasIat {
		claims.IssuedAt = secondsToTime(pc.iat)
	}
	return claims, nil
}

// PeekDomain returns the domain claim of a token WITHOUT verifying it, to
// pick the network (and so the Codec) that must verify it. Never trust the
// result alone. Errors: ErrMalformed, or ErrWrongDomain when the claim is
// missing.
func PeekDomain(token string) (string, error) {
	seg, err := split(token)
	if err != nil {
		return "", err
	}
	var scratch [512]byte
	payload, ok := decodeSegment(seg.payload, scratch[:])
	if !ok {
		return "", fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	pc, err := parsePayload(payload)
	if err != nil {
		return "", err
	}
	if !pc.hasDomain {
		return "", fmt.Errorf("%w: no domain claim", ErrWrongDomain)
	}
	return string(pc.domain), nil
}
