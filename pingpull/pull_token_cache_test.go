package pingpull

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/tokens"
)

// The verified-token cache answers what the codec answers: a cached token
// is refused once it expired (after the codec's leeway, which the cache
// leaves to the codec), a tampered copy of a cached token is refused, and
// a Handler built with rotated keys refuses a token another Handler cached.
func TestPullTokenCache(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	token, err := b.codec.MintSystem(time.Hour)
	require.NoError(t, err)
	pull := func(t *testing.T, b *testBundle, token string) int {
		t.Helper()
		status, _, body := b.do(t, http.MethodGet, pullPath("u1", token), "")
		if status == http.StatusForbidden {
			require.Empty(t, body, "403 has an empty body")
		}
		return status
	}

	require.Equal(t, http.StatusOK, pull(t, b, token), "verified and cached")
	require.Len(t, b.h.tokenCache, 1)
	for key := range b.h.tokenCache {
		require.NotContains(t, string(key[:]), token, "the cache holds digests, not tokens")
	}
	require.Equal(t, http.StatusForbidden, pull(t, b, token[:len(token)-2]+"xx"), "tampered copy of a cached token")
	require.Equal(t, http.StatusForbidden, pull(t, b, token+"x"), "cached token with a byte appended")

	t.Run("rotated key", func(t *testing.T) {
		// The same store, a replica restarted with a new key: the old key
		// dropped refuses the token, kept as a previous key accepts it.
		for _, tt := range []struct {
			name     string
			previous []string
			want     int
		}{
			{"old key dropped", nil, http.StatusForbidden},
			{"old key kept as previous", []string{testKey}, http.StatusOK},
		} {
			codec, err := tokens.New(tokens.Config{Network: testNetwork, Key: "rotated-key", PreviousKeys: tt.previous, Now: b.now})
			require.NoError(t, err)
			other := setup(t, setupOpts{store: b.store, cfg: func(c *Config) { c.Tokens = codec }})
			require.Equal(t, tt.want, pull(t, other, token), tt.name)
		}
		require.Equal(t, http.StatusOK, pull(t, b, token), "the old replica's codec still has the old key")
	})

	// Still cached just before expiry; in the leeway the codec decides
	// (it accepts); after it, refused although it was cached.
	b.clock.Advance(time.Hour - time.Second)
	require.Equal(t, http.StatusOK, pull(t, b, token))
	b.clock.Advance(time.Second + tokens.DefaultLeeway/2)
	require.Equal(t, http.StatusOK, pull(t, b, token), "in the leeway: the codec's answer")
	b.clock.Advance(tokens.DefaultLeeway)
	require.Equal(t, http.StatusForbidden, pull(t, b, token), "expired, although cached")
}

// A full cache is cleared, not grown: it stays bounded however many
// distinct valid tokens come.
func TestPullTokenCacheBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.accept(t, webhookReq{body: profileBody("u1", "Ann")})
	for i := range pullTokenCacheSize + 10 {
		token, err := b.codec.MintSystem(time.Hour + time.Duration(i)*time.Second)
		require.NoError(t, err)
		status, _, _ := b.do(t, http.MethodGet, pullPath("u1", token), "")
		require.Equal(t, http.StatusOK, status)
		require.LessOrEqual(t, len(b.h.tokenCache), pullTokenCacheSize)
	}
}
