package hub

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"abc", 0}, {"-1", 0}, {"0", time.Second}, {"120", 2 * time.Minute},
		{"99999999", livefyre.MaxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), time.Second},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, parseRetryAfter(tc.in, now), tc.in)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{0, 0.5, 5 * time.Second},
		{1, 0.5, 5 * time.Second},
		{1, 0, 4500 * time.Millisecond},
		{1, 1, 5500 * time.Millisecond},
		{2, 0.5, 5 * time.Minute},
		{2, 0, 270 * time.Second},
		{9, 0.5, 24 * time.Hour},
		{9, 0.75, 24*time.Hour + 72*time.Minute},
		{50, 0.5, 24 * time.Hour},
		{50, 0, 24*time.Hour - 144*time.Minute},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, retryDelay(tt.attempt, tt.r), "attempt %d, r %v", tt.attempt, tt.r)
	}
}

func TestCheckPublic(t *testing.T) {
	t.Parallel()
	refused := []string{"127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"fe80::1", "0.0.0.0", "::", "100.64.0.1", "100.100.100.200", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
		"224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1", "198.18.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "168.63.129.16",
		"192.0.2.1"}
	for _, s := range refused {
		err := checkPublic(netip.MustParseAddr(s))
		require.ErrorIs(t, err, ErrPrivateTarget, s)
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "93.184.216.34"} {
		require.NoError(t, checkPublic(netip.MustParseAddr(s)), s)
	}
}

func TestCheckPullTemplate(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://example.yoursite.com/some_path/?id={id}", "http://x.example/u/{id}", "https://x.example:8443/p?x=1&id={id}"} {
		require.NoError(t, checkPullTemplate(ok), ok)
	}
	// The libraries' own negative cases (spec §6.1) and more.
	for _, bad := range []string{"url", "http://thisisa.test.url/", "blah.com/", "www.test.com", "url/{id", "blah.com/{id}",
		"ftp://x.example/{id}", "https://x.example/p#{id}", "https://{id}.example/p", "https:///p?id={id}", "javascript:alert({id})",
		"https://x.example/ p?id={id}", ""} {
		require.Error(t, checkPullTemplate(bad), bad)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	err := redact(&url.Error{Op: "Get", URL: "https://x.example/p?id=u&lftoken=eyJsecret", Err: errors.New("boom")})
	require.Equal(t, `Get "https://x.example/p": boom`, err.Error())
	err = redact(&url.Error{Op: "Get", URL: "%zz?lftoken=eyJsecret", Err: errors.New("boom")})
	require.NotContains(t, err.Error(), "eyJ")
}

// The hub and the gateway cap Retry-After alike (livefyre.MaxRetryAfter,
// 48 h); the hub's own cap was 24 h.
func TestParseRetryAfterSharedCap(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.Equal(t, 30*time.Hour, parseRetryAfter("108000", now))
	require.Equal(t, 48*time.Hour, parseRetryAfter("99999999", now))
	require.Equal(t, 36*time.Hour, parseRetryAfter(now.Add(36*time.Hour).Format(http.TimeFormat), now))
}
