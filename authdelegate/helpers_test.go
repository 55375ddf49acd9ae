package authdelegate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/devidp"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

const (
	testClientID     = "gateway"
	testClientSecret = "gateway-secret"
	testNetwork      = "test.fyre.co"
	testNetworkKey   = "testkeytest"
	waitFor          = 30 * time.Second // a deadline, not a wait: CI shares two cores with load runs
	pollEvery        = 10 * time.Millisecond
)

// testClock is a settable clock for the Handler (flow and session expiry).
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// testBundle is a gateway Handler on a real loopback server with a real
// SQLite store, in front of a real development OpenID provider.
type testBundle struct {
	t        *testing.T
	store    store.Store
	idp      *devidp.Provider
	idpURL   string
	gw       *httptest.Server
	h        *Handler
	codec    *tokens.Codec
	clock    *testClock
	registry *prometheus.Registry
	site     string // an allowed site origin
	changed  chan string
	cfg      Config
	// idpDown makes the provider answer 503 to everything (an outage).
	idpDown atomic.Bool
	// idpCOOP adds Cross-Origin-Opener-Policy: same-origin to the
	// provider's answers, as many providers send on their login pages.
	idpCOOP atomic.Bool
}

type setupOpts struct {
	// site replaces the default allowed site origin.
	site string
	// store replaces the default SQLite store.
	store     store.Store
	mutate    func(*Config)
	mutateIDP func(*devidp.Config)
	noRun     bool
}

func setup(t *testing.T, opts ...setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{
		t:        t,
		clock:    &testClock{},
		registry: prometheus.NewRegistry(),
		site:     "http://localhost:8123",
		changed:  make(chan string, 64),
	}
	for _, o := range opts {
		if o.site != "" {
			b.site = o.site
		}
		if o.store != nil {
			b.store = o.store
		}
	}
	if b.store == nil {
		b.store = testdb.SQLite(t)
	}
	var gwHandler, idpHandler http.Handler
	b.gw = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gwHandler.ServeHTTP(w, r) }))
	t.Cleanup(b.gw.Close)
	idpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.idpDown.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		if b.idpCOOP.Load() {
			w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		}
		idpHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(idpSrv.Close)
	b.idpURL = idpSrv.URL

	idpCfg := devidp.Config{
		Issuer:        idpSrv.URL,
		AllowInsecure: true,
		Users:         devidp.DemoUsers(),
		Clients: []devidp.Client{{
			ID:                     testClientID,
			Secret:                 testClientSecret,
			RedirectURIs:           []string{b.gw.URL + "/callback"},
			PostLogoutRedirectURIs: []string{b.site + "/"},
			BackChannelLogoutURI:   b.gw.URL + "/backchannel-logout",
		}},
	}
	for _, o := range opts {
		if o.mutateIDP != nil {
			o.mutateIDP(&idpCfg)
		}
	}
	idp, err := devidp.New(idpCfg)
	require.NoError(t, err)
	b.idp = idp
	idpHandler = idp.Handler()

	b.codec, err = tokens.New(tokens.Config{Network: testNetwork, Key: testNetworkKey})
	require.NoError(t, err)

	cfg := Config{
		Store:          b.store,
		Tokens:         b.codec,
		IssuerURL:      idpSrv.URL,
		ClientID:       testClientID,
		ClientSecret:   testClientSecret,
		PublicURL:      b.gw.URL,
		AllowedOrigins: []string{b.site, "http://127.0.0.1:8124"},
		SessionKey:     []byte("0123456789abcdef0123456789abcdef"),
		Registerer:     b.registry,
		Now:            b.clock.Now,
		// Long enough that only the tests that want the timeout see it.
		ProfileReadyTimeout: time.Minute,
		ProfileChangedFunc: func(_ context.Context, _ store.Tx, userID string) error {
			b.changed <- userID
			return nil
		},
	}
	for _, o := range opts {
		if o.mutate != nil {
			o.mutate(&cfg)
		}
	}
	b.cfg = cfg
	h, err := New(t.Context(), cfg)
	require.NoError(t, err)
	b.h = h
	t.Cleanup(func() { _ = h.Close() })
	r := httpbase.NewMux()
	h.Mount(r)
	gwHandler = r

	noRun := false
	for _, o := range opts {
		noRun = noRun || o.noRun
	}
	if !noRun {
		run(t, h)
	}
	return b
}

// run runs h's event fan-out until the test ends.
func run(t *testing.T, h *Handler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// replica starts a second gateway on the same store (another replica
// behind the load balancer) and returns it with its base URL.
func (b *testBundle) replica() (*Handler, string) {
	b.t.Helper()
	r := httpbase.NewMux()
	srv := httptest.NewServer(r)
	b.t.Cleanup(srv.Close)
	cfg := b.cfg
	cfg.Registerer = prometheus.NewRegistry()
	h, err := New(b.t.Context(), cfg)
	require.NoError(b.t, err)
	b.t.Cleanup(func() { _ = h.Close() })
	h.Mount(r)
	run(b.t, h)
	return h, srv.URL
}

// browser is a cookie-keeping user agent. It follows redirects except to
// the site (redirect mode) and can rewrite the request to the provider's
// authorize endpoint (to tamper with nonce or PKCE).
type browser struct {
	t       *testing.T
	client  *http.Client
	rewrite func(u *url.URL)
	// stopAtCallback stops before the gateway's /callback.
	stopAtCallback bool
}

func (b *testBundle) newBrowser() *browser {
	b.t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(b.t, err)
	br := &browser{t: b.t}
	br.client = &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), b.site) {
				return http.ErrUseLastResponse
			}
			if br.stopAtCallback && strings.HasPrefix(req.URL.String(), b.gw.URL+"/callback") {
				return http.ErrUseLastResponse
			}
			if strings.HasPrefix(req.URL.String(), b.idpURL) && strings.HasSuffix(req.URL.Path, "/authorize") && br.rewrite != nil {
				br.rewrite(req.URL)
			}
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	return br
}

// page is a response with its body read.
type page struct {
	status   int
	url      *url.URL
	location string
	header   http.Header
	body     string
}

func (br *browser) do(req *http.Request) page {
	br.t.Helper()
	resp, err := br.client.Do(req)
	require.NoError(br.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(br.t, err)
	return page{status: resp.StatusCode, url: resp.Request.URL, location: resp.Header.Get("Location"), header: resp.Header, body: string(body)}
}

func (br *browser) get(rawURL string) page {
	br.t.Helper()
	req, err := http.NewRequestWithContext(br.t.Context(), http.MethodGet, rawURL, nil)
	require.NoError(br.t, err)
	return br.do(req)
}

// submitLogin answers the provider's login page p.
func (br *browser) submitLogin(p page, username, action string) page {
	br.t.Helper()
	require.Equal(br.t, http.StatusOK, p.status, p.body)
	require.True(br.t, strings.HasSuffix(p.url.Path, "/login"), "expected the provider's login page, got %s", p.url)
	form := url.Values{"id": {p.url.Query().Get("id")}, "username": {username}, "password": {username + "-password"}, "action": {action}}
	req, err := http.NewRequestWithContext(br.t.Context(), http.MethodPost, p.url.ResolveReference(&url.URL{Path: "login"}).String(), strings.NewReader(form.Encode()))
	require.NoError(br.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return br.do(req)
}

func (b *testBundle) loginURL(mode, returnTo string) string {
	q := url.Values{"origin": {b.site}, "mode": {mode}}
	if returnTo != "" {
		q.Set("return_to", returnTo)
	}
	return b.gw.URL + "/login?" + q.Encode()
}

var resultScript = regexp.MustCompile(`var result = (.*);\n\s*var target = (".*");`)

// popupResult extracts what the popup page posts to its opener.
func popupResult(t *testing.T, p page) (loginMessage, string) {
	t.Helper()
	m := resultScript.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no result script in page %d: %s", p.status, p.body)
	var msg loginMessage
	require.NoError(t, json.Unmarshal([]byte(m[1]), &msg))
	var target string
	require.NoError(t, json.Unmarshal([]byte(m[2]), &target))
	return msg, target
}

// login signs username in through the popup flow in a fresh browser.
func (b *testBundle) login(username string) loginMessage {
	b.t.Helper()
	br := b.newBrowser()
	res := br.submitLogin(br.get(b.loginURL(modePopup, "")), username, "login")
	require.Equal(b.t, http.StatusOK, res.status, res.body)
	msg, target := popupResult(b.t, res)
	require.Equal(b.t, b.site, target)
	require.NotEmpty(b.t, msg.Credential)
	return msg
}

// api calls the gateway's JSON API as the site would.
func (b *testBundle) api(method, path, credential string, body any) (int, map[string]any) {
	b.t.Helper()
	return b.apiAs(b.t, method, path, credential, body)
}

// apiAs is api reporting to t: a goroutine of an asynctest.Group passes
// its own.
func (b *testBundle) apiAs(t testing.TB, method, path, credential string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.gw.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Origin", b.site)
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name, id, data string
}

// eventStream is an open GET /events.
type eventStream struct {
	events chan sseEvent
	status int
	cancel context.CancelFunc
}

// openEvents connects to /events and reads events in the background.
func (b *testBundle) openEvents(credential string, lastEventID string) *eventStream {
	b.t.Helper()
	return b.openEventsAt(b.gw.URL, credential, lastEventID)
}

// openEventsAt connects to /events of the gateway at base.
func (b *testBundle) openEventsAt(base, credential string, lastEventID string) *eventStream {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	require.NoError(b.t, err)
	req.Header.Set("Origin", b.site)
	req.Header.Set("Authorization", "Bearer "+credential)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	es := &eventStream{events: make(chan sseEvent, 16), status: resp.StatusCode, cancel: cancel}
	b.t.Cleanup(func() { cancel(); _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		close(es.events)
		return es
	}
	require.Equal(b.t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
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

// next waits for the next event.
func (es *eventStream) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-es.events:
		require.True(t, ok, "event stream ended")
		return ev
	case <-time.After(waitFor):
		t.Fatal("no event arrived")
		return sseEvent{}
	}
}

// waitStreams waits until the hub holds n streams.
func (b *testBundle) waitStreams(n int) {
	b.t.Helper()
	require.Eventually(b.t, func() bool {
		b.h.fanout.mu.Lock()
		defer b.h.fanout.mu.Unlock()
		c := 0
		for _, ss := range b.h.fanout.bySession {
			c += len(ss)
		}
		return c == n
	}, waitFor, pollEvery)
}

// changeProfile writes a new display name the way the webhook does: bump
// the version and notify in one transaction.
func (b *testBundle) changeProfile(userID, name string) int64 {
	b.t.Helper()
	var version int64
	err := b.store.InTx(b.t.Context(), func(ctx context.Context, tx store.Tx) error {
		cur, err := tx.ProfileGet(ctx, userID)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(cur.Data, &doc); err != nil {
			return err
		}
		doc["display_name"] = name
		raw, _ := json.Marshal(doc)
		p, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: userID, Data: raw, Now: b.clock.Now()})
		if err != nil {
			return err
		}
		version = p.Version
		payload, _ := json.Marshal(store.ProfileEvent{UserID: userID, Version: p.Version})
		return tx.Notify(ctx, store.ChannelProfileChanged, payload)
	})
	require.NoError(b.t, err)
	return version
}

// markReady does what the pull endpoint does after serving version.
func (b *testBundle) markReady(userID string, version int64) {
	b.t.Helper()
	require.NoError(b.t, b.store.ProfileMarkServed(b.t.Context(), userID, version, b.clock.Now()))
	payload, _ := json.Marshal(store.ProfileEvent{UserID: userID, Version: version})
	require.NoError(b.t, b.store.Notify(b.t.Context(), store.ChannelProfileReady, payload))
}

// session reads the stored session of a credential.
func (b *testBundle) session(credential string) *store.Session {
	b.t.Helper()
	s, err := b.store.SessionGet(b.t.Context(), hashSecret(credential))
	require.NoError(b.t, err)
	return s
}

// verify checks a userAuthToken with the network key.
func (b *testBundle) verify(token string) *tokens.Claims {
	b.t.Helper()
	c, err := b.codec.Verify(token)
	require.NoError(b.t, err)
	return c
}

// counterValue reads a counter (or gauge) of the Handler's metrics.
func counterValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}
