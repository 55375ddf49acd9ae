package demosite

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/tokens"
)

const testSecret = "whsec_c2l0ZS10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5"

type testBundle struct {
	site    *httptest.Server
	codec   *tokens.Codec
	mu      sync.Mutex
	users   map[string]Profile
	hooks   []map[string]any
	gwCode  int
	siteURL string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{users: map[string]Profile{
		"alice": {DisplayName: "Alice", Avatar: "fox", Email: "alice@example.com", FirstName: "Alice", LastName: "Example"},
	}, gwCode: http.StatusAccepted}
	wh, err := standardwebhooks.NewWebhook(testSecret)
	require.NoError(t, err)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := wh.Verify(body, r.Header); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var hook map[string]any
		_ = json.Unmarshal(body, &hook)
		b.mu.Lock()
		b.hooks = append(b.hooks, hook)
		code := b.gwCode
		b.mu.Unlock()
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"status":"queued"}`))
	}))
	t.Cleanup(gateway.Close)
	b.codec, err = tokens.New(tokens.Config{Network: "demo.fyre.co", Key: "demo-network-key-0123"})
	require.NoError(t, err)
	b.siteURL = "http://localhost:1"
	h, err := New(Config{
		SiteURL: b.siteURL, GatewayURL: gateway.URL, HubURL: "http://127.0.0.1:2", IdentityURL: "http://127.0.0.1:3",
		Network: "demo.fyre.co", Tokens: b.codec, WebhookSecret: testSecret,
		LoadProfileFunc: func(_ context.Context, id string) (Profile, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			p, ok := b.users[id]
			if !ok {
				return Profile{}, errors.New("no such user")
			}
			return p, nil
		},
		SaveProfileFunc: func(_ context.Context, id string, p Profile) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.users[id] = p
			return nil
		},
	})
	require.NoError(t, err)
	r := httpbase.NewMux()
	h.Mount(r)
	b.site = httptest.NewServer(r)
	t.Cleanup(b.site.Close)
	return b
}

func (b *testBundle) post(t *testing.T, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.site.URL+"/api/profile", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out), "every answer is JSON")
	return resp.StatusCode, out
}

func errorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// TestSaveProfile saves to the user store and sends the signed webhook with
// the whole profile, as the site's backend does.
func TestSaveProfile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token, err := b.codec.Mint("alice", "Alice", time.Hour)
	require.NoError(t, err)

	status, out := b.post(t, token, `{"display_name":"  Alice Renamed ","avatar":"cat","bio":"Hi"}`)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, true, out["saved"])

	b.mu.Lock()
	defer b.mu.Unlock()
	require.Equal(t, Profile{DisplayName: "Alice Renamed", Avatar: "cat", Bio: "Hi", Email: "alice@example.com", FirstName: "Alice", LastName: "Example"}, b.users["alice"])
	require.Len(t, b.hooks, 1)
	profile := b.hooks[0]["profile"].(map[string]any)
	require.Equal(t, "alice", b.hooks[0]["user_id"])
	require.Equal(t, "Alice Renamed", profile["display_name"])
	require.Equal(t, b.siteURL+"/avatars/cat.svg", profile["image_url"])
	require.Equal(t, "alice@example.com", profile["email"])
	require.NotContains(t, profile, "bio", "bio stays on the site: no claim carries it")
}

// TestProfileRefusals answers bad input with a status and a JSON error and
// sends nothing to the gateway.
func TestProfileRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good, err := b.codec.Mint("alice", "Alice", time.Hour)
	require.NoError(t, err)
	other, err := tokens.New(tokens.Config{Network: "demo.fyre.co", Key: "another-key-0123456789"})
	require.NoError(t, err)
	forged, err := other.Mint("alice", "Alice", time.Hour)
	require.NoError(t, err)
	unknown, err := b.codec.Mint("mallory", "Mallory", time.Hour)
	require.NoError(t, err)

	for _, tt := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", `{"display_name":"A","avatar":"fox"}`, http.StatusUnauthorized, "unauthenticated"},
		{"forged token", forged, `{"display_name":"A","avatar":"fox"}`, http.StatusUnauthorized, "invalid_token"},
		{"broken JSON", good, `{"display_name":`, http.StatusBadRequest, "invalid_json"},
		{"unknown field", good, `{"display_name":"A","avatar":"fox","admin":true}`, http.StatusBadRequest, "invalid_json"},
		{"empty name", good, `{"display_name":"  ","avatar":"fox"}`, http.StatusBadRequest, "invalid_display_name"},
		{"HTML in name", good, `{"display_name":"<b>A</b>","avatar":"fox"}`, http.StatusBadRequest, "invalid_display_name"},
		{"name too long", good, `{"display_name":"` + strings.Repeat("é", 51) + `","avatar":"fox"}`, http.StatusBadRequest, "invalid_display_name"},
		{"unknown avatar", good, `{"display_name":"A","avatar":"../x"}`, http.StatusBadRequest, "invalid_avatar"},
		{"bio too long", good, `{"display_name":"A","avatar":"fox","bio":"` + strings.Repeat("b", 501) + `"}`, http.StatusBadRequest, "invalid_bio"},
		{"oversized body", good, `{"display_name":"A","avatar":"fox","bio":"` + strings.Repeat("b", 9000) + `"}`, http.StatusBadRequest, "invalid_json"},
		{"unknown user", unknown, `{"display_name":"A","avatar":"fox"}`, http.StatusNotFound, "not_found"},
	} {
		status, out := b.post(t, tt.token, tt.body)
		require.Equal(t, tt.status, status, tt.name)
		require.Equal(t, tt.code, errorCode(out), tt.name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(t, b.hooks)
	require.Equal(t, "Alice", b.users["alice"].DisplayName)
}

// TestGatewayRefusal reports a gateway that did not take the change.
func TestGatewayRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.gwCode = http.StatusTooManyRequests
	token, err := b.codec.Mint("alice", "Alice", time.Hour)
	require.NoError(t, err)
	status, out := b.post(t, token, `{"display_name":"B","avatar":"owl"}`)
	require.Equal(t, http.StatusBadGateway, status)
	require.Equal(t, "webhook_failed", errorCode(out))
}

// TestPages renders every page.
func TestPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/", "/article", "/profile", "/avatars/fox.svg", "/static/site.js"} {
		resp, err := http.Get(b.site.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
}

// TestPagesCannotBeFramed: the site's HTML pages carry X-Frame-Options
// DENY and their content security policy.
func TestPagesCannotBeFramed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/", "/article", "/profile"} {
		resp, err := http.Get(b.site.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), path)
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
		require.Equal(t, PageCSP, resp.Header.Get("Content-Security-Policy"), path)
		require.Contains(t, PageCSP, "frame-ancestors 'none'")
	}
}
