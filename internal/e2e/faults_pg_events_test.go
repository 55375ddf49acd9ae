package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
)

// TestPostgresFaultsEvents holds a reader's live event stream (GET /events)
// open on replica 2 of two gateway replicas on a private PostgreSQL:
//
//   - PostgreSQL is killed and restarted; replica 2's LISTEN connection
//     reconnects, and a change made on replica 1 after the restart arrives
//     as an event on the same, never closed, connection;
//   - replica 2 is killed (SIGKILL); the reader reconnects to replica 1 with
//     Last-Event-ID, and the change made while it had no stream arrives.
func TestPostgresFaultsEvents(t *testing.T) {
	t.Parallel()
	sys := startPGSystem(t, pgSystemConfig{name: "pgevents", auth: true})
	const user = "alice"
	credential := loginPopup(t, sys.gw1URL, sys.site, user, user+"-password")
	version := func() int64 {
		var v int64
		require.NoError(t, scanRow(t, sys.gwDB, []any{&v}, `SELECT version FROM profile WHERE user_id = $1`, user))
		return v
	}
	n := 0
	change := func(base string) {
		n++
		resp := sys.send(base, user, fmt.Sprintf("Alice %d", n), fmt.Sprintf("msg_events_%d", n))
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
	}

	// The stream is live: a change on replica 1 reaches it on replica 2.
	es := openEvents(t, sys.gw2URL, sys.site, credential, "")
	change(sys.gw1URL)
	es.waitVersion(t, version(), time.Minute) // the change before the faults

	// PostgreSQL dies. The outage lasts until replica 2's listener has failed
	// to reconnect often enough for its backoff to reach its cap, as in an
	// outage longer than a few seconds.
	sys.pg.Kill()
	asynctest.Eventually(t, 30*time.Second, "replica 2 answering 503 while PostgreSQL is down", func() bool {
		resp := sys.send(sys.gw2URL, user, "Never stored", fmt.Sprintf("msg_down_%d", time.Now().UnixNano()))
		require.NotEqual(t, http.StatusAccepted, resp.StatusCode, "202 for a change that could not be stored")
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	const capped = 8 // 50 ms doubling: the waits reach the cap (1 s) by the 6th
	asynctest.Eventually(t, time.Minute, "replica 2's listener retrying at its backoff cap", func() bool {
		return strings.Count(sys.gw2.out.String(), "listener connect failed") >= capped
	})
	sys.pg.Restart()
	back := time.Now()
	// The first webhook may still meet a connection of the dead server: it
	// answers 503 and the sender retries, as a backend does on Retry-After.
	n++
	asynctest.Eventually(t, time.Minute, "a webhook accepted after the restart", func() bool {
		resp := sys.send(sys.gw1URL, user, fmt.Sprintf("Alice %d", n), fmt.Sprintf("msg_events_%d", n))
		require.Contains(t, []int{http.StatusAccepted, http.StatusServiceUnavailable}, resp.StatusCode)
		return resp.StatusCode == http.StatusAccepted
	})
	accepted := time.Now()
	es.waitVersion(t, version(), time.Minute) // the change after the restart, on the same stream
	t.Logf("PostgreSQL back -> webhook accepted in %v, event on the open stream in %v",
		accepted.Sub(back).Round(time.Millisecond), time.Since(back).Round(time.Millisecond))

	// Replica 2 dies under the stream; a change lands on replica 1 while the
	// reader has no stream, and the reader reconnects there at once (a
	// browser's EventSource waits the stream's retry, 2 s, first).
	sys.gw2.signal(syscall.SIGKILL)
	killed := time.Now()
	es.waitEnd(t, 30*time.Second)
	change(sys.gw1URL)
	es = openEvents(t, sys.gw1URL, sys.site, credential, strconv.FormatInt(es.lastID, 10))
	es.waitVersion(t, version(), time.Minute) // the change made while the reader had no stream
	t.Logf("replica 2 killed -> event on replica 1 in %v", time.Since(killed).Round(time.Millisecond))
}

var popupResultRE = regexp.MustCompile(`var result = (.*);\n\s*var target = (".*");`)

// loginPopup signs user in through the gateway's popup flow, as a browser
// would, for the site origin, and returns the session's credential.
func loginPopup(t *testing.T, gatewayURL, site, user, password string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := browser.Get(gatewayURL + "/login?" + url.Values{"origin": {site}, "mode": {"popup"}}.Encode())
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	loginPage := resp.Request.URL
	require.True(t, strings.HasSuffix(loginPage.Path, "/login"), loginPage.String())
	form := url.Values{"id": {loginPage.Query().Get("id")}, "username": {user}, "password": {password}, "action": {"login"}}
	resp, err = browser.PostForm(loginPage.ResolveReference(&url.URL{Path: "login"}).String(), form)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	m := popupResultRE.FindSubmatch(page)
	require.NotNil(t, m, "no login result in %s", page)
	var result struct {
		Credential string `json:"credential"`
	}
	require.NoError(t, json.Unmarshal(m[1], &result))
	require.NotEmpty(t, result.Credential)
	return result.Credential
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, id, data string }

// eventStream is an open GET /events, read in the background. events is
// closed when the connection ends.
type eventStream struct {
	events chan sseEvent
	lastID int64 // of the last profile event taken
}

// openEvents opens base's /events as the site's page would.
func openEvents(t *testing.T, base, site, credential, lastEventID string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", site)
	req.Header.Set("Authorization", "Bearer "+credential)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); _ = resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	es := &eventStream{events: make(chan sseEvent, 16)}
	go func() {
		defer close(es.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					es.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return es
}

// waitVersion waits for the profile event of version want on the open
// stream. Events of older versions may come first (the sign-in's own
// change can reach a stream opened just after it: the delegate drops
// versions it has already seen); anything else fails the test.
func (es *eventStream) waitVersion(t *testing.T, want int64, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-es.events:
			require.True(t, ok, "the event stream ended before version %d", want)
			require.Equal(t, "profile", ev.name, ev.data)
			v, err := strconv.ParseInt(ev.id, 10, 64)
			require.NoError(t, err)
			require.LessOrEqual(t, v, want, "an event of a version not made yet: %s", ev.data)
			es.lastID = v
			if v == want {
				return
			}
		case <-deadline:
			t.Fatalf("no event of version %d within %v (last %d)", want, timeout, es.lastID)
		}
	}
}

// waitEnd waits until the stream's connection ends, with no event before.
func (es *eventStream) waitEnd(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-es.events:
		require.False(t, ok, "an event instead of the end: %+v", ev)
	case <-time.After(timeout):
		t.Fatalf("the stream did not end within %v", timeout)
	}
}
