package hub

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// sseEvent is one server-sent event (comments are skipped).
type sseEvent struct {
	name string
	data string
}

// updateStream is a client of GET /api/networks/{network}/updates.
type updateStream struct {
	t      *testing.T
	resp   *http.Response
	events chan sseEvent
	ctx    context.Context
	cancel context.CancelFunc
	// done is closed when read returns.
	done chan struct{}
}

// openUpdates opens the stream and returns once the hub sent its first
// comment, that is once it listens: everything committed after that is
// delivered.
func (b *testBundle) openUpdates(path string, header http.Header) *updateStream {
	b.t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.hub.URL+path, nil)
	require.NoError(b.t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := b.hub.Client().Do(req)
	require.NoError(b.t, err)
	s := &updateStream{t: b.t, resp: resp, events: make(chan sseEvent, 16), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	b.t.Cleanup(func() {
		cancel()
		_ = resp.Body.Close()
		<-s.done // the reader is gone before the test ends (goleak)
	})
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
	require.Equal(b.t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	ready := make(chan struct{})
	go s.read(ready)
	select {
	case <-ready:
	case <-time.After(waitFor):
		b.t.Fatal("the update stream sent nothing")
	}
	return s
}

// read parses events until the body ends; ready is closed at the first
// comment.
func (s *updateStream) read(ready chan struct{}) {
	defer close(s.done)
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	var ev sseEvent
	readyOnce := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			if !readyOnce {
				readyOnce = true
				close(ready)
			}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		case line == "" && ev.name != "":
			select {
			case s.events <- ev:
			case <-s.ctx.Done(): // nobody reads any more
				return
			}
			ev = sseEvent{}
		}
	}
}

// next returns the next event.
func (s *updateStream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		require.True(s.t, ok, "the update stream ended")
		return ev
	case <-time.After(waitFor):
		s.t.Fatal("no event on the update stream")
		return sseEvent{}
	}
}

// nextProfile returns the next event, which must be a profile update.
func (s *updateStream) nextProfile() UpdateEvent {
	s.t.Helper()
	ev := s.next()
	require.Equal(s.t, "profile", ev.name, ev.data)
	var u UpdateEvent
	require.NoError(s.t, json.Unmarshal([]byte(ev.data), &u))
	return u
}

func TestUpdatesStreamPulledChanges(t *testing.T) {
	t.Parallel()
	testdb.Each(t, testUpdatesStreamPulledChanges)
}

func testUpdatesStreamPulledChanges(t *testing.T, s store.Store) {
	b := setup(t, withJobs(), withPrivate(), withStore(s))
	ep := newEndpoint(t, b.codec)
	ep.set("bob", bobProfile)
	b.register(ep.template())
	stream := b.openUpdates("/api/networks/"+testNetwork+"/updates", http.Header{"Origin": {"https://app.example"}})
	require.Equal(t, "https://app.example", stream.resp.Header.Get("Access-Control-Allow-Origin"))

	before := time.Now()
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	u := stream.nextProfile()
	require.Equal(t, testNetwork, u.Network)
	require.Equal(t, "bob", u.UserID)
	require.Equal(t, "Bob Dole", u.DisplayName)
	require.Equal(t, "https://img.example/bob.png", u.Avatar)
	require.NotNil(t, u.PingReceivedAt)
	require.False(t, u.PingReceivedAt.Before(before.Add(-time.Second)))
	require.False(t, u.PulledAt.Before(*u.PingReceivedAt))
	rp := b.profile("bob")
	require.WithinDuration(t, rp.LastPullAt, u.PulledAt, time.Millisecond) // the store keeps microseconds

	// An unchanged pull sends nothing: the next event is the next change.
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	b.waitProfile("bob", func(rp *store.RemoteProfile) bool { return rp.PulledSeq == 2 })
	ep.set("bob", strings.Replace(bobProfile, "Bob Dole", "Robert Dole", 1))
	require.Equal(t, http.StatusOK, b.ping("bob").status)
	u = stream.nextProfile()
	require.Equal(t, "Robert Dole", u.DisplayName)
}

func TestUpdatesPayloadWireFormat(t *testing.T) {
	t.Parallel()
	ping := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("x", 3600))
	b, err := updatePayload(UpdateEvent{Network: "n.fyre.co", UserID: "u", DisplayName: "U", Avatar: "https://a.example/u.png",
		PulledAt: ping.Add(time.Millisecond), PingReceivedAt: &ping})
	require.NoError(t, err)
	require.JSONEq(t, `{"network":"n.fyre.co","user_id":"u","display_name":"U","avatar":"https://a.example/u.png",
		"pulled_at":"2026-03-04T04:06:07.124456789Z","ping_received_at":"2026-03-04T04:06:07.123456789Z"}`, string(b))

	// No pending ping: no ping_received_at. An avatar too long for a
	// notification is left out rather than failing the pull.
	b, err = updatePayload(UpdateEvent{Network: "n.fyre.co", UserID: "u", DisplayName: "U",
		Avatar: "https://a.example/" + strings.Repeat("a", 8000), PulledAt: ping})
	require.NoError(t, err)
	require.JSONEq(t, `{"network":"n.fyre.co","user_id":"u","display_name":"U","avatar":"","pulled_at":"2026-03-04T04:06:07.123456789Z"}`, string(b))
}

func TestUpdatesFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	all := b.openUpdates("/api/networks/"+testNetwork+"/updates", nil)
	carol := b.openUpdates("/api/networks/"+testNetwork+"/updates?user=carol", nil)
	other := b.openUpdates("/api/networks/other.fyre.co/updates", nil)
	send := func(network, user string) {
		payload, err := updatePayload(UpdateEvent{Network: network, UserID: user, DisplayName: user, PulledAt: time.Now()})
		require.NoError(t, err)
		require.NoError(t, b.store.Notify(b.ctx, ChannelRemoteProfileUpdated, payload))
	}
	send("other.fyre.co", "dave")
	send(testNetwork, "bob")
	send(testNetwork, "carol")

	require.Equal(t, "bob", all.nextProfile().UserID)
	require.Equal(t, "carol", all.nextProfile().UserID)
	require.Equal(t, "carol", carol.nextProfile().UserID)
	u := other.nextProfile()
	require.Equal(t, "other.fyre.co", u.Network)
	require.Equal(t, "dave", u.UserID)
}

func TestUpdatesRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name, method, path, origin string
		status                     int
		code                       string
	}{
		{"unknown network", http.MethodGet, "/api/networks/nope.fyre.co/updates", "", http.StatusNotFound, "unknown_network"},
		{"bad user id", http.MethodGet, "/api/networks/" + testNetwork + "/updates?user=a%20b", "", http.StatusBadRequest, "invalid_user_id"},
		{"preflight from an app origin", http.MethodOptions, "/api/networks/" + testNetwork + "/updates", "https://app.example", http.StatusNoContent, ""},
		{"preflight from elsewhere", http.MethodOptions, "/api/networks/" + testNetwork + "/updates", "https://evil.example", http.StatusForbidden, "origin_not_allowed"},
		{"wrong method", http.MethodPost, "/api/networks/" + testNetwork + "/updates", "", http.StatusMethodNotAllowed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h http.Header
			if tc.origin != "" {
				h = http.Header{"Origin": {tc.origin}}
			}
			resp := b.do(tc.method, tc.path, "", "", h)
			require.Equal(t, tc.status, resp.status, resp.body)
			if tc.code != "" {
				require.Equal(t, tc.code, resp.errorCode(t))
			}
		})
	}
}

// A client that stops reading makes the subscription overflow; the stream
// then says "lagged" so the client re-reads.
func TestUpdatesLagged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	stream := b.openUpdates("/api/networks/"+testNetwork+"/updates", nil)
	// The reader goroutine stops at a full events channel (16), so the TCP
	// buffers and then the subscription's buffer (1024) fill up: 4000
	// payloads of ~7.7 KB are far more than both hold.
	pad := strings.Repeat("x", 7600)
	for i := range 4000 {
		payload := fmt.Sprintf(`{"network":%q,"user_id":"u%d","display_name":%q}`, testNetwork, i, pad)
		require.NoError(t, b.store.Notify(b.ctx, ChannelRemoteProfileUpdated, []byte(payload)))
	}
	for {
		ev := stream.next()
		if ev.name == "lagged" {
			require.Equal(t, "{}", ev.data)
			return
		}
		require.Equal(t, "profile", ev.name)
	}
}

func TestUpdatesKeepAlive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.h.serveUpdates(w, r, testNetwork, "", time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == ": keep-alive" {
			return
		}
	}
	t.Fatalf("the stream ended without a keep-alive: %v", sc.Err())
}
