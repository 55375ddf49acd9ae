package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the demo's writes and the test's
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	demoURLs    = regexp.MustCompile(`news site\s+(\S+)\s+gateway\s+(\S+)\s+hub \(users page\)\s+(\S+)/users`)
	popupResult = regexp.MustCompile(`var result = (.*);\n\s*var target = (".*");`)
)

// TestLogoutEndsAppSessionEndToEnd runs the demo in process (gateway, hub
// and provider wired as serve and hub wire them), signs alice in through
// the provider, opens an app session at the hub's auth API, and logs out
// at the gateway: the gateway's logout job reaches the hub and the hub's
// comment API refuses the app session from then on.
func TestLogoutEndsAppSessionEndToEnd(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	site, gateway, hubURL := d.site, d.gateway, d.hub

	// Sign in through the popup flow, as a browser would.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := browser.Get(gateway + "/login?" + url.Values{"origin": {site}, "mode": {"popup"}}.Encode())
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	loginPage := resp.Request.URL
	require.True(t, strings.HasSuffix(loginPage.Path, "/login"), loginPage.String())
	form := url.Values{"id": {loginPage.Query().Get("id")}, "username": {"alice"}, "password": {"alice-password"}, "action": {"login"}}
	resp, err = browser.PostForm(loginPage.ResolveReference(&url.URL{Path: "login"}).String(), form)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	m := popupResult.FindSubmatch(page)
	require.NotNil(t, m, "no login result in %s", page)
	var login struct {
		Token      string `json:"token"`
		Credential string `json:"credential"`
	}
	require.NoError(t, json.Unmarshal(m[1], &login))
	require.NotEmpty(t, login.Token)

	// The app's session at the hub.
	resp, err = http.Get(hubURL + "/api/v3.0/auth/?lftoken=" + url.QueryEscape(login.Token))
	require.NoError(t, err)
	var env struct {
		Data struct {
			Token struct{ Value string } `json:"token"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	appSession := env.Data.Token.Value
	comment := func() (int, string) {
		req, err := http.NewRequest(http.MethodPost, hubURL+"/api/comments", strings.NewReader(`{"article_id":"a1","body":"hi"}`))
		if err != nil {
			return 0, err.Error()
		}
		req.Header.Set("Authorization", "Bearer "+appSession)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := comment()
	require.Equal(t, http.StatusCreated, status, body)

	// The delegate's logout ends the gateway session…
	req, err := http.NewRequest(http.MethodPost, gateway+"/logout", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+login.Credential)
	req.Header.Set("Origin", site)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// …and, through the gateway's job, the app session.
	require.Eventually(t, func() bool {
		status, body = comment()
		return status == http.StatusForbidden
	}, 30*time.Second, 20*time.Millisecond, "the hub still honours the app session: %d %s", status, body)
	require.Contains(t, body, `"session_ended"`)
}
