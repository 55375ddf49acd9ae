package tokens

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The joiners that Arabic, Indic and other scripts (and emoji sequences)
// need; every other format character is refused.
const (
	zeroWidthNonJoiner = '\u200C'
	zeroWidthJoiner    = '\u200D'
)

// hiddenRune reports whether r has no place in a display name: a control
// character, a line or paragraph separator, or a format character (Unicode
// category Cf: bidirectional overrides and isolates, zero-width spaces, the
// byte order mark, soft hyphens, tag characters…) other than the two
// joiners. Such characters make one user's name look like another's, or
// reorder the text around it.
func hiddenRune(r rune) bool {
	switch {
	case r >= ' ' && r < 0x7f:
		return false
	case r == zeroWidthNonJoiner || r == zeroWidthJoiner:
		return false
	case r == '\u2028' || r == '\u2029':
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// ValidateDisplayName reports, as an error wrapping ErrInvalidDisplayName,
// why name is not fit to be shown as a user's display name: it is not
// valid UTF-8, is longer than MaxDisplayNameLength characters (runes, as
// Livefyre's "50 characters" counts), or holds a control character or an
// invisible format character (see SanitizeDisplayName). An empty name is
// valid here; callers that require one check it themselves.
func ValidateDisplayName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidDisplayName)
	}
	if i := strings.IndexFunc(name, hiddenRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		what := "an invisible formatting character"
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			what = "a control character"
		}
		return fmt.Errorf("%w: contains %s (%U)", ErrInvalidDisplayName, what, r)
	}
	if n := utf8.RuneCountInString(name); n > MaxDisplayNameLength {
		return fmt.Errorf("%w: %d characters, at most %d allowed", ErrInvalidDisplayName, n, MaxDisplayNameLength)
	}
	return nil
}

// SanitizeDisplayName returns name made fit to show, for the places that
// take names from others and must be lenient in what they accept (a token
// minted by any Livefyre library, a pulled profile): invalid UTF-8, control
// characters, line separators and format characters other than the
// zero-width joiner and non-joiner are dropped, surrounding space is
// trimmed, and the result is cut to MaxDisplayNameLength characters. The
// result always passes ValidateDisplayName; it may be empty.
func SanitizeDisplayName(name string) string {
	if ValidateDisplayName(name) == nil && strings.TrimSpace(name) == name {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range strings.ToValidUTF8(name, "") {
		if !hiddenRune(r) {
			b.WriteRune(r)
		}
	}
	clean := strings.TrimSpace(b.String())
	if utf8.RuneCountInString(clean) > MaxDisplayNameLength {
		runes := []rune(clean)
		clean = strings.TrimSpace(string(runes[:MaxDisplayNameLength]))
	}
	return clean
}
