package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/tokens"
)

// The floor is the least a Ping for Pull round trip can cost over HTTP on
// this machine: the same signed webhook, system tokens minted and checked,
// ping, pull and an update event on the same kind of stream as the hub's,
// but no queue, no database, no retries and no durability. Both halves are
// plain net/http servers run as child processes like ssogate.

// FloorConfig configures floor-gateway and floor-hub. cmd/ssogate-bench
// reads it from the same SSOGATE_… variables as ssogate.
type FloorConfig struct {
	// Listen is host:port. Required.
	Listen string
	// Network and Key are the Livefyre network. Required.
	Network string
	Key     string
	// HubURL is where the floor gateway pings and registers. Required for
	// the gateway.
	HubURL string
	// PublicURL is the floor gateway's base URL, registered at the hub as
	// PublicURL + "/pull?id={id}". Required for the gateway.
	PublicURL string
	// WebhookSecrets are the whsec_ secrets. Required for the gateway.
	WebhookSecrets []string
	// Logger defaults to a discarding logger.
	Logger *slog.Logger
}

func (c FloorConfig) withDefaults() FloorConfig {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c FloorConfig) validate(gateway bool) error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen is required"))
	}
	if c.Network == "" || c.Key == "" {
		errs = append(errs, errors.New("network name and key are required"))
	}
	if gateway {
		if c.HubURL == "" {
			errs = append(errs, errors.New("hub URL is required"))
		}
		if c.PublicURL == "" {
			errs = append(errs, errors.New("public URL is required"))
		}
		if len(c.WebhookSecrets) == 0 {
			errs = append(errs, errors.New("webhook secrets are required"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: floor: invalid config: %w", err)
	}
	return nil
}

// floorClient is the floor's HTTP client: many keep-alive connections to
// the one peer.
func floorClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4096
	tr.MaxIdleConnsPerHost = 4096
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// serveFloor serves h on cfg.Listen until ctx ends.
func serveFloor(ctx context.Context, cfg FloorConfig, h http.Handler) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("bench: floor: listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("bench: floor: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// floorGateway is the floor's gateway: profiles in a map, the ping made
// inside the webhook request.
type floorGateway struct {
	cfg     FloorConfig
	codec   *tokens.Codec
	secrets []*standardwebhooks.Webhook
	client  *http.Client

	mu       sync.Mutex
	profiles map[string][]byte
	versions map[string]int64
}

// RunFloorGateway runs the floor gateway until ctx ends: POST
// /hooks/profile-changed (verified like ssogate's, then a synchronous ping;
// 202 after the hub's 200), GET /pull, /readyz. It registers its pull URL
// with the floor hub at start.
func RunFloorGateway(ctx context.Context, cfg FloorConfig) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(true); err != nil {
		return err
	}
	codec, err := tokens.New(tokens.Config{Network: cfg.Network, Key: cfg.Key})
	if err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	g := &floorGateway{cfg: cfg, codec: codec, client: floorClient(),
		profiles: map[string][]byte{}, versions: map[string]int64{}}
	for _, s := range cfg.WebhookSecrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return fmt.Errorf("bench: floor: webhook secret: %w", err)
		}
		g.secrets = append(g.secrets, wh)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/profile-changed", g.webhook)
	mux.HandleFunc("GET /pull", g.pull)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	go g.register(ctx)
	return serveFloor(ctx, cfg, mux)
}

// register posts the pull URL to the hub until it answers 204.
func (g *floorGateway) register(ctx context.Context) {
	for {
		if err := g.registerOnce(ctx); err == nil {
			return
		} else {
			g.cfg.Logger.WarnContext(ctx, "floor gateway: register", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (g *floorGateway) registerOnce(ctx context.Context) error {
	tok, err := g.codec.MintSystem(time.Hour)
	if err != nil {
		return err
	}
	form := url.Values{"actor_token": {tok}, "pull_profile_url": {strings.TrimSuffix(g.cfg.PublicURL, "/") + "/pull?id={id}"}}
	resp, err := g.client.PostForm(strings.TrimSuffix(g.cfg.HubURL, "/")+"/", form)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("hub answered %d", resp.StatusCode)
	}
	return nil
}

func (g *floorGateway) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		httpbase.WriteError(w, http.StatusBadRequest, "unreadable_body", "the body could not be read")
		return
	}
	verified := false
	for _, wh := range g.secrets {
		if wh.Verify(body, r.Header) == nil {
			verified = true
			break
		}
	}
	if !verified {
		httpbase.WriteError(w, http.StatusUnauthorized, "invalid_signature", "the webhook signature is invalid")
		return
	}
	var payload struct {
		UserID  string          `json:"user_id"`
		Profile json.RawMessage `json:"profile"`
	}
	if err := json.Unmarshal(body, &payload); err != nil || !tokens.ValidUserID(payload.UserID) || len(payload.Profile) == 0 {
		httpbase.WriteError(w, http.StatusBadRequest, "invalid_body", "user_id and profile are required")
		return
	}
	g.mu.Lock()
	g.profiles[payload.UserID] = payload.Profile
	g.versions[payload.UserID]++
	version := g.versions[payload.UserID]
	g.mu.Unlock()
	if err := g.ping(r.Context(), payload.UserID); err != nil {
		httpbase.WriteError(w, http.StatusBadGateway, "ping_failed", "the ping failed")
		return
	}
	httpbase.WriteJSON(w, http.StatusAccepted, map[string]any{"user_id": payload.UserID, "version": version, "status": "queued"})
}

// ping posts the refresh with a fresh system token, as Livefyre's
// libraries do.
func (g *floorGateway) ping(ctx context.Context, userID string) error {
	tok, err := g.codec.MintSystem(time.Hour)
	if err != nil {
		return err
	}
	u := strings.TrimSuffix(g.cfg.HubURL, "/") + "/api/v3_0/user/" + url.PathEscape(userID) + "/refresh"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(url.Values{"lftoken": {tok}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("hub answered %d", resp.StatusCode)
	}
	return nil
}

func (g *floorGateway) pull(w http.ResponseWriter, r *http.Request) {
	if _, err := g.codec.VerifySystem(r.URL.Query().Get("lftoken")); err != nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	g.mu.Lock()
	p, ok := g.profiles[r.URL.Query().Get("id")]
	g.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(p)
}

// floorHub is the floor's hub: a ping answers 200 and starts the pull at
// once; pulls of one user run one at a time so the last one wins.
type floorHub struct {
	cfg    FloorConfig
	codec  *tokens.Codec
	client *http.Client
	events *broadcaster

	mu       sync.Mutex
	template string
	users    map[string]*floorUser
}

type floorUser struct {
	pull    sync.Mutex // one pull at a time
	mu      sync.Mutex
	data    []byte
	name    string
	avatar  string
	pingAt  time.Time
	updated time.Time
}

// RunFloorHub runs the floor hub until ctx ends: POST / (registration),
// POST /api/v3_0/user/{id}/refresh, GET /api/networks/{network}/updates
// (the same events as ssogate's hub), GET /api/networks/{network}/users/{id},
// /readyz.
func RunFloorHub(ctx context.Context, cfg FloorConfig) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(false); err != nil {
		return err
	}
	codec, err := tokens.New(tokens.Config{Network: cfg.Network, Key: cfg.Key})
	if err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	h := &floorHub{cfg: cfg, codec: codec, client: floorClient(), events: newBroadcaster(), users: map[string]*floorUser{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", h.register)
	mux.HandleFunc("POST /api/v3_0/user/{id}/refresh", h.ping)
	mux.HandleFunc("GET /api/networks/{network}/updates", h.updates)
	mux.HandleFunc("GET /api/networks/{network}/users/{id}", h.user)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	return serveFloor(ctx, cfg, mux)
}

func (h *floorHub) register(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if _, err := h.codec.VerifySystem(r.Form.Get("actor_token")); err != nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	t := r.Form.Get("pull_profile_url")
	if !strings.Contains(t, "{id}") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.template = t
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *floorHub) user(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	u := h.users[r.PathValue("id")]
	h.mu.Unlock()
	if u == nil || r.PathValue("network") != h.cfg.Network {
		httpbase.WriteError(w, http.StatusNotFound, "unknown_user", "no such user")
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	httpbase.WriteJSON(w, http.StatusOK, map[string]any{"network": h.cfg.Network, "user_id": r.PathValue("id"), "display_name": u.name, "avatar_url": u.avatar})
}

func (h *floorHub) ping(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if _, err := h.codec.VerifySystem(r.Form.Get("lftoken")); err != nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	id := r.PathValue("id")
	if !tokens.ValidUserID(id) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	template := h.template
	u := h.users[id]
	if u == nil {
		u = &floorUser{}
		h.users[id] = u
	}
	h.mu.Unlock()
	if template == "" {
		httpbase.WriteError(w, http.StatusConflict, "no_pull_url", "no pull URL registered")
		return
	}
	u.mu.Lock()
	if u.pingAt.IsZero() {
		u.pingAt = at
	}
	u.mu.Unlock()
	httpbase.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "code": 200})
	go h.pull(id, u, template)
}

// pull fetches the profile and announces it when it changed.
func (h *floorHub) pull(id string, u *floorUser, template string) {
	u.pull.Lock()
	defer u.pull.Unlock()
	tok, err := h.codec.MintSystem(time.Hour)
	if err != nil {
		return
	}
	target := strings.ReplaceAll(template, "{id}", url.QueryEscape(id)) + "&lftoken=" + url.QueryEscape(tok)
	resp, err := h.client.Get(target)
	if err != nil {
		h.cfg.Logger.Warn("floor hub: pull", "error", err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	var doc struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		ImageURL    string `json:"image_url"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.ID != id {
		return
	}
	now := time.Now()
	u.mu.Lock()
	changed := !bytes.Equal(u.data, body)
	pingAt := u.pingAt
	u.pingAt = time.Time{}
	if changed {
		u.data, u.name, u.avatar, u.updated = body, doc.DisplayName, doc.ImageURL, now
	}
	u.mu.Unlock()
	if !changed {
		return
	}
	ev := updateEvent{Network: h.cfg.Network, UserID: id, DisplayName: doc.DisplayName, Avatar: doc.ImageURL, PulledAt: now.UTC()}
	if !pingAt.IsZero() {
		t := pingAt.UTC()
		ev.PingReceivedAt = &t
	}
	payload, err := json.Marshal(ev)
	if err == nil {
		h.events.send(payload)
	}
}

func (h *floorHub) updates(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("network") != h.cfg.Network {
		httpbase.WriteError(w, http.StatusNotFound, "unknown_network", "no such network")
		return
	}
	sub := h.events.subscribe()
	defer h.events.unsubscribe(sub)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	write := func(s string) bool {
		if _, err := io.WriteString(w, s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: 2000\n: floor hub updates\n\n") {
		return
	}
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case p := <-sub.c:
			if !write("event: profile\ndata: " + string(p) + "\n\n") {
				return
			}
		case <-sub.lagged:
			if !write("event: lagged\ndata: {}\n\n") {
				return
			}
		case <-tick.C:
			if !write(": keep-alive\n\n") {
				return
			}
		}
	}
}

// updateEvent is the payload of a "profile" event on the update stream
// (the same JSON as hub.UpdateEvent).
type updateEvent struct {
	Network        string     `json:"network"`
	UserID         string     `json:"user_id"`
	DisplayName    string     `json:"display_name"`
	Avatar         string     `json:"avatar"`
	PulledAt       time.Time  `json:"pulled_at"`
	PingReceivedAt *time.Time `json:"ping_received_at,omitempty"`
}

// broadcaster fans payloads out to stream subscribers without blocking;
// a full subscriber is told it lagged.
type broadcaster struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	c      chan []byte
	lagged chan struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{subs: map[*subscriber]struct{}{}} }

func (b *broadcaster) subscribe() *subscriber {
	s := &subscriber{c: make(chan []byte, 1024), lagged: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *broadcaster) unsubscribe(s *subscriber) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

func (b *broadcaster) send(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- p:
		default:
			select {
			case s.lagged <- struct{}{}:
			default:
			}
		}
	}
}
