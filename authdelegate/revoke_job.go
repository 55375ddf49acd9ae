package authdelegate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/ssogate/ssogate/store"
)

// RevokeQueue is the River queue of provider revocations.
const RevokeQueue = "authdelegate"

const revokeKind = "authdelegate_revoke"

// RevokeArgs are the arguments of a revocation job: the refresh token of an
// ended session, still sealed with the session key (bound to the session
// id), so the job table never holds it in the clear.
type RevokeArgs struct {
	SessionID       string `json:"session_id"`
	RefreshTokenEnc []byte `json:"refresh_token_enc"`
}

// Kind is the River job kind.
func (RevokeArgs) Kind() string { return revokeKind }

// AddWorkers registers the revocation worker on workers. Call it when the
// store's jobs run (cmd does); without it revocations queue and wait.
func (h *Handler) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, &revokeWorker{h: h})
}

// Queues returns the queue configuration the revocation worker needs, to
// merge into store.JobsConfig.Queues.
func (h *Handler) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{RevokeQueue: {MaxWorkers: 10}}
}

// enqueueRevocations queues a revocation for every ended session that holds
// a refresh token, in the transaction that ended them: a crash cannot end
// the session and lose the revocation. When the provider is known to have
// no revocation_endpoint nothing is queued; when it was not discovered yet
// the job finds out.
func (h *Handler) enqueueRevocations(ctx context.Context, tx store.Tx, ended []*store.Session) error {
	if p := h.cachedProvider(); p != nil && p.revocation == "" {
		return nil
	}
	for _, s := range ended {
		if len(s.RefreshTokenEnc) == 0 {
			continue
		}
		opts := &river.InsertOpts{Queue: RevokeQueue, MaxAttempts: h.cfg.RevokeMaxAttempts}
		if _, err := tx.JobInsert(ctx, RevokeArgs{SessionID: s.ID, RefreshTokenEnc: s.RefreshTokenEnc}, opts); err != nil {
			return fmt.Errorf("authdelegate: enqueue revocation: %w", err)
		}
	}
	return nil
}

type revokeWorker struct {
	river.WorkerDefaults[RevokeArgs]
	h *Handler
}

// Timeout bounds one attempt.
func (w *revokeWorker) Timeout(*river.Job[RevokeArgs]) time.Duration { return 30 * time.Second }

// NextRetry: RevokeRetryDelay times the attempt, at most an hour apart.
func (w *revokeWorker) NextRetry(job *river.Job[RevokeArgs]) time.Time {
	return time.Now().Add(min(time.Duration(job.Attempt)*w.h.cfg.RevokeRetryDelay, time.Hour))
}

// Work revokes the refresh token at the provider (RFC 7009).
func (w *revokeWorker) Work(ctx context.Context, job *river.Job[RevokeArgs]) error {
	h := w.h
	log := h.log.With(slog.Int64("job_id", job.ID), slog.Int("attempt", job.Attempt))
	rt, err := h.sealer.open(job.Args.RefreshTokenEnc, []byte(job.Args.SessionID))
	if err != nil {
		h.metrics.revocations.WithLabelValues("undecryptable").Inc()
		log.ErrorContext(ctx, "authdelegate: revocation given up: the refresh token does not decrypt with any session key")
		return river.JobCancel(err)
	}
	p, err := h.provider(ctx)
	if err != nil {
		h.metrics.revocations.WithLabelValues("retry").Inc()
		log.WarnContext(ctx, "authdelegate: revocation: provider unavailable; will retry", slog.String("error", err.Error()))
		return err
	}
	if p.revocation == "" {
		h.metrics.revocations.WithLabelValues("unsupported").Inc()
		return nil
	}
	status, code, err := h.revoke(ctx, p, string(rt))
	switch {
	case err == nil && status == http.StatusOK:
		h.metrics.revocations.WithLabelValues("ok").Inc()
		log.InfoContext(ctx, "authdelegate: refresh token revoked at the provider")
		return nil
	case err == nil && status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout:
		// invalid_client, unsupported_token_type: retrying cannot help.
		h.metrics.revocations.WithLabelValues("refused").Inc()
		log.ErrorContext(ctx, "authdelegate: revocation refused by the provider; the refresh token lives until it expires there",
			slog.Int("status", status), slog.String("error_code", code))
		return river.JobCancel(fmt.Errorf("authdelegate: revocation: status %d %s", status, code))
	default:
		if err == nil {
			err = fmt.Errorf("authdelegate: revocation: status %d %s", status, code)
		}
		h.metrics.revocations.WithLabelValues("retry").Inc()
		log.WarnContext(ctx, "authdelegate: revocation failed; will retry", slog.String("error", err.Error()))
		return err
	}
}

// revoke posts token to the revocation endpoint with the client's
// credentials (client_secret_basic, or client_id alone for a public client)
// and returns the status and the OAuth error code, never the body.
func (h *Handler) revoke(ctx context.Context, p *provider, token string) (int, string, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	if h.cfg.ClientSecret == "" {
		form.Set("client_id", h.cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.revocation, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", fmt.Errorf("authdelegate: revocation request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if h.cfg.ClientSecret != "" {
		// RFC 6749 §2.3.1: form-encode both before Basic.
		req.SetBasicAuth(url.QueryEscape(h.cfg.ClientID), url.QueryEscape(h.cfg.ClientSecret))
	}
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("authdelegate: revocation request: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&body)
	if len(body.Error) > 64 {
		body.Error = body.Error[:64]
	}
	return resp.StatusCode, body.Error, nil
}
