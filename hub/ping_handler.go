package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

var errNoPullURL = httpbase.Errorf(http.StatusConflict, "no_pull_url",
	"no pull URL is registered for this network: register one with POST / first, or the ping would do nothing")

// pingResponse is the ping's 200 body. No Livefyre library reads it.
type pingResponse struct {
	Status string   `json:"status"`
	Code   int      `json:"code"`
	Data   pingData `json:"data"`
}

type pingData struct {
	ID     string `json:"id"`
	Queued bool   `json:"queued"`
}

// handlePing is Livefyre's syncUser (spec §3.3): POST
// /api/v3_0/user/{id}/refresh with a system lftoken in the query or the
// body. It counts the ping and queues a pull in one transaction.
func (h *Handler) handlePing(w http.ResponseWriter, r *http.Request) {
	result, err := h.ping(w, r)
	h.metrics.pings.WithLabelValues(result).Inc()
	if err != nil {
		h.errs.Write(w, r, err)
	}
}

// systemUserRequest reads what the ping and the logout share: a system
// lftoken (query or form body) for one of the hub's networks, and the user
// id in the path, which must be a valid, unreserved id. On failure it
// returns the metric result and the error to answer.
func (h *Handler) systemUserRequest(w http.ResponseWriter, r *http.Request) (*network, string, string, error) {
	p, err := readParams(w, r)
	if err != nil {
		return nil, "", "bad_request", err
	}
	token := p.get(livefyre.FieldLFToken)
	if token == "" && p.bodyErr != nil {
		return nil, "", "bad_request", httpbase.Errorf(http.StatusBadRequest, "malformed_body", "the request body could not be read as a form: %v", p.bodyErr)
	}
	n, err := h.verifySystem(r, token)
	if err != nil {
		return nil, "", "forbidden", err
	}
	userID := httpbase.PathValue(r, "id")
	if !tokens.ValidUserID(userID) {
		return nil, "", "bad_request", httpbase.Errorf(http.StatusBadRequest, "invalid_user_id", "the user id must match ^[a-zA-Z0-9_.-]+$")
	}
	if tokens.IsReservedUserID(userID) {
		return nil, "", "bad_request", errReservedUserID
	}
	return n, userID, "", nil
}

func (h *Handler) ping(w http.ResponseWriter, r *http.Request) (string, error) {
	n, userID, result, err := h.systemUserRequest(w, r)
	if err != nil {
		return result, err
	}
	if err := h.queuePull(r.Context(), n.name, userID, ""); err != nil {
		if errors.Is(err, errNoPullURL) {
			return "no_pull_url", err
		}
		return "error", err
	}
	httpbase.WriteJSON(w, http.StatusOK, pingResponse{
		Status: "ok", Code: http.StatusOK,
		Data: pingData{ID: userID + "@" + n.name, Queued: true},
	})
	return "ok", nil
}

// pingTxBatch bounds the pings committed in one transaction.
const pingTxBatch = 64

// pingReq is one ping in the pings' group commit (h.pingTx): what
// queuePull was given, and the pull runPings queued for it.
type pingReq struct {
	network, userID, displayName string
	template                     string // the network's pull URL, read before

	// item is set by runPings, again on every run (a batch rolled back
	// runs its requests again, each alone).
	item pullItem
}

// queuePull records a pull trigger for the user (creating the remote
// profile as pending when new, seeded with displayName) and leases the pull
// to this process, in one transaction; after the commit the pull is
// offered to the fast path (pull_drain.go). The counter is bumped before
// the pull is made, so that a pull already running sees it moved and is
// followed by another. errNoPullURL when the network registered no pull
// URL (read before the transaction; nothing is written then). The
// transaction is shared with the pings arriving at the same time (h.pingTx:
// group commit, runPings).
func (h *Handler) queuePull(ctx context.Context, networkName, userID, displayName string) error {
	reg, err := h.pullURLs.get(ctx, h.store, networkName)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNoPullURL
		}
		return fmt.Errorf("hub: read pull URL: %w", err)
	}
	req := &pingReq{network: networkName, userID: userID, displayName: displayName, template: reg.Template}
	if err := h.pingTx.Do(ctx, networkName+"\x00"+userID, req); err != nil {
		return err
	}
	if !h.pulls.Offer(req.item) {
		h.metrics.pings.WithLabelValues("deferred").Inc()
	}
	return nil
}

// runPings records a batch of pings (in network and user id order) with
// one statement, store.RemoteProfilePingMany, which locks their rows in
// that order: the batch holds its row locks for one round trip whatever
// its size, where a statement per ping held them for one per ping. Each
// ping gets its own PingSeq, one user's pings in arrival order.
func (h *Handler) runPings(ctx context.Context, tx store.Tx, reqs []*pingReq) error {
	now := h.cfg.Now()
	pings := make([]store.RemoteProfileTouchParams, len(reqs))
	for i, r := range reqs {
		r.item = pullItem{}
		pings[i] = store.RemoteProfileTouchParams{
			Network: r.network, UserID: r.userID, DisplayName: r.displayName, At: now,
			PullLeaseUntil: now.Add(h.cfg.PullLease),
		}
	}
	seqs, err := tx.RemoteProfilePingMany(ctx, pings)
	if err != nil {
		return fmt.Errorf("hub: touch remote profiles: %w", err)
	}
	for i, r := range reqs {
		r.item = pullItem{Network: r.network, UserID: r.userID, Seq: seqs[i], Template: r.template}
	}
	return nil
}
