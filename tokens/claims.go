package tokens

import (
	"fmt"
	"math"
	"time"
)

// Claims are the claims of a verified token.
type Claims struct {
	// Domain is the network name; it always equals the codec's Network.
	Domain string `json:"domain"`
	// UserID is the user id, "system" for a system token. It always
	// satisfies ValidUserID.
	UserID string `json:"user_id"`
	// DisplayName is the display_name claim, "" when absent (tokens issued
	// by Livefyre's own auth API have none). It is not cut to
	// MaxDisplayNameLength.
	DisplayName string `json:"display_name"`
	// Expires is when the token stops being valid: the expires claim, or
	// exp when present and earlier. UTC, microsecond precision.
	Expires time.Time `json:"expires"`
	// IssuedAt is the iat claim when it is a number in range, else zero.
	// It is informational: Verify ignores it.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	// HasDisplayName tells an empty display name from an absent one.
	HasDisplayName bool `json:"has_display_name"`
}

// IsSystem reports whether the claims are a system token's.
func (c *Claims) IsSystem() bool { return c.UserID == SystemUserID }

// payloadClaims are the claims as found in a payload, before any check.
// Byte slices alias the decoded payload.
type payloadClaims struct {
	domain, userID, displayName          []byte
	hasDomain, hasUserID, hasDisplayName bool

	expires, exp, nbf, iat             float64
	hasExpires, hasExp, hasNbf, hasIat bool
}

// claimNames are the members parsePayload reads; any other is ignored.
const (
	claimDomain = iota
	claimUserID
	claimDisplayName
	claimExpires
	claimExp
	claimNbf
	claimIat
	claimCount
)

var claimNames = [claimCount]string{"domain", "user_id", "display_name", "expires", "exp", "nbf", "iat"}

// parsePayload reads the claims of a decoded payload. It checks JSON types
// (a wrong type is ErrMalformed) but no values.
func parsePayload(payload []byte) (payloadClaims, error) {
	var pc payloadClaims
	s, ok := newObjectScanner(payload)
	if !ok {
		return pc, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	var seen [claimCount]bool
	for {
		name, value, ok := s.next()
		if !ok {
			break
		}
		claim := -1
		for i, n := range claimNames {
			if nameIs(name, n) {
				claim = i
				break
			}
		}
		if claim < 0 {
			continue
		}
		if seen[claim] {
			return pc, fmt.Errorf("%w: duplicate %s claim", ErrMalformed, claimNames[claim])
		}
		seen[claim] = true
		kind := kindOf(value)
		switch claim {
		case claimDomain, claimUserID, claimDisplayName:
			if kind == kindNull {
				continue // as if absent, like JavaScript's == checks
			}
			if kind != kindString {
				return pc, fmt.Errorf("%w: %s is not a string", ErrMalformed, claimNames[claim])
			}
			str := rawString(value)
			if str == nil {
				return pc, fmt.Errorf("%w: %s is not a valid string", ErrMalformed, claimNames[claim])
			}
			switch claim {
			case claimDomain:
				pc.domain, pc.hasDomain = str, true
			case claimUserID:
				pc.userID, pc.hasUserID = str, true
			default:
				pc.displayName, pc.hasDisplayName = str, true
			}
		case claimIat:
			// Ignored beyond reporting it: any type goes.
			if kind == kindNumber {
				if f, ok := rawNumber(value); ok && f >= 0 && f <= maxExpires {
					pc.iat, pc.hasIat = f, true
				}
			}
		default: // expires, exp, nbf
			if kind != kindNumber {
				return pc, fmt.Errorf("%w: %s is not a number", ErrMalformed, claimNames[claim])
			}
			f, ok := rawNumber(value)
			if !ok || f < 0 || f > maxExpires {
				return pc, fmt.Errorf("%w: %s is out of range", ErrMalformed, claimNames[claim])
			}
			switch claim {
			case claimExpires:
				pc.expires, pc.hasExpires = f, true
			case claimExp:
				pc.exp, pc.hasExp = f, true
			default:
				pc.nbf, pc.hasNbf = f, true
			}
		}
	}
	return pc, nil
}

// secondsToTime converts epoch seconds (possibly fractional) to a UTC time,
// rounded to the microsecond: Node writes milliseconds as a binary fraction
// (1400086400.123), and nanoseconds would only show its rounding noise.
func secondsToTime(f float64) time.Time {
	sec := math.Floor(f)
	usec := math.Round((f - sec) * 1e6)
	if usec >= 1e6 {
		sec++
		usec -= 1e6
	}
	return time.Unix(int64(sec), int64(usec)*1e3).UTC()
}
