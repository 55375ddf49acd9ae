package hub

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// TestPullRedirectPolicy checks issue 11's item 6 on real loopback servers:
// a redirected pull never carries the pull URL (and its lftoken) in
// Referer, and leaves the registered host name only when the hub is
// configured to. The two host names are 127.0.0.1 and localhost, two
// origins on one machine.
func TestPullRedirectPolicy(t *testing.T) {
	t.Parallel()

	// redirectTo starts the registered pull endpoint on 127.0.0.1: it
	// redirects every request, query (and so lftoken) kept, to base.
	redirectTo := func(t *testing.T, base string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusFound)
		}))
		t.Cleanup(srv.Close)
		require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)
		return srv
	}
	// target is the redirect's target, recording the Referer it receives.
	target := func(t *testing.T, b *testBundle) (*endpoint, chan string) {
		ep := newEndpoint(t, b.codec)
		ep.set("bob", bobProfile)
		referers := make(chan string, 10)
		ep.setHook(func(r *http.Request) { referers <- r.Header.Get("Referer") })
		return ep, referers
	}
	ok := func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK }

	t.Run("same host: followed, no Referer", func(t *testing.T) {
		t.Parallel()
		b := setup(t, withJobs(), withPrivate())
		ep, referers := target(t, b)
		redirector := redirectTo(t, ep.srv.URL) // 127.0.0.1, another port
		b.register(redirector.URL + "/pull?id={id}")
		b.ping("bob")
		b.waitProfile("bob", ok)
		require.Empty(t, <-referers, "the redirected pull sent a Referer (with the pull URL's lftoken)")
	})

	t.Run("cross host: refused by default", func(t *testing.T) {
		t.Parallel()
		b := setup(t, withJobs(), withPrivate())
		ep, _ := target(t, b)
		redirector := redirectTo(t, strings.Replace(ep.srv.URL, "127.0.0.1", "localhost", 1))
		b.register(redirector.URL + "/pull?id={id}")
		b.ping("bob")
		// The fast path's pull is refused, then its job's: a dead letter.
		job := b.waitJob(rivertype.JobStateCancelled)
		require.Len(t, job.Errors, 1, "a bad redirect is not retried")
		require.Contains(t, job.Errors[0].Error, "redirect to another host")
		require.Zero(t, ep.calls.Load(), "the other host was never asked")
		require.Equal(t, "error: bad redirect", b.profile("bob").LastPullResult)
		require.Equal(t, 2.0, b.metric("ssogate_hub_pulls_total", "redirect"))
	})

	t.Run("cross host: followed when configured, no Referer", func(t *testing.T) {
		t.Parallel()
		b := setup(t, withJobs(), withPrivate(), withConfig(func(c *Config) { c.PullFollowCrossHostRedirects = true }))
		ep, referers := target(t, b)
		redirector := redirectTo(t, strings.Replace(ep.srv.URL, "127.0.0.1", "localhost", 1))
		b.register(redirector.URL + "/pull?id={id}")
		b.ping("bob")
		b.waitProfile("bob", ok)
		require.Empty(t, <-referers, "the redirected pull sent a Referer (with the pull URL's lftoken)")
	})
}

// TestRedirectPolicyCheck is the policy as a table.
func TestRedirectPolicyCheck(t *testing.T) {
	t.Parallel()

	first, err := http.NewRequest(http.MethodGet, "http://gw.example:8080/pull?id=bob&lftoken=secret", nil)
	require.NoError(t, err)
	tests := []struct {
		name      string
		to        string
		via       int
		crossHost bool
		want      error
	}{
		{"same host", "http://gw.example:8080/other?lftoken=secret", 1, false, nil},
		{"same host, other port and scheme", "https://GW.example/pull", 1, false, nil},
		{"other host", "http://evil.example/pull", 1, false, errCrossHostRedirect},
		{"other host allowed", "http://evil.example/pull", 1, true, nil},
		{"subdomain is another host", "http://a.gw.example:8080/pull", 1, false, errCrossHostRedirect},
		{"not http", "ftp://gw.example/pull", 1, false, errBadRedirect},
		{"too many", "http://gw.example:8080/pull", maxRedirects, false, errTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, tt.to, nil)
			require.NoError(t, err)
			req.Header.Set("Referer", first.URL.String())
			via := make([]*http.Request, tt.via)
			for i := range via {
				via[i] = first
			}
			err = redirectPolicy{crossHost: tt.crossHost}.check(req, via)
			require.ErrorIs(t, err, tt.want)
			if tt.want == nil {
				require.NoError(t, err)
			}
			require.Empty(t, req.Header.Get("Referer"))
		})
	}
}
