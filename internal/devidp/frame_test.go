package devidp

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPagesCannotBeFramed: every page of the provider, its own and the
// OpenID library's, carries X-Frame-Options DENY and frame-ancestors 'none'.
func TestPagesCannotBeFramed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{
		pathLogin,                     // no auth request: an error page
		pathLogin + "?id=nonexistent", // unknown auth request
		pathLoggedOut,
		"/authorize", // the library's answer to a request without parameters
		"/.well-known/openid-configuration",
	} {
		resp, err := http.Get(b.srv.URL + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
		require.Contains(t, strings.Join(resp.Header.Values("Content-Security-Policy"), ", "), "frame-ancestors 'none'", path)
	}
}
