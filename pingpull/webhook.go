package pingpull

import (
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// Webhook answer statuses.
const (
	StatusQueued    = "queued"
	StatusUnchanged = "unchanged"
	StatusStale     = "stale"
)

// WebhookAnswer is the body of the webhook's 202.
type WebhookAnswer struct {
	UserID  string `json:"user_id"`
	Version int64  `json:"version"`
	// Status is "queued" (new version, ping queued), "unchanged" (identical
	// profile, nothing to ping) or "stale" (older than the stored profile,
	// not applied).
	Status string `json:"status"`
}

// validUserID is Livefyre's id rule minus the reserved "system" (any
// case): no webhook, ping or pull may act on the network owner's identity.
func validUserID(id string) bool { return tokens.ValidUserID(id) && !tokens.IsReservedUserID(id) }

// receiptSweepInterval is how often expired webhook receipts are deleted.
const receiptSweepInterval = time.Hour

// serveWebhook is POST /hooks/profile-changed. Checks run cheapest first:
// content type, size, signature, rate, replay, body; none of them touches
// stored state, so a refusal never loses anything accepted before. The
// signature is verified before the rate limit is applied, so unsigned
// requests cannot spend the limit of the site's backend: the refusals
// before it spend a bucket of the sending client's own (refuseUnsigned).
func (h *Handler) serveWebhook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		h.refuseUnsigned(w, r, "unsupported_media_type", &httpbase.Error{Status: http.StatusUnsupportedMediaType,
			Code: "unsupported_media_type", Message: "Content-Type must be application/json"})
		return
	}
	tooLarge := &httpbase.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: "the body is larger than " + byteSize(h.cfg.WebhookMaxBody)}
	if r.ContentLength > h.cfg.WebhookMaxBody {
		h.refuseUnsigned(w, r, "too_large", tooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.WebhookMaxBody))
	if be := httpbase.ClassifyBodyError(err); be != nil {
		if be.Status == http.StatusRequestEntityTooLarge {
			h.refuseUnsigned(w, r, "too_large", tooLarge)
			return
		}
		h.refuseUnsigned(w, r, "bad_request", &httpbase.Error{Status: be.Status, Code: be.Code, Message: be.Message, Err: err})
		return
	}
	if err := verifyWebhook(h.secrets, r.Header, body, h.cfg.Now(), h.cfg.WebhookTolerance); err != nil {
		h.refuseUnsigned(w, r, "unauthorized", &httpbase.Error{Status: http.StatusUnauthorized, Code: err.Error(),
			Message: signatureMessage(err)})
		return
	}
	if ok, wait := h.limiter.take(); !ok {
		h.refuseWebhook(w, r, "rate_limited", &httpbase.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many webhooks; retry later", RetryAfter: wait})
		return
	}
	webhookID := r.Header.Get(standardwebhooks.HeaderWebhookID)
	if len(webhookID) > maxWebhookIDLength {
		h.refuseWebhook(w, r, "bad_request", &httpbase.Error{Status: http.StatusBadRequest, Code: "invalid_field",
			Message: "webhook-id: is longer than 256 bytes"})
		return
	}
	payload, err := parseWebhookBody(body)
	if err != nil {
		h.refuseWebhook(w, r, "bad_request", err)
		return
	}
	// A replay is answered from its receipt. When the profile comes with
	// the webhook, the receipt is looked up in the transaction that applies
	// it (one round trip and one transaction fewer per change); a webhook
	// whose profile must be fetched first is checked before the fetch.
	if payload.fromSource() {
		if receipt, err := h.receipt(ctx, h.store, webhookID); err != nil {
			h.refuseWebhook(w, r, "error", err)
			return
		} else if receipt != nil {
			h.replay(w, receipt)
			return
		}
	}
	data, err := h.webhookProfile(ctx, payload)
	if err != nil {
		if !h.refuseInvalidProfile(w, r, webhookID, payload.UserID, err) {
			h.timeline(ctx, payload.UserID, "webhook.failed", map[string]any{"webhook_id": webhookID, "reason": publicReason(err)})
			h.refuseWebhook(w, r, "profile_source_error", err)
		}
		return
	}
	answer, replayed, err := h.applyWebhook(ctx, webhookID, payload, data)
	if err != nil {
		if !h.refuseInvalidProfile(w, r, webhookID, payload.UserID, err) {
			h.refuseWebhook(w, r, "error", err)
		}
		return
	}
	if replayed != nil {
		h.replay(w, replayed)
		return
	}
	h.metrics.webhooks.WithLabelValues(answer.Status).Inc()
	httpbase.WriteJSON(w, http.StatusAccepted, answer)
	h.maybeSweepReceipts(ctx, w)
}

// refuseUnsigned answers a request refused before its signature was
// verified, spending a token of its client's failure bucket; a client out
// of tokens gets 429 instead (and its connection closed), and is no longer
// logged, so that a flood neither fills the log nor costs more than the
// signature check.
func (h *Handler) refuseUnsigned(w http.ResponseWriter, r *http.Request, result string, err error) {
	if ok, wait := h.failures.take(r.RemoteAddr); !ok {
		w.Header().Set("Connection", "close")
		h.metrics.webhooks.WithLabelValues("client_rate_limited").Inc()
		h.errs.Write(w, r, &httpbase.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many refused webhooks from this client; retry later", RetryAfter: wait})
		return
	}
	h.refuseWebhook(w, r, result, err)
}

func (h *Handler) refuseWebhook(w http.ResponseWriter, r *http.Request, result string, err error) {
	if result == "error" && storeUnavailable(err) {
		result = "store_unavailable"
		err = &httpbase.Error{Status: http.StatusServiceUnavailable, Code: "store_unavailable",
			Message: "the store is unreachable; the change was not stored, retry later", RetryAfter: storeRetryAfter, Err: err}
	}
	h.metrics.webhooks.WithLabelValues(result).Inc()
	if result == "unauthorized" {
		h.log.WarnContext(r.Context(), "pingpull: webhook refused", "reason", err.Error(), "remote_addr", r.RemoteAddr)
	}
	h.errs.Write(w, r, err)
}

func (h *Handler) replay(w http.ResponseWriter, receipt *store.WebhookReceipt) {
	h.metrics.webhooks.WithLabelValues("replayed").Inc()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(receipt.StatusCode)
	_, _ = w.Write(receipt.Body)
}

// storeRetryAfter is the Retry-After of a webhook refused because the
// store is unreachable: about as long as a PostgreSQL restart takes.
const storeRetryAfter = 2 * time.Second

// storeUnavailable reports whether err says the store cannot be reached
// (a refused or broken connection, a server shutting down, starting up or
// out of connections) rather than that the request or its data is wrong.
// It knows no driver: network errors are net.Error or an errno, and
// PostgreSQL's errors name their SQLSTATE.
func storeUnavailable(err error) bool {
	var he *httpbase.Error
	if err == nil || errors.As(err, &he) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		code := st.SQLState()
		// 08: connection exception; 57P01-57P03: admin or crash shutdown,
		// cannot connect now; 53300: too many connections.
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	return false
}

// receiptQueries reads and frees receipts, on the store or in a
// transaction.
type receiptQueries interface {
	WebhookReceiptGet(ctx context.Context, id string) (*store.WebhookReceipt, error)
	WebhookReceiptDeleteBefore(ctx context.Context, t time.Time) (int, error)
}

// receipt returns the stored answer for webhookID, or nil when there is
// none younger than the receipt TTL.
func (h *Handler) receipt(ctx context.Context, q receiptQueries, webhookID string) (*store.WebhookReceipt, error) {
	receipt, err := q.WebhookReceiptGet(ctx, webhookID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case h.cfg.Now().Sub(receipt.CreatedAt) > h.cfg.WebhookReceiptTTL:
		// Forgotten: free the id so that this delivery can be stored.
		if _, err := q.WebhookReceiptDeleteBefore(ctx, h.cfg.Now().Add(-h.cfg.WebhookReceiptTTL)); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return receipt, nil
}

// maybeSweepReceipts deletes expired receipts at most once per
// receiptSweepInterval, after the answer was flushed.
func (h *Handler) maybeSweepReceipts(ctx context.Context, w http.ResponseWriter) {
	now := h.cfg.Now()
	h.sweepMu.Lock()
	due := now.Sub(h.lastReceiptSweep) >= receiptSweepInterval
	if due {
		h.lastReceiptSweep = now
	}
	h.sweepMu.Unlock()
	if !due {
		return
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	n, err := h.store.WebhookReceiptDeleteBefore(ctx, now.Add(-h.cfg.WebhookReceiptTTL))
	if err != nil {
		h.log.WarnContext(ctx, "pingpull: delete expired webhook receipts failed", "error", err)
		return
	}
	h.log.DebugContext(ctx, "pingpull: deleted expired webhook receipts", "count", n)
}

func isJSONContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")))
}

func signatureMessage(err error) string {
	switch err {
	case errSignatureMissing:
		return "webhook-id, webhook-timestamp and webhook-signature headers are required"
	case errTimestampMalforme:
		return "webhook-timestamp must be Unix seconds"
	case errTimestampTooOld:
		return "webhook-timestamp is too old"
	case errTimestampTooNew:
		return "webhook-timestamp is too far in the future"
	default:
		return "no webhook-signature matches"
	}
}

func byteSize(n int64) string {
	if n%1024 == 0 {
		return strconv.FormatInt(n/1024, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
