package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// The network of Livefyre's library tests (spec §6.2).
const (
	testNetwork = "test.fyre.co"
	testKey     = "testkeytest"
)

// waitFor is how long a test waits for an asynchronous result.
const waitFor = 15 * time.Second

type testBundle struct {
	t     *testing.T
	ctx   context.Context
	h     *Handler
	store store.Store
	hub   *httptest.Server
	codec *tokens.Codec
	reg   *prometheus.Registry
}

type setupOpts struct {
	allowPrivate bool
	startJobs    bool
	configure    func(*Config)
	handler      func(*Handler)
	store        store.Store
}

type option func(*setupOpts)

// withJobs starts River with the pull worker.
func withJobs() option { return func(o *setupOpts) { o.startJobs = true } }

// withPrivate lets pulls reach the loopback test endpoints.
func withPrivate() option { return func(o *setupOpts) { o.allowPrivate = true } }

func withConfig(f func(*Config)) option {
	return func(o *setupOpts) {
		prev := o.configure
		o.configure = func(c *Config) {
			if prev != nil {
				prev(c)
			}
			f(c)
		}
	}
}

// withHandler changes the Handler's unexported knobs after New, before any
// job runs.
func withHandler(f func(*Handler)) option { return func(o *setupOpts) { o.handler = f } }

// withStore uses s instead of a new SQLite store.
func withStore(s store.Store) option { return func(o *setupOpts) { o.store = s } }

func setup(t *testing.T, opts ...option) *testBundle {
	t.Helper()
	var o setupOpts
	for _, opt := range opts {
		opt(&o)
	}
	s := o.store
	if s == nil {
		s = newTestStore(t)
	}
	reg := prometheus.NewRegistry()
	cfg := Config{
		Networks: []NetworkConfig{
			{Name: testNetwork, Key: testKey, AllowPrivateTargets: o.allowPrivate},
			{Name: "other.fyre.co", Key: "bundlekey"},
		},
		AppOrigins:  []string{"https://app.example"},
		Store:       s,
		Logger:      slog.New(slog.DiscardHandler),
		Registerer:  reg,
		PullTimeout: 2 * time.Second,
		AdminToken:  testAdminToken,
		DemoApp:     true,
	}
	if o.configure != nil {
		o.configure(&cfg)
	}
	h, err := New(cfg)
	require.NoError(t, err)
	if o.handler != nil {
		o.handler(h)
	}
	r := httpbase.NewMux()
	h.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	codec, err := tokens.New(tokens.Config{Network: testNetwork, Key: testKey, Now: h.cfg.Now})
	require.NoError(t, err)
	b := &testBundle{t: t, ctx: context.Background(), h: h, store: s, hub: srv, codec: codec, reg: reg}
	if o.startJobs {
		workers := river.NewWorkers()
		h.AddWorkers(workers)
		require.NoError(t, s.StartJobs(b.ctx, store.JobsConfig{
			Workers:           workers,
			Queues:            map[string]river.QueueConfig{PullQueue: {MaxWorkers: 4}},
			FetchPollInterval: 50 * time.Millisecond,
		}))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Jobs().Stop(ctx)
		})
		// The fast path of pulls, stopped before River and the store.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	return b
}

func (b *testBundle) systemToken() string {
	tok, err := b.codec.MintSystem(0)
	require.NoError(b.t, err)
	return tok
}

func (b *testBundle) userToken(id, name string) string {
	tok, err := b.codec.Mint(id, name, time.Hour)
	require.NoError(b.t, err)
	return tok
}

// sessionToken is the app-session token the auth API issues for a fresh
// userAuthToken of id (data.token.value).
func (b *testBundle) sessionToken(id, name string) string {
	b.t.Helper()
	resp := b.do(http.MethodGet, "/api/v3.0/auth/?lftoken="+url.QueryEscape(b.userToken(id, name)), "", "", nil)
	require.Equal(b.t, http.StatusOK, resp.status, resp.body)
	return resp.json(b.t)["data"].(map[string]any)["token"].(map[string]any)["value"].(string)
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &m), r.body)
	return m
}

// errorCode reads {"error":{"code"}}.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	require.NotNil(t, e, r.body)
	return e["code"].(string)
}

// do sends a request to the hub. host, when set, is the Host header.
func (b *testBundle) do(method, path, contentType, body string, header http.Header) response {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, method, b.hub.URL+path, strings.NewReader(body))
	require.NoError(b.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if h := header.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := b.hub.Client().Do(req)
	require.NoError(b.t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (b *testBundle) register(template string) {
	b.t.Helper()
	form := url.Values{"actor_token": {b.systemToken()}, "pull_profile_url": {template}}
	resp := b.do(http.MethodPost, "/", "application/x-www-form-urlencoded", form.Encode(), nil)
	require.Equal(b.t, http.StatusNoContent, resp.status, resp.body)
}

func (b *testBundle) ping(id string) response {
	b.t.Helper()
	return b.do(http.MethodPost, "/api/v3_0/user/"+id+"/refresh", "application/x-www-form-urlencoded",
		"lftoken="+url.QueryEscape(b.systemToken()), nil)
}

func (b *testBundle) profile(id string) *store.RemoteProfile {
	b.t.Helper()
	rp, err := b.store.RemoteProfileGet(b.ctx, testNetwork, id)
	require.NoError(b.t, err)
	return rp
}

// eventually polls cond, on the test's goroutine (cond may use require),
// until it holds or waitFor passes.
func (b *testBundle) eventually(cond func() bool, msg string, args ...any) {
	b.t.Helper()
	asynctest.Eventually(b.t, waitFor, fmt.Sprintf(msg, args...), cond)
}

// waitProfile waits until the user's remote profile satisfies cond.
func (b *testBundle) waitProfile(id string, cond func(*store.RemoteProfile) bool) *store.RemoteProfile {
	b.t.Helper()
	var last *store.RemoteProfile
	defer func() {
		if b.t.Failed() {
			b.t.Logf("last remote profile %s: %+v", id, last)
		}
	}()
	b.eventually(func() bool {
		rp, err := b.store.RemoteProfileGet(b.ctx, testNetwork, id)
		if err != nil {
			return false
		}
		last = rp
		return cond(rp)
	}, "remote profile %s never got there", id)
	return last
}

// pullJobs lists the pull jobs in the given states.
func (b *testBundle) pullJobs(states ...rivertype.JobState) []*rivertype.JobRow {
	b.t.Helper()
	res, err := b.store.Jobs().JobList(b.ctx, river.NewJobListParams().Kinds(PullArgs{}.Kind()).States(states...).First(100))
	require.NoError(b.t, err)
	return res.Jobs
}

// waitJob waits until a pull job is in state and returns it.
func (b *testBundle) waitJob(state rivertype.JobState) *rivertype.JobRow {
	b.t.Helper()
	var job *rivertype.JobRow
	b.eventually(func() bool {
		jobs := b.pullJobs(state)
		if len(jobs) == 0 {
			return false
		}
		job = jobs[0]
		return true
	}, "no pull job reached %s", state)
	return job
}

// waitFailed waits until the pull job failed an attempt and waits for its
// retry. River keeps a retry due within its scheduler interval (5s)
// "available" with a future ScheduledAt, later ones "retryable".
func (b *testBundle) waitFailed() *rivertype.JobRow {
	b.t.Helper()
	var job *rivertype.JobRow
	b.eventually(func() bool {
		for _, j := range b.pullJobs(rivertype.JobStateAvailable, rivertype.JobStateRetryable) {
			if len(j.Errors) > 0 {
				job = j
				return true
			}
		}
		return false
	}, "no pull job failed")
	return job
}

// waitRetry waits until an unfinished pull job waits for a retry later
// than now: one the fast path scheduled at a Retry-After, or one whose
// attempt failed.
func (b *testBundle) waitRetry() *rivertype.JobRow {
	b.t.Helper()
	var job *rivertype.JobRow
	b.eventually(func() bool {
		for _, j := range b.pullJobs(unfinishedStates...) {
			if j.State != rivertype.JobStateRunning && j.ScheduledAt.After(time.Now()) {
				job = j
				return true
			}
		}
		return false
	}, "no pull job waits for a retry")
	return job
}

// endpoint is a gateway's pull endpoint on loopback: it checks lftoken like
// a gateway does and serves profiles, or what a test tells it to.
type endpoint struct {
	t     *testing.T
	codec *tokens.Codec
	srv   *httptest.Server

	mu       sync.Mutex
	profiles map[string]string
	// script, when non-empty, answers the next requests in order.
	script []func(w http.ResponseWriter, r *http.Request)
	// hook runs at the start of every request (after the token check).
	hook   func(r *http.Request)
	calls  atomic.Int32
	tokens []string
}

func newEndpoint(t *testing.T, codec *tokens.Codec) *endpoint {
	e := &endpoint{t: t, codec: codec, profiles: map[string]string{}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) template() string { return e.srv.URL + "/pull?id={id}" }

func (e *endpoint) set(id, profile string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.profiles[id] = profile
}

// setHook sets hook; it runs under no lock.
func (e *endpoint) setHook(f func(r *http.Request)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hook = f
}

// then queues scripted answers.
func (e *endpoint) then(fs ...func(w http.ResponseWriter, r *http.Request)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.script = append(e.script, fs...)
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	tok := r.URL.Query().Get("lftoken")
	e.mu.Lock()
	e.tokens = append(e.tokens, tok)
	hook := e.hook
	var scripted func(http.ResponseWriter, *http.Request)
	if len(e.script) > 0 {
		scripted, e.script = e.script[0], e.script[1:]
	}
	profile, ok := e.profiles[r.URL.Query().Get("id")]
	e.mu.Unlock()
	if _, err := e.codec.VerifySystem(tok); err != nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if hook != nil {
		hook(r)
	}
	if scripted != nil {
		scripted(w, r)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, profile)
}

func status(code int, header ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

func body(s string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, s)
	}
}

// metric sums a metric's values (counters, gauges; sample counts of
// histograms) over the series whose first label value is label ("" for
// all).
func (b *testBundle) metric(name, label string) float64 {
	b.t.Helper()
	families, err := b.reg.Gather()
	require.NoError(b.t, err)
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// jobErrors joins the error messages River recorded on a job.
func jobErrors(job *rivertype.JobRow) string {
	var msgs []string
	for _, e := range job.Errors {
		msgs = append(msgs, e.Error)
	}
	return strings.Join(msgs, " | ")
}

// requirePending asserts that n users' pulls wait for the fast path (the
// drain is not running): n offers in memory, n pending rows in the store,
// and no River pull job (a job only takes over a failed pull).
func (b *testBundle) requirePending(n int) {
	b.t.Helper()
	require.Equal(b.t, n, b.h.pulls.Len(), "offers in the drain")
	pending, err := b.store.RemoteProfilePendingCount(b.ctx)
	require.NoError(b.t, err)
	require.Equal(b.t, n, pending, "pending remote profiles")
	require.Empty(b.t, b.pullJobs(), "no River pull job")
}
