package pingpull

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ssogate/ssogate/internal/drain"
	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/internal/txbatch"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// webhookTxBatch bounds the webhooks committed in one transaction. A
// batch runs in four statements whatever its size (runWebhooks), so a
// larger bound costs little: at 2000 webhooks/s on PostgreSQL, 256 gave
// p99 1.7-1.9 s where 64 gave 4.1-6.1 s (accept p50 59-97 ms vs 191-365
// ms; ssogate-bench --rates 2000, two runs each, 2026-12-04).
const webhookTxBatch = 256

// Handler serves the gateway's Ping for Pull endpoints and works its ping
// jobs. Create it with New.
type Handler struct {
	cfg      Config
	store    Store
	tokens   *tokens.Codec
	log      *slog.Logger
	client   *http.Client
	secrets  []*standardwebhooks.Webhook
	limiter  *tokenBucket
	failures *clientBuckets
	metrics  *metrics
	// admin guards the admin routes; nil without an admin token.
	admin  *httpbase.Admin
	worker *pingWorker
	// pings is the fast path of pings (ping_drain.go); instance names this
	// process in the outbox.
	pings    *drain.Drainer[pingItem, pingDelivery]
	instance string
	// webhookTx commits concurrent webhooks together (group commit).
	webhookTx *txbatch.Group[store.Tx, *webhookItem]
	// back brings waiting pings forward when the hub answers again
	// (hub_return.go).
	back *hubReturn
	// errs is the one place that maps errors to HTTP answers.
	errs httpbase.ErrorWriter
	// enqueueBatch is EnqueuePings' transaction size (tests shrink it).
	enqueueBatch int
	// bulk follows what EnqueuePings queued, to refresh the outbox's
	// statistics as it grows (ping_job.go).
	bulk bulkQueue
	// registered is closed once the hub has accepted the pull URL.
	registered     chan struct{}
	registeredOnce sync.Once

	served servedRecorder
	// reads reads the profiles of concurrent pulls in one statement.
	reads profileReads

	// tokenCache maps the SHA-256 of pull tokens that verified to their
	// expiry (verifyPullToken).
	tokenMu    sync.Mutex
	tokenCache map[[sha256.Size]byte]time.Time

	// lastReceiptSweep is when expired webhook receipts were last deleted.
	sweepMu          sync.Mutex
	lastReceiptSweep time.Time
}

// New checks cfg (after WithDefaults) and returns the Handler. It
// registers the metrics on cfg.Registerer.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	client := *cfg.HTTPClient
	// A redirected POST turns into a GET elsewhere; a hub or profile source
	// that redirects is misconfigured and must be reported as such.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h := &Handler{
		cfg:     cfg,
		store:   cfg.Store,
		tokens:  cfg.Tokens,
		log:     cfg.Logger,
		client:  &client,
		limiter: newTokenBucket(cfg.WebhookRate, cfg.WebhookBurst, cfg.Now),

		enqueueBatch: defaultEnqueueBatch,
	}
	h.errs = httpbase.ErrorWriter{Logger: cfg.Logger, Prefix: "pingpull", Map: mapError}
	h.failures = newClientBuckets(cfg.WebhookFailureRate, cfg.WebhookFailureBurst, cfg.Now)
	h.registered = make(chan struct{})
	h.served.idle = make(chan struct{})
	h.served.taken = make(chan struct{})
	h.served.hurry = make(chan struct{})
	h.tokenCache = make(map[[sha256.Size]byte]time.Time)
	h.reads.getOne, h.reads.getMany = h.store.ProfileGet, h.store.ProfileGetMany
	for _, secret := range cfg.WebhookSecrets {
		wh, err := parseWebhookSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("pingpull: webhook secret: %w", err)
		}
		h.secrets = append(h.secrets, wh)
	}
	if len(h.secrets) == 0 {
		h.log.Warn("pingpull: no webhook secrets configured; POST /hooks/profile-changed is not served")
	}
	if cfg.AdminToken != "" {
		var trusted []string
		if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
			trusted = append(trusted, u.Scheme+"://"+u.Host)
		}
		var err error
		if h.admin, err = httpbase.NewAdmin(httpbase.AdminConfig{Token: cfg.AdminToken, Realm: "ssogate admin: any user name, the admin_token as password", TrustedOrigins: trusted}); err != nil {
			return nil, fmt.Errorf("pingpull: admin: %w", err)
		}
	}
	m, err := newMetrics(cfg.Registerer, cfg.Store.Jobs(), cfg.Store, cfg.Now)
	if err != nil {
		return nil, err
	}
	h.metrics = m
	if h.back, err = newHubReturn(cfg.Registerer); err != nil {
		return nil, err
	}
	h.worker = &pingWorker{h: h}
	h.instance = instanceID()
	h.pings = h.newPingDrain()
	h.webhookTx = txbatch.NewGroup(txbatch.GroupConfig[store.Tx, *webhookItem]{
		InTx:     h.store.InTx,
		Run:      h.runWebhooks,
		MaxBatch: webhookTxBatch,
		Observe:  func(n int) { h.metrics.webhookTxBatch.Observe(float64(n)) },
	})
	return h, nil
}

// Mount adds the routes to r: POST /hooks/profile-changed (when webhook
// secrets are configured), GET /pull, and with an admin token
// /admin/api/users/{id}/timeline, /admin/api/deadletters,
// /admin/api/deadletters/{id}/replay and /admin/jobs (the River UI, when
// given). The admin routes sit behind httpbase.Admin (the token as bearer
// or Basic password, no cross-site requests, no framing); the admin API's
// unsafe requests must also be application/json (httpbase.RequireJSON). The
// River UI's own requests are not (its browser code posts JSON as
// text/plain), so it relies on the cross-origin refusal alone.
func (h *Handler) Mount(r httpbase.Routes) {
	if len(h.secrets) > 0 {
		r.Handle("/hooks/profile-changed", http.HandlerFunc(h.serveWebhook), http.MethodPost)
	}
	r.Handle("/pull", http.HandlerFunc(h.servePull), http.MethodGet)
	if h.admin == nil {
		return
	}
	admin := r.Group("/admin/api", h.admin.Middleware, httpbase.RequireJSON)
	admin.Handle("/users/{id}/timeline", http.HandlerFunc(h.serveTimeline), http.MethodGet)
	admin.Handle("/deadletters", http.HandlerFunc(h.serveDeadLetters), http.MethodGet)
	admin.Handle("/deadletters/{id}/replay", http.HandlerFunc(h.serveReplay), http.MethodPost)
	if h.cfg.RiverUI != nil {
		r.HandlePrefix("/admin/jobs", h.admin.Middleware(h.cfg.RiverUI))
	}
}

// mapError is pingpull's one domain mapping for h.errs: a profile field
// the Livefyre format refuses is the client's 400.
func mapError(err error) *httpbase.Error {
	var fe *livefyre.FieldError
	if errors.As(err, &fe) {
		return &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: fe.Field + ": " + fe.Message}
	}
	return nil
}

// timeline appends one event outside any transaction; a failure is logged,
// never returned, because the timeline is a record, not a gate.
func (h *Handler) timeline(ctx context.Context, userID, kind string, detail any) {
	if _, err := h.store.TimelineAppend(ctx, timelineEvent(userID, kind, detail, h.cfg.Now())); err != nil {
		h.log.WarnContext(ctx, "pingpull: timeline append failed", "user_id", userID, "kind", kind, "error", err)
	}
}

func timelineEvent(userID, kind string, detail any, at time.Time) *store.TimelineEvent {
	b, err := json.Marshal(detail)
	if err != nil {
		b = []byte(`{}`)
	}
	return &store.TimelineEvent{UserID: userID, Kind: kind, Detail: b, At: at}
}

// publicReason is err's client-facing message (for the timeline): an
// *httpbase.Error's Message, a livefyre.FieldError's text, else a generic one.
func publicReason(err error) string {
	var ae *httpbase.Error
	var fe *livefyre.FieldError
	switch {
	case errors.As(err, &ae):
		return ae.Message
	case errors.As(err, &fe):
		return fe.Field + ": " + fe.Message
	}
	return "internal error"
}
