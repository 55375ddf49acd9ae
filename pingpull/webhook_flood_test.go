package pingpull

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (any of 127.0.0.0/8 on Linux), so that one test can play
// several clients.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// post sends body to the webhook unsigned (sign: false) or signed with the
// bundle's secret, from client.
func (b *testBundle) postWebhook(t *testing.T, client *http.Client, body string, sign bool) (int, http.Header, []byte) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, b.server.URL+"/hooks/profile-changed", strings.NewReader(body))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/json")
	if sign {
		for k, v := range signedHeader(t, b.secret, "msg_"+randomID(), b.now(), []byte(body)) {
			r.Header[k] = v
		}
	} else {
		r.Header.Set("webhook-id", "msg_"+randomID())
		r.Header.Set("webhook-timestamp", "1400000000")
		r.Header.Set("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJl")
	}
	resp, err := client.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, answer
}

// TestWebhookFloodSparesSignedDeliveries: a flood of unsigned webhooks
// from one client spends that client's failure bucket only (401, then 429
// after its burst); the site's backend, and even a signed delivery from the
// flooding address, are still accepted, within the limit for authenticated
// deliveries.
func TestWebhookFloodSparesSignedDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *Config) {
		c.WebhookRate, c.WebhookBurst = 1, 3
		c.WebhookFailureRate, c.WebhookFailureBurst = 0.5, 5
	}})
	flooder := clientFrom(t, "127.0.0.2")
	backend := clientFrom(t, "127.0.0.1")

	statuses := map[int]int{}
	for range 40 {
		status, header, answer := b.postWebhook(t, flooder, profileBody("u1", "Mallory"), false)
		statuses[status]++
		if status == http.StatusTooManyRequests {
			require.Equal(t, "rate_limited", errorCode(t, answer))
			require.Equal(t, "2", header.Get("Retry-After"))
		} else {
			require.Equal(t, http.StatusUnauthorized, status, string(answer))
		}
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 35}, statuses)
	// Other refusals before the signature spend the same bucket.
	r, err := http.NewRequest(http.MethodPost, b.server.URL+"/hooks/profile-changed", strings.NewReader("{}"))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "text/plain")
	resp, err := flooder.Do(r)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	// The backend's signed webhooks go through, and so does a signed one
	// from the flooder's address (clients behind one proxy share it).
	status, _, answer := b.postWebhook(t, backend, profileBody("u1", "Ann"), true)
	require.Equal(t, http.StatusAccepted, status, string(answer))
	status, _, answer = b.postWebhook(t, flooder, profileBody("u2", "Bob"), true)
	require.Equal(t, http.StatusAccepted, status, string(answer))
	// An unsigned request from the backend's address has a bucket of its own.
	status, _, answer = b.postWebhook(t, backend, profileBody("u1", "Mallory"), false)
	require.Equal(t, http.StatusUnauthorized, status, string(answer))

	// Authenticated deliveries keep their own limit.
	status, _, answer = b.postWebhook(t, backend, profileBody("u1", "Ann B"), true)
	require.Equal(t, http.StatusAccepted, status, string(answer))
	status, header, answer := b.postWebhook(t, backend, profileBody("u1", "Ann C"), true)
	require.Equal(t, http.StatusTooManyRequests, status, string(answer))
	require.Equal(t, "rate_limited", errorCode(t, answer))
	require.Equal(t, "1", header.Get("Retry-After"))

	// Time refills the flooder's bucket.
	b.clock.Advance(2 * time.Second)
	status, _, _ = b.postWebhook(t, flooder, profileBody("u1", "Mallory"), false)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, 36.0, metricValue(t, b.h.metrics.webhooks.WithLabelValues("client_rate_limited")))
}
