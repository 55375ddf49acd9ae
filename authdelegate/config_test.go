package authdelegate

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/httpbase"
)

func TestConfigValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	err := Config{
		IssuerURL:           "ftp://x",
		PublicURL:           "http://gw/?q=1",
		AllowedOrigins:      []string{"https://ok.example", "https://bad.example/path"},
		SessionKey:          []byte("short"),
		PreviousSessionKeys: [][]byte{[]byte("x")},
		IdleTimeout:         48 * time.Hour,
		AbsoluteTimeout:     time.Hour,
		TokenTTL:            -time.Second,
	}.WithDefaults().validate()
	require.Error(t, err)
	for _, want := range []string{
		"Store is required", "Tokens is required", "IssuerURL", "ClientID is required",
		"PublicURL", `"https://bad.example/path"`, "SessionKey must be 32 bytes",
		"PreviousSessionKeys[0]", "TokenTTL must not be negative", "IdleTimeout (48h0m0s) must not exceed",
	} {
		require.Contains(t, err.Error(), want)
	}
	require.True(t, strings.HasPrefix(err.Error(), "authdelegate: invalid config: "))
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{PublicURL: "https://gw.example/sso/"}.WithDefaults()
	require.Equal(t, "https://gw.example/sso", c.PublicURL)
	require.Equal(t, DefaultScopes, c.Scopes)
	require.Equal(t, DefaultProfileReadyTimeout, c.ProfileReadyTimeout)
	require.Equal(t, "sub", c.ClaimMapping.UserID)
	require.Equal(t, []string{"name", "preferred_username"}, c.ClaimMapping.DisplayName)
	require.Equal(t, "-", c.ClaimMapping.SettingsURL)
	require.NotNil(t, c.Now)
	require.NotNil(t, c.Logger)
	require.NotNil(t, c.Registerer)
	require.NotNil(t, c.CanonicalProfileFunc)
}

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://Example.COM", "https://example.com", true},
		{"https://example.com:443", "https://example.com", true},
		{"http://example.com:80/", "http://example.com", true},
		{"http://localhost:8123", "http://localhost:8123", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"https://example.com/path", "", false},
		{"https://example.com?x", "", false},
		{"https://user@example.com", "", false},
		{"javascript:alert(1)", "", false},
		{"//example.com", "", false},
		{"null", "", false},
		{"", "", false},
	} {
		got, err := httpbase.NormalizeOrigin(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestUserIDFromSubject(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 129)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "alice", "alice"},
		{"dots and dashes", "user-1.a_b", "user-1.a_b"},
		{"empty", "", ""},
		{"max length", strings.Repeat("a", 128), strings.Repeat("a", 128)},
		{"email", "alice@example.com", "s_ff8d9819fc0e12bf0d24892e45987e249a28dce8"},
		{"uuid with braces", "{abc}", "s_" + sha40("{abc}")},
		{"too long", long, "s_" + sha40(long)},
		{"reserved prefix", "s_abc", "s_" + sha40("s_abc")},
		{"unicode", "jürgen", "s_" + sha40("jürgen")},
		{"reserved system", "system", "s_" + sha40("system")},
		{"reserved System", "System", "s_" + sha40("System")},
		{"reserved SYSTEM", "SYSTEM", "s_" + sha40("SYSTEM")},
		{"not reserved", "systems", "systems"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := UserIDFromSubject(tc.in)
			require.Equal(t, tc.want, got)
			if tc.in != "" {
				require.Regexp(t, `^[a-zA-Z0-9_.-]+$`, got)
			}
		})
	}
}

func sha40(s string) string { return hashSecret(s)[:40] }

func FuzzUserIDFromSubject(f *testing.F) {
	for _, s := range []string{"alice", "a@b", "s_x", "", strings.Repeat("z", 200), "system", "SyStEm"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := UserIDFromSubject(s)
		if s == "" {
			require.Empty(t, got)
			return
		}
		require.Regexp(t, `^[a-zA-Z0-9_.-]{1,128}$`, got)
		require.False(t, strings.EqualFold(got, "system"), "never the reserved id")
		require.Equal(t, got, UserIDFromSubject(s), "stable")
		if got != s {
			require.True(t, strings.HasPrefix(got, "s_"))
		} else {
			require.False(t, strings.HasPrefix(got, "s_"))
		}
	})
}

func TestSealer(t *testing.T) {
	t.Parallel()
	oldKey := []byte("0123456789abcdef0123456789abcdef")
	newKey := []byte("fedcba9876543210fedcba9876543210")
	old, err := newSealer(oldKey, nil)
	require.NoError(t, err)
	sealed := old.seal([]byte("refresh-token"), []byte("session-a"))
	require.NotContains(t, string(sealed), "refresh-token")

	rotated, err := newSealer(newKey, [][]byte{oldKey})
	require.NoError(t, err)
	plain, err := rotated.open(sealed, []byte("session-a"))
	require.NoError(t, err)
	require.Equal(t, "refresh-token", string(plain))

	_, err = rotated.open(sealed, []byte("session-b"))
	require.ErrorIs(t, err, errUnseal, "bound to its row")
	_, err = rotated.open(sealed[:5], []byte("session-a"))
	require.ErrorIs(t, err, errUnseal)
	fresh, err := newSealer(newKey, nil)
	require.NoError(t, err)
	_, err = fresh.open(sealed, []byte("session-a"))
	require.ErrorIs(t, err, errUnseal, "retired key")
}

func TestBearer(t *testing.T) {
	t.Parallel()
	cred := newCredential()
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"Bearer " + cred, true},
		{"bearer " + cred, true},
		{"BEARER  " + cred + " ", true},
		{"Basic " + cred, false},
		{"Bearer", false},
		{"Bearer " + cred + "x", false},
		{"Bearer " + cred[:42] + "=", false},
		{"", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", tc.header)
		got, ok := bearer(r)
		require.Equal(t, tc.ok, ok, tc.header)
		if ok {
			require.Equal(t, cred, got)
		}
	}
}

func FuzzBearer(f *testing.F) {
	f.Add("Bearer " + newCredential())
	f.Add("bearer x")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{header}
		if cred, ok := bearer(r); ok {
			require.Regexp(t, `^[A-Za-z0-9_-]{43}$`, cred)
		}
	})
}

func TestParseLoginRequest(t *testing.T) {
	t.Parallel()
	h := &Handler{origins: map[string]bool{"https://site.example": true, "http://localhost:8123": true}}
	for _, tc := range []struct {
		name  string
		query string
		want  loginRequest
		err   error
	}{
		{"popup default", "origin=https://site.example", loginRequest{Origin: "https://site.example", Mode: modePopup}, nil},
		{"origin normalized", "origin=HTTPS://SITE.example:443", loginRequest{Origin: "https://site.example", Mode: modePopup}, nil},
		{"popup refuses a return_to elsewhere", "origin=https://site.example&return_to=https://evil.example", loginRequest{}, errReturnToNotAllowed},
		{"popup with a return_to for a severed opener", "origin=https://site.example&return_to=https://site.example/a",
			loginRequest{Origin: "https://site.example", Mode: modePopup, ReturnTo: "https://site.example/a"}, nil},
		{"redirect", "origin=https://site.example&mode=redirect&return_to=https://site.example/a?b=c%2523d%23frag",
			loginRequest{Origin: "https://site.example", Mode: modeRedirect, ReturnTo: "https://site.example/a?b=c%23d"}, nil},
		{"unknown origin", "origin=https://evil.example", loginRequest{}, errOriginNotAllowed},
		{"origin as url", "origin=https://site.example/x", loginRequest{}, errOriginNotAllowed},
		{"redirect elsewhere", "origin=https://site.example&mode=redirect&return_to=https://evil.example/", loginRequest{}, errReturnToNotAllowed},
		{"redirect relative", "origin=https://site.example&mode=redirect&return_to=/x", loginRequest{}, errReturnToNotAllowed},
		{"redirect backslash", "origin=https://site.example&mode=redirect&return_to=https:\\\\evil.example", loginRequest{}, errReturnToNotAllowed},
		{"redirect to other scheme", "origin=https://site.example&mode=redirect&return_to=http://site.example/", loginRequest{}, errReturnToNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			got, err := h.parseLoginRequest(q)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseLoginRequest(f *testing.F) {
	h := &Handler{origins: map[string]bool{"https://site.example": true}}
	f.Add("https://site.example", "redirect", "https://site.example/x")
	f.Add("https://site.example", "popup", "")
	f.Add("https://evil.example", "redirect", "//evil.example")
	f.Fuzz(func(t *testing.T, origin, mode, returnTo string) {
		lr, err := h.parseLoginRequest(url.Values{"origin": {origin}, "mode": {mode}, "return_to": {returnTo}})
		if err != nil {
			return
		}
		require.Equal(t, "https://site.example", lr.Origin)
		if lr.Mode == modeRedirect {
			u, err := url.Parse(lr.ReturnTo)
			require.NoError(t, err)
			require.Equal(t, "https://site.example", httpbase.OriginOf(u), "never an open redirect")
			require.Empty(t, u.Fragment)
		}
	})
}
