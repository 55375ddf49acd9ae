package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/tokens"
)

// ChannelRemoteProfileUpdated is the notification channel on which the pull
// job announces a remote profile whose data a pull changed. The payload is
// the JSON of UpdateEvent, sent with Tx.Notify in the transaction that
// records the pull.
const ChannelRemoteProfileUpdated = "remote_profile_updated"

// Update stream timing.
const (
	// updatesKeepAlive is how often an idle update stream gets a comment,
	// so proxies and browsers keep it open.
	updatesKeepAlive = 15 * time.Second
	// updatesWriteTimeout bounds one write to an update stream, so a client
	// that stopped reading cannot hold a goroutine forever.
	updatesWriteTimeout = 30 * time.Second
	// maxUpdatePayload is the notification payload limit (store.Notifier)
	// minus headroom.
	maxUpdatePayload = 7800
)

// UpdateEvent is a remote profile changed by a pull: the payload of
// ChannelRemoteProfileUpdated and the data of a "profile" event on
// GET /api/networks/{network}/updates.
type UpdateEvent struct {
	Network     string `json:"network"`
	UserID      string `json:"user_id"`
	DisplayName string `json:"display_name"`
	// Avatar is the profile's image_url; empty when it has none or when it
	// is too long for a notification (read the profile then).
	Avatar string `json:"avatar"`
	// PulledAt is when the pull was recorded (RFC 3339 with nanoseconds).
	PulledAt time.Time `json:"pulled_at"`
	// PingReceivedAt is when the oldest ping this pull answered arrived;
	// absent when the pull had no pending ping (a token for a user never
	// seen, a replay).
	PingReceivedAt *time.Time `json:"ping_received_at,omitempty"`
}

// updatePayload encodes ev for the notification channel, dropping the
// avatar when the payload would be over the channel's limit.
func updatePayload(ev UpdateEvent) ([]byte, error) {
	ev.PulledAt = ev.PulledAt.UTC()
	if ev.PingReceivedAt != nil {
		t := ev.PingReceivedAt.UTC()
		ev.PingReceivedAt = &t
	}
	b, err := json.Marshal(ev)
	if err == nil && len(b) > maxUpdatePayload {
		ev.Avatar = ""
		b, err = json.Marshal(ev)
	}
	if err != nil {
		return nil, fmt.Errorf("hub: encode update event: %w", err)
	}
	return b, nil
}

// notifyUpdate queues the update event of a pull that changed the profile
// in tx; it is sent when tx commits.
func notifyUpdate(ctx context.Context, tx store.Tx, ev UpdateEvent) error {
	payload, err := updatePayload(ev)
	if err != nil {
		return err
	}
	if err := tx.Notify(ctx, ChannelRemoteProfileUpdated, payload); err != nil {
		return fmt.Errorf("hub: notify update: %w", err)
	}
	return nil
}

// handleUpdates serves GET /api/networks/{network}/updates[?user=ID]: a
// server-sent event stream of the network's remote profiles changed by
// pulls, as they commit.
//
//	event: profile   data: UpdateEvent JSON
//	event: lagged    data: {}   events were dropped; re-read what you show
//
// A comment line is sent every 15 s while idle. Delivery is best effort
// (store.Notifier): a client that must not miss a change re-reads the
// profiles it shows on "lagged" and after reconnecting. CORS for app
// origins, like the comment API. One client address holds at most
// Config.UpdateStreamsPerClient streams; more are answered 429
// too_many_streams.
func (h *Handler) handleUpdates(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		h.cors.Preflight(w, r)
		return
	}
	h.cors.Apply(w, r)
	network := httpbase.PathValue(r, "network")
	if h.networks[network] == nil {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusNotFound, "unknown_network", "no network %q on this hub", network))
		return
	}
	user := r.URL.Query().Get("user")
	if user != "" && !tokens.ValidUserID(user) {
		h.errs.Write(w, r, httpbase.Errorf(http.StatusBadRequest, "invalid_user_id", "user must match [a-zA-Z0-9_.-]+"))
		return
	}
	if limit := h.cfg.UpdateStreamsPerClient; limit > 0 {
		release, ok := h.streams.acquire(clientAddr(r), limit)
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(streamRetryAfter/time.Second)))
			h.errs.Write(w, r, httpbase.Errorf(http.StatusTooManyRequests, "too_many_streams",
				"this client has %d update streams open already: close one first", limit))
			return
		}
		defer release()
	}
	h.serveUpdates(w, r, network, user, updatesKeepAlive)
}

// streamRetryAfter is the Retry-After of a stream refused by the cap.
const streamRetryAfter = 10 * time.Second

// streamCounter counts the open update streams of each client address.
type streamCounter struct {
	mu   sync.Mutex
	open map[string]int
}

// acquire takes one of client's limit streams; release gives it back.
func (c *streamCounter) acquire(client string, limit int) (release func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[client] >= limit {
		return nil, false
	}
	c.open[client]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.open[client]--; c.open[client] <= 0 {
				delete(c.open, client)
			}
		})
	}, true
}

// clientAddr is the client's IP address (the connection's peer: the hub
// trusts no forwarding header).
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// serveUpdates streams the updates of network (and user, when not empty)
// until the client leaves, the server drains or the store closes.
func (h *Handler) serveUpdates(w http.ResponseWriter, r *http.Request, network, user string, keepAlive time.Duration) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Subscribe before answering, so that every update committed after the
	// client got the response headers and the first comment is delivered.
	sub, err := h.store.Listen(ctx, ChannelRemoteProfileUpdated)
	if err != nil {
		h.errs.Write(w, r, fmt.Errorf("hub: listen for updates: %w", err))
		return
	}
	defer func() { _ = sub.Close() }()

	stream, ok := httpbase.StartEventStream(w, updatesWriteTimeout, 2*time.Second, "ssogate hub updates")
	if !ok {
		return
	}
	write := stream.Write
	ticker := time.NewTicker(keepAlive)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-httpbase.Draining(r.Context()):
			return
		case payload, ok := <-sub.C():
			if !ok {
				return
			}
			var ev struct {
				Network string `json:"network"`
				UserID  string `json:"user_id"`
			}
			if json.Unmarshal(payload, &ev) != nil || ev.Network != network || (user != "" && ev.UserID != user) {
				continue
			}
			if !write("event: profile\ndata: " + string(payload) + "\n\n") {
				return
			}
		case <-sub.Lagged():
			if !write("event: lagged\ndata: {}\n\n") {
				return
			}
		case <-ticker.C:
			if !write(": keep-alive\n\n") {
				return
			}
		}
	}
}
