package pingpull

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
)

// webhookItem is one webhook in the intake's group commit (h.webhookTx):
// what applyWebhook was given, and what runWebhooks decided for it.
type webhookItem struct {
	id       string
	payload  *webhookBody
	resolved json.RawMessage // the canonical profile, nil for a patch

	// Set by runWebhooks, again on every run (a batch rolled back runs its
	// requests again, each alone).
	answer   *WebhookAnswer
	replayed *store.WebhookReceipt
	err      error // this webhook's own refusal; nothing of it was written
}

// maxConflictAttempts bounds applyWebhook's new transactions after
// store.ErrConflict without a receipt to replay: a profile created (or a
// receipt's id stored) by a transaction the batch's locks could not see.
const maxConflictAttempts = 3

// runWebhooks applies a batch of webhooks in tx, set at once: one read of
// the receipts, one of the profiles (locked in user id order), every
// change decided in Go in the batch's order (store.ProfileDecide, a patch
// on the profile as the batch's earlier webhooks left it), then one write
// of the profiles and one of the receipts, timeline events and ping outbox
// entries. The locks are held for four statements whatever the batch's
// size, where one statement per webhook would hold them for three round
// trips per webhook. A webhook whose patch does not apply is refused
// alone (req.err) and writes nothing.
func (h *Handler) runWebhooks(ctx context.Context, tx store.Tx, reqs []*webhookItem) error {
	now := h.cfg.Now()
	var ids []string
	users := make([]string, 0, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		r.answer, r.replayed, r.err = nil, nil, nil
		if !r.payload.fromSource() {
			// A webhook fetched from the profile source had its receipt
			// checked before the fetch.
			ids = append(ids, r.id)
		}
		if !seen[r.payload.UserID] {
			seen[r.payload.UserID] = true
			users = append(users, r.payload.UserID)
		}
	}
	receipts, err := tx.WebhookReceiptGetMany(ctx, ids)
	if err != nil {
		return err
	}
	expired := false
	for id, rc := range receipts {
		if now.Sub(rc.CreatedAt) > h.cfg.WebhookReceiptTTL {
			// Forgotten: free the id so that this delivery can be stored.
			delete(receipts, id)
			expired = true
		}
	}
	if expired {
		if _, err := tx.WebhookReceiptDeleteBefore(ctx, now.Add(-h.cfg.WebhookReceiptTTL)); err != nil {
			return err
		}
	}
	locked, err := tx.ProfileLockMany(ctx, users)
	if err != nil {
		return err
	}
	cur := maps.Clone(locked) // as the batch's earlier webhooks leave them
	var writes []store.ProfileWrite
	written := map[string]int{} // user → index in writes
	accepts := make([]store.WebhookAcceptParams, 0, len(reqs))
	for _, r := range reqs {
		userID := r.payload.UserID
		if rc := receipts[r.id]; rc != nil {
			r.replayed = rc
			continue
		}
		data := r.resolved
		if r.payload.Patch != nil {
			stored := json.RawMessage(`{}`)
			if p := cur[userID]; p != nil {
				stored = p.Data
			}
			if data, err = patchProfile(userID, stored, r.payload.Patch); err != nil {
				r.err = err
				continue
			}
		}
		next, status, write := store.ProfileDecide(cur[userID], store.ProfileUpsertParams{
			UserID: userID, Data: data, UpdatedAt: r.payload.UpdatedAt, Now: now})
		if write {
			cur[userID] = next
			if i, ok := written[userID]; ok {
				writes[i].Next = next
			} else {
				written[userID] = len(writes)
				writes = append(writes, store.ProfileWrite{Prev: locked[userID], Next: next})
			}
		}
		accept, err := h.webhookAccept(r, next.Version, status, now)
		if err != nil {
			return err
		}
		accepts = append(accepts, accept)
		// A second delivery of this id in the same batch replays this one.
		receipts[r.id] = accept.Receipt
	}
	if err := tx.ProfileWriteMany(ctx, writes); err != nil {
		return err
	}
	return tx.WebhookAcceptMany(ctx, accepts)
}

// webhookAccept sets r.answer for a webhook decided as status at version
// and returns the writes that accept it: the receipt (the answer a replay
// gets), the timeline event and, when the version moved, the ping outbox
// entry, leased to this process, which delivers it right after the commit
// (ping_drain.go); "profile changed" goes out with the ping's outcome.
func (h *Handler) webhookAccept(r *webhookItem, version int64, status store.ProfileUpsertStatus, now time.Time) (store.WebhookAcceptParams, error) {
	userID, updatedAt := r.payload.UserID, r.payload.UpdatedAt
	answer := &WebhookAnswer{UserID: userID, Version: version}
	var ping *store.PingOutboxPutParams
	switch status {
	case store.ProfileCreated, store.ProfileUpdated:
		answer.Status = StatusQueued
		ping = h.pingEntry(userID, version)
	case store.ProfileUnchanged:
		answer.Status = StatusUnchanged
	default:
		answer.Status = StatusStale
	}
	detail := map[string]any{"webhook_id": r.id, "status": answer.Status, "version": answer.Version}
	if !updatedAt.IsZero() {
		detail["updated_at"] = updatedAt.UTC().Format(time.RFC3339Nano)
	}
	body, err := json.Marshal(answer)
	if err != nil {
		return store.WebhookAcceptParams{}, err
	}
	r.answer = answer
	return store.WebhookAcceptParams{
		Receipt:  &store.WebhookReceipt{ID: r.id, StatusCode: http.StatusAccepted, Body: append(body, '\n'), CreatedAt: now},
		Timeline: timelineEvent(userID, "webhook.accepted", detail, now),
		Ping:     ping,
	}, nil
}

// applyWebhook stores the profile, and in the same transaction (shared
// with the webhooks arriving meanwhile: runWebhooks) the receipt, the
// timeline entry and the ping outbox entry when the version moved. When
// another delivery of the same webhook-id committed first, it returns that
// receipt instead.
func (h *Handler) applyWebhook(ctx context.Context, webhookID string, payload *webhookBody, resolved json.RawMessage) (*WebhookAnswer, *store.WebhookReceipt, error) {
	r := &webhookItem{id: webhookID, payload: payload, resolved: resolved}
	var err error
	for range maxConflictAttempts {
		err = h.webhookTx.Do(ctx, payload.UserID, r)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
		// A concurrent delivery of the same webhook-id committed first, or
		// the profile was created by a transaction the locks could not
		// see: replay the former, run the latter again.
		receipt, gerr := h.store.WebhookReceiptGet(ctx, webhookID)
		if gerr == nil {
			return nil, receipt, nil
		}
		if !errors.Is(gerr, store.ErrNotFound) {
			return nil, nil, errors.Join(err, gerr)
		}
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, nil, &httpbase.Error{Status: http.StatusServiceUnavailable, Code: "retry",
			Message: "the profile changed concurrently; try again", RetryAfter: time.Second, Err: err}
	case err != nil:
		return nil, nil, err
	case r.err != nil:
		return nil, nil, r.err
	case r.replayed != nil:
		return nil, r.replayed, nil
	}
	if r.answer.Status == StatusQueued {
		h.offerPing(payload.UserID, r.answer.Version)
	}
	return r.answer, nil, nil
}
