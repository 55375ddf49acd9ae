package tokens

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestValidateDisplayName(t *testing.T) {
	t.Parallel()
	accepted := map[string]string{
		"empty":                  "",
		"ascii":                  "Bob Dole",
		"fifty runes":            strings.Repeat("ß", MaxDisplayNameLength),
		"zwnj in Persian":        "می\u200Cخواهم",
		"zwj in Devanagari":      "क्\u200Dष",
		"zwj emoji sequence":     "👩\u200D💻 Ada",
		"combining marks":        "Zoe\u0308",
		"arabic":                 "محمد",
		"no-break space":         "Bob\u00A0Dole",
		"variation selector":     "☺\uFE0F",
		"ideographic characters": "山田太郎",
	}
	for name, in := range accepted {
		require.NoError(t, ValidateDisplayName(in), name)
	}
	refused := map[string]string{
		"right-to-left override":  "Bob\u202Egnp.exe",
		"left-to-right override":  "\u202DBob",
		"right-to-left isolate":   "Bob\u2067x\u2069",
		"pop directional":         "Bob\u202C",
		"right-to-left mark":      "Bob\u200F",
		"left-to-right mark":      "\u200EBob",
		"zero-width space":        "Bo\u200Bb",
		"word joiner":             "Bo\u2060b",
		"byte order mark":         "\uFEFFBob",
		"soft hyphen":             "Bo\u00ADb",
		"tag character":           "Bob\U000E0041",
		"arabic letter mark":      "Bob\u061C",
		"interlinear annotation":  "Bob\uFFF9",
		"nul":                     "Bob\x00",
		"newline":                 "Bob\nDole",
		"tab":                     "Bob\tDole",
		"delete":                  "Bob\x7f",
		"c1 control":              "Bob\u0085",
		"line separator":          "Bob\u2028Dole",
		"paragraph separator":     "Bob\u2029Dole",
		"fifty-one runes":         strings.Repeat("ß", MaxDisplayNameLength+1),
		"invalid utf-8":           "Bob\xff",
		"lone surrogate encoding": "Bob\xed\xa0\x80",
	}
	for name, in := range refused {
		require.ErrorIs(t, ValidateDisplayName(in), ErrInvalidDisplayName, name)
	}
}

func TestSanitizeDisplayName(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ in, want string }{
		"clean name unchanged":     {"Bob Dole", "Bob Dole"},
		"joiners kept":             {"می\u200Cخواهم", "می\u200Cخواهم"},
		"override dropped":         {"Bob\u202Egnp.exe", "Bobgnp.exe"},
		"invisible dropped":        {"\uFEFFBo\u200Bb\u200E", "Bob"},
		"controls dropped":         {"Bob\nDole\x00", "BobDole"},
		"invalid utf-8 dropped":    {"Bo\xffb", "Bob"},
		"trimmed":                  {"  Bob  ", "Bob"},
		"cut to fifty runes":       {strings.Repeat("ß", 80), strings.Repeat("ß", MaxDisplayNameLength)},
		"cut counts after drops":   {strings.Repeat("a\u200B", 60), strings.Repeat("a", MaxDisplayNameLength)},
		"trailing space after cut": {strings.Repeat("a", 49) + "  b", strings.Repeat("a", 49)},
		"only invisible":           {"\u202E\u200B", ""},
	}
	for name, tc := range cases {
		got := SanitizeDisplayName(tc.in)
		require.Equal(t, tc.want, got, name)
		require.NoError(t, ValidateDisplayName(got), name)
	}
}

// FuzzDisplayName: for any input, SanitizeDisplayName's result passes
// ValidateDisplayName, is trimmed, holds no refused rune, and leaves a
// valid trimmed name as it is.
func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"", "Bob", "Bob\u202Egnp", "می\u200Cخواهم", strings.Repeat("ß", 60), "\xff\xfe", " \u2028 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateDisplayName(name)
		got := SanitizeDisplayName(name)
		require.NoError(t, ValidateDisplayName(got))
		require.Equal(t, strings.TrimSpace(got), got)
		require.LessOrEqual(t, utf8.RuneCountInString(got), MaxDisplayNameLength)
		for _, r := range got {
			if r != zeroWidthJoiner && r != zeroWidthNonJoiner {
				require.False(t, unicode.Is(unicode.Cf, r) || unicode.IsControl(r), "%U", r)
			}
		}
		if err == nil && strings.TrimSpace(name) == name {
			require.Equal(t, name, got)
		}
	})
}
