package hub

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// routedHub serves b's hub through the process router (httpbase), as
// `ssogate hub` does, on a server with the given read timeout.
func routedHub(t *testing.T, b *testBundle, readTimeout time.Duration) *httptest.Server {
	t.Helper()
	router, err := httpbase.NewRouter(httpbase.RouterConfig{Logger: b.h.log})
	require.NoError(t, err)
	b.h.Mount(router)
	srv := httptest.NewUnstartedServer(router)
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// userTokenRaw signs a user token with any id and display name, as
// Livefyre's libraries would (they check neither the name's length nor its
// characters).
func (b *testBundle) userTokenRaw(id, displayName string) string {
	b.t.Helper()
	payload := fmt.Sprintf(`{"domain":%q,"user_id":%q,"display_name":%q,"expires":%d}`,
		testNetwork, id, displayName, time.Now().Add(time.Hour).Unix())
	return signHS256(b.t, `{"typ":"JWT","alg":"HS256"}`, payload, testKey)
}

// TestAuthAPIRepairsTokenDisplayNames: a token's display name with a bidi
// override, invisible characters or more than 50 characters still logs the
// user in, under the name cleaned and cut to 50 characters, in the answer
// and in the profile the hub records.
func TestAuthAPIRepairsTokenDisplayNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct{ id, name, want string }{
		{"rlo", "Bob\u202Egnp.exe", "Bobgnp.exe"},
		{"zwsp", "\u200BAnn\uFEFF\u2066", "Ann"},
		{"long", strings.Repeat("é", 80), strings.Repeat("é", 50)},
		{"joiners", "می\u200Cخواهم", "می\u200Cخواهم"},
		{"only-hidden", "\u202E\u200B", "only-hidden"},
	}
	for _, tc := range cases {
		resp := b.authCall("lftoken="+url.QueryEscape(b.userTokenRaw(tc.id, tc.name)), nil)
		require.Equal(t, http.StatusOK, resp.status, resp.body)
		got := resp.json(t)["data"].(map[string]any)["profile"].(map[string]any)["displayName"].(string)
		require.Equal(t, tc.want, got, tc.id)
		require.LessOrEqual(t, utf8.RuneCountInString(got), tokens.MaxDisplayNameLength)
		recorded := b.profile(tc.id).DisplayName
		require.NoError(t, tokens.ValidateDisplayName(recorded), tc.id)
		if tc.id != "only-hidden" {
			require.Equal(t, tc.want, recorded, tc.id)
		}
	}
}

// TestAuthAPIRefusesUndeliverableIDs: tokens for ids the gateway could
// never serve ("." and "..", over 255 bytes) are refused like any bad
// token.
func TestAuthAPIRefusesUndeliverableIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{".", "..", strings.Repeat("a", 256)} {
		resp := b.authCall("lftoken="+url.QueryEscape(b.userTokenRaw(id, "X")), nil)
		require.Equal(t, http.StatusForbidden, resp.status, resp.body)
		require.Equal(t, "token_invalid", resp.errorCode(t))
		_, err := b.store.RemoteProfileGet(b.ctx, testNetwork, id)
		require.ErrorIs(t, err, store.ErrNotFound)
	}
	resp := b.authCall("lftoken="+url.QueryEscape(b.userTokenRaw(strings.Repeat("a", 255), "X")), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
}

// TestPingAndLogoutRefuseUndeliverableIDs: through the process router, a
// ping or logout for ".", ".." or an id over 255 bytes gets a JSON 400,
// not a 301 to another path (or a job that retries for days).
func TestPingAndLogoutRefuseUndeliverableIDs(t *testing.T) {
	t.Parallel()
	b := setup(t, withPrivate())
	b.register(newEndpoint(t, b.codec).template())
	srv := routedHub(t, b, 0)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := "lftoken=" + url.QueryEscape(b.systemToken())
	for _, id := range []string{".", "..", strings.Repeat("a", 256)} {
		for _, action := range []string{"refresh", "logout"} {
			for _, version := range []string{"v3_0", "v3.0"} {
				path := "/api/" + version + "/user/" + id + "/" + action
				resp, err := client.Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form))
				require.NoError(t, err)
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%.40s: %s", path, body)
				require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
				require.Contains(t, string(body), `"invalid_user_id"`)
			}
		}
	}
	b.requirePending(0)
	// The longest id passes.
	resp, err := client.Post(srv.URL+"/api/v3_0/user/"+strings.Repeat("a", 255)+"/refresh", "application/x-www-form-urlencoded", strings.NewReader(form))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b.requirePending(1) // only the valid id queued a pull
}

// TestPullRepairsDisplayNames: a pulled profile's display name is cleaned
// and cut to 50 characters (lenient in what the hub accepts), and a pulled
// id the user id rule refuses fails the decode.
func TestPullRepairsDisplayNames(t *testing.T) {
	t.Parallel()
	b := setup(t, withJobs(), withPrivate())
	ep := newEndpoint(t, b.codec)
	ep.set("bob", `{"id":"bob","display_name":"\u202EBob\u200B `+strings.Repeat("x", 60)+`"}`)
	b.register(ep.template())
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	rp := b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.Status == store.RemoteProfileOK })
	want := "Bob " + strings.Repeat("x", 46)
	require.Equal(t, want, rp.DisplayName)
	require.Contains(t, string(rp.Data), `"display_name":"`+want+`"`)

	for _, body := range []string{`{"id":"."}`, `{"id":".."}`, `{"id":"a b"}`, `{"id":"` + strings.Repeat("a", 256) + `"}`} {
		_, err := livefyre.DecodeReceived([]byte(body))
		require.ErrorIs(t, err, livefyre.ErrBadID, "%.40s", body)
	}
}

// TestSlowBodyIsAClientError: a client that sends its body too slowly gets
// a JSON 408 from a real server with a short ReadTimeout, and the hub logs
// no error for it.
func TestSlowBodyIsAClientError(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	b := setup(t, withConfig(func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) }))
	srv := routedHub(t, b, 200*time.Millisecond)
	addr := srv.Listener.Addr().String()

	for _, path := range []string{"/api/v3_0/user/bob/refresh", "/api/v3_0/user/bob/logout", "/"} {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
		// A Content-Length of 1000 and 13 bytes sent: the server waits for
		// the rest until its read deadline.
		_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nlftoken=abcde", path, addr)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, conn.Close())
		require.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s: %s", path, body)
		require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Contains(t, string(body), `"request_timeout"`)
	}
	require.NotContains(t, logs.String(), "level=ERROR")
}
