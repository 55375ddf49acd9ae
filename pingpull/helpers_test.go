package pingpull

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

const (
	// The spec §6.2 network, key and clock (the Node vectors).
	testNetwork = "test.fyre.co"
	testKey     = "testkeytest"
	testAdmin   = "admin-token-0123456789"
)

// specEpoch is the frozen clock of the spec's Node vectors.
var specEpoch = time.Unix(1_400_000_000, 0)

// testClock is an injected clock that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testBundle is one gateway on a real SQLite store, served over loopback
// HTTP, with a test hub.
type testBundle struct {
	store  store.Store
	codec  *tokens.Codec
	h      *Handler
	server *httptest.Server
	hub    *testHub
	clock  *testClock
	now    func() time.Time
	secret string
	reg    *prometheus.Registry
	cfg    Config
}

type setupOpts struct {
	// realClock uses time.Now everywhere (River works on real time).
	realClock bool
	cfg       func(*Config)
	// store is the store to use; default a fresh SQLite one.
	store store.Store
}

func setup(t testing.TB, opts ...setupOpts) *testBundle {
	t.Helper()
	var o setupOpts
	for _, opt := range opts {
		if opt.realClock {
			o.realClock = true
		}
		if opt.cfg != nil {
			o.cfg = opt.cfg
		}
		if opt.store != nil {
			o.store = opt.store
		}
	}
	b := &testBundle{clock: &testClock{now: specEpoch}, secret: testSecret(0), reg: prometheus.NewRegistry()}
	b.now = b.clock.Now
	if o.realClock {
		b.now = time.Now
	}
	b.store = o.store
	if b.store == nil {
		b.store = newTestStore(t)
	}
	codec, err := tokens.New(tokens.Config{Network: testNetwork, Key: testKey, Now: b.now})
	require.NoError(t, err)
	b.codec = codec
	b.hub = newTestHub(t, codec)

	router := httpbase.NewMux()
	b.server = httptest.NewServer(router)
	t.Cleanup(b.server.Close)
	cfg := Config{
		Store:             b.store,
		Tokens:            codec,
		PublicURL:         b.server.URL,
		HubURL:            b.hub.server.URL,
		WebhookSecrets:    []string{b.secret},
		PingTimeout:       5 * time.Second,
		PingRetrySchedule: []time.Duration{0, 10 * time.Millisecond},
		AdminToken:        testAdmin,
		Registerer:        b.reg,
		Now:               b.now,
		WebhookRate:       -1,
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	b.cfg = cfg
	h, err := New(cfg)
	require.NoError(t, err)
	b.h = h
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Flush(ctx)
	})
	h.Mount(router)
	b.hub.pullBase = b.server.URL
	return b
}

// startJobs starts River with the ping worker; it stops at cleanup.
func (b *testBundle) startJobs(t *testing.T) {
	t.Helper()
	workers := river.NewWorkers()
	b.h.AddWorkers(workers)
	require.NoError(t, b.store.StartJobs(context.Background(), store.JobsConfig{
		Workers:           workers,
		Queues:            b.h.Queues(),
		FetchCooldown:     time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.store.Jobs().Stop(ctx)
	})
	b.runDrain(t)
}

// runDrain runs the fast path of pings (Handler.Run) until cleanup.
func (b *testBundle) runDrain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// outbox is the number of ping outbox entries.
func (b *testBundle) outbox(t *testing.T) int {
	t.Helper()
	n, err := b.store.PingOutboxCount(context.Background())
	require.NoError(t, err)
	return n
}

// webhook sends a signed profile-changed webhook; sign with secret
// (default the bundle's).
type webhookReq struct {
	id          string
	body        string
	secret      string
	contentType string
	at          time.Time
	header      func(http.Header)
}

func (b *testBundle) webhook(t testing.TB, req webhookReq) (int, http.Header, []byte) {
	t.Helper()
	if req.secret == "" {
		req.secret = b.secret
	}
	if req.contentType == "" {
		req.contentType = "application/json"
	}
	if req.at.IsZero() {
		req.at = b.now()
	}
	if req.id == "" {
		req.id = "msg_" + randomID()
	}
	r, err := http.NewRequest(http.MethodPost, b.server.URL+"/hooks/profile-changed", strings.NewReader(req.body))
	require.NoError(t, err)
	for k, v := range signedHeader(t, req.secret, req.id, req.at, []byte(req.body)) {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", req.contentType)
	if req.header != nil {
		req.header(r.Header)
	}
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, body
}

// accept sends a webhook that must be accepted and returns the answer.
func (b *testBundle) accept(t testing.TB, req webhookReq) WebhookAnswer {
	t.Helper()
	status, _, body := b.webhook(t, req)
	require.Equal(t, http.StatusAccepted, status, string(body))
	var a WebhookAnswer
	require.NoError(t, json.Unmarshal(body, &a))
	return a
}

func profileBody(userID, displayName string) string {
	return `{"user_id":"` + userID + `","profile":{"id":"` + userID + `","display_name":"` + displayName + `"}}`
}

var idMu sync.Mutex
var idSeq int

func randomID() string {
	idMu.Lock()
	defer idMu.Unlock()
	idSeq++
	return strconv.Itoa(idSeq)
}

// get does a GET on the gateway with an optional bearer token.
func (b *testBundle) do(t testing.TB, method, path, bearer string) (int, http.Header, []byte) {
	t.Helper()
	r, err := http.NewRequest(method, b.server.URL+path, nil)
	require.NoError(t, err)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/json") // the admin API's unsafe requests must say JSON
	}
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, body
}

// timelineKinds lists the user's timeline kinds, oldest first.
func (b *testBundle) timelineKinds(t *testing.T, userID string) []string {
	t.Helper()
	events, err := b.store.TimelineList(context.Background(), store.TimelineListParams{UserID: userID, Limit: 1000})
	require.NoError(t, err)
	kinds := make([]string, 0, len(events))
	for i := len(events) - 1; i >= 0; i-- {
		kinds = append(kinds, events[i].Kind)
	}
	return kinds
}

// pingJobs lists the ping jobs in the given states (all when none).
func (b *testBundle) pingJobs(t *testing.T, states ...rivertype.JobState) []*rivertype.JobRow {
	t.Helper()
	if len(states) == 0 {
		states = rivertype.JobStates()
	}
	res, err := b.store.Jobs().JobList(context.Background(), river.NewJobListParams().Kinds(pingKind).States(states...).First(1000))
	require.NoError(t, err)
	return res.Jobs
}

// waitFor polls cond, on the test's goroutine, until it holds or 20s
// pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	asynctest.Eventually(t, 20*time.Second, what, cond)
}

// quiet reports whether no ping job is waiting or running.
func (b *testBundle) quiet(t *testing.T) bool {
	return len(b.pingJobs(t, pingUniqueStates...)) == 0 && b.outbox(t) == 0 && b.h.pings.Len() == 0
}

// hubResponse is what the test hub answers to one ping.
type hubResponse struct {
	status     int
	retryAfter string
	// hang waits until the request is cancelled (a timeout).
	hang bool
}

// hubPing is one ping the test hub received.
type hubPing struct {
	UserID string
	Path   string
	// System is true when lftoken verified as a system token.
	System bool
	// Status is the answer given.
	Status int
}

// testHub is a hub on loopback: it records pings and registrations,
// answers from a script (then 200), can hold pings until released, and can
// pull the profile from the gateway on each ping like a real hub.
type testHub struct {
	server   *httptest.Server
	codec    *tokens.Codec
	pullBase string

	mu            sync.Mutex
	script        []hubResponse
	pings         []hubPing
	registrations []url.Values
	registerCodes []int
	// onRegister, when set, runs after each registration is recorded, with
	// the count so far, before the answer is written.
	onRegister func(n int)
	pull       bool
	failRate   float64
	pulled     map[string]string
	hold       bool
	entered    chan string
	release    chan struct{}
}

func newTestHub(t testing.TB, codec *tokens.Codec) *testHub {
	hub := &testHub{codec: codec, pulled: map[string]string{}, entered: make(chan string, 100), release: make(chan struct{})}
	r := httpbase.NewMux()
	r.Handle("/api/v3_0/user/{id}/refresh", http.HandlerFunc(hub.servePing), http.MethodPost)
	r.Handle("/", http.HandlerFunc(hub.serveRegister), http.MethodPost)
	hub.server = httptest.NewServer(r)
	t.Cleanup(func() {
		hub.mu.Lock()
		if hub.hold {
			hub.hold = false
			close(hub.release)
		}
		hub.mu.Unlock()
		hub.server.Close()
	})
	return hub
}

func (hub *testHub) setScript(responses ...hubResponse) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	hub.script = responses
}

func (hub *testHub) setPull(on bool) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	hub.pull = on
}

// holdPings makes pings wait until releaseOne or releaseAll.
func (hub *testHub) holdPings() {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	hub.hold = true
}

func (hub *testHub) releaseOne() { hub.release <- struct{}{} }

func (hub *testHub) releaseAll() {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if hub.hold {
		hub.hold = false
		close(hub.release)
	}
}

func (hub *testHub) received() []hubPing {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	return append([]hubPing(nil), hub.pings...)
}

func (hub *testHub) pulledProfile(userID string) string {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	return hub.pulled[userID]
}

func (hub *testHub) servePing(w http.ResponseWriter, r *http.Request) {
	userID := httpbase.PathValue(r, "id")
	_ = r.ParseForm()
	_, err := hub.codec.VerifySystem(r.PostForm.Get("lftoken"))

	hub.mu.Lock()
	var resp hubResponse
	if len(hub.script) > 0 {
		resp, hub.script = hub.script[0], hub.script[1:]
	} else if hub.failRate > 0 && rand.Float64() < hub.failRate {
		resp.status = http.StatusInternalServerError
	}
	if resp.status == 0 {
		resp.status = http.StatusOK
	}
	hold, release, pull, base := hub.hold, hub.release, hub.pull, hub.pullBase
	ping := hubPing{UserID: userID, Path: r.URL.Path, Status: resp.status,
		System: err == nil && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded"}
	hub.pings = append(hub.pings, ping)
	hub.mu.Unlock()

	// Like a real hub, pull right away: a change made after this point
	// must lead to another ping.
	if pull && resp.status == http.StatusOK && !resp.hang {
		pulled := hub.pullProfile(base, userID)
		hub.mu.Lock()
		hub.pulled[userID] = pulled
		hub.mu.Unlock()
	}
	if hold {
		hub.entered <- userID
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	}
	if resp.hang {
		<-r.Context().Done()
		return
	}
	if resp.retryAfter != "" {
		w.Header().Set("Retry-After", resp.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

// pullProfile does what a hub's pull job does: GET the pull URL with a
// fresh system token.
func (hub *testHub) pullProfile(base, userID string) string {
	token, err := hub.codec.MintSystem(0)
	if err != nil {
		return "mint: " + err.Error()
	}
	resp, err := http.Get(base + "/pull?id=" + url.QueryEscape(userID) + "&lftoken=" + url.QueryEscape(token))
	if err != nil {
		return "pull: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "pull: status " + resp.Status
	}
	return string(body)
}

func (hub *testHub) serveRegister(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	hub.mu.Lock()
	hub.registrations = append(hub.registrations, r.PostForm)
	code := http.StatusNoContent
	if len(hub.registerCodes) > 0 {
		code, hub.registerCodes = hub.registerCodes[0], hub.registerCodes[1:]
	}
	n, onRegister := len(hub.registrations), hub.onRegister
	hub.mu.Unlock()
	if onRegister != nil {
		onRegister(n)
	}
	w.WriteHeader(code)
}

// decodeJSON decodes body into a fresh T.
func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(body))
	require.NoError(t, dec.Decode(&v), string(body))
	return v
}

// errorCode returns the code of a JSON error body.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	require.NotEmpty(t, e.Error.Code, string(body))
	require.NotEmpty(t, e.Error.Message, string(body))
	return e.Error.Code
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	require.NoError(t, m.Write(&out))
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}
