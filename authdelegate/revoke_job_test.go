package authdelegate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
)

// startJobs works the Handler's River jobs until the test ends.
func (b *testBundle) startJobs() {
	b.t.Helper()
	workers := river.NewWorkers()
	b.h.AddWorkers(workers)
	require.NoError(b.t, b.store.StartJobs(context.Background(), store.JobsConfig{
		Workers: workers, Queues: b.h.Queues(), FetchCooldown: time.Millisecond, FetchPollInterval: 20 * time.Millisecond,
	}))
	b.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.store.Jobs().Stop(ctx)
	})
}

// refreshToken is the provider refresh token the gateway holds for the
// session of credential.
func (b *testBundle) refreshToken(credential string) string {
	b.t.Helper()
	s := b.session(credential)
	rt, err := b.h.sealer.open(s.RefreshTokenEnc, []byte(s.ID))
	require.NoError(b.t, err)
	require.NotEmpty(b.t, rt)
	return string(rt)
}

// refreshAtProvider uses rt at the provider's token endpoint as the gateway
// would and returns the status and OAuth error code.
func (b *testBundle) refreshAtProvider(rt string) (int, string) {
	b.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, b.idpURL+"/oauth/token", strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testClientSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error
}

func (b *testBundle) waitCounter(label string, atLeast float64) {
	b.t.Helper()
	asynctest.Eventually(b.t, waitFor, fmt.Sprintf("revocations{result=%q} >= %v", label, atLeast), func() bool {
		return counterValue(b.t, b.h.metrics.revocations.WithLabelValues(label)) >= atLeast
	})
}

func TestLogoutRevokesRefreshToken(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.RevokeRetryDelay = 50 * time.Millisecond }})
	b.startJobs()

	t.Run("logout", func(t *testing.T) {
		msg := b.login("alice")
		rt := b.refreshToken(msg.Credential)
		status, _ := b.api(http.MethodPost, "/logout", msg.Credential, nil)
		require.Equal(t, http.StatusOK, status)
		b.waitCounter("ok", 1)
		status, code := b.refreshAtProvider(rt)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", code, "the provider no longer honours the refresh token")
	})

	t.Run("back-channel logout", func(t *testing.T) {
		msg := b.login("bob")
		rt := b.refreshToken(msg.Credential)
		status, body := b.postLogoutToken(b.signed(b.logoutClaims(func(c map[string]any) { c["sub"] = "bob" })))
		require.Equal(t, http.StatusOK, status, body)
		b.waitCounter("ok", 2)
		status, code := b.refreshAtProvider(rt)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", code)
	})

	t.Run("provider outage", func(t *testing.T) {
		msg := b.login("bob")
		rt := b.refreshToken(msg.Credential)
		before := counterValue(t, b.h.metrics.revocations.WithLabelValues("retry"))
		b.idpDown.Store(true)
		status, _ := b.api(http.MethodPost, "/logout", msg.Credential, nil)
		require.Equal(t, http.StatusOK, status, "logout does not wait for the provider")
		b.waitCounter("retry", before+2)
		b.idpDown.Store(false)
		b.waitCounter("ok", 3)
		status, code := b.refreshAtProvider(rt)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", code, "the revocation survived the outage")
	})

	// Last: the clock jump would fail later logins (ID tokens use the wall clock).
	t.Run("idle expiry", func(t *testing.T) {
		msg := b.login("alice")
		rt := b.refreshToken(msg.Credential)
		unnoticed := b.login("bob")
		rtUnnoticed := b.refreshToken(unnoticed.Credential)
		b.clock.Advance(b.cfg.WithDefaults().IdleTimeout + time.Minute)
		status, _ := b.api(http.MethodPost, "/token", msg.Credential, nil)
		require.Equal(t, http.StatusUnauthorized, status)
		require.Equal(t, reasonExpired, b.session(msg.Credential).EndReason)
		b.waitCounter("ok", 4)
		status, code := b.refreshAtProvider(rt)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", code)

		// Nobody used bob's session after it expired: cleanup ends it and
		// its refresh token is revoked all the same.
		require.True(t, b.session(unnoticed.Credential).EndedAt.IsZero())
		n, err := b.h.endExpired(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, reasonExpired, b.session(unnoticed.Credential).EndReason)
		b.waitCounter("ok", 5)
		status, code = b.refreshAtProvider(rtUnnoticed)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", code)
	})
}
