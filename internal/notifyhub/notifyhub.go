// Package notifyhub fans notification payloads out to in-process
// subscribers. The SQLite backend uses it as its whole notification channel;
// a PostgreSQL backend can use it to hand payloads that arrive by LISTEN to
// the local listeners, signalling Lagged after a reconnect.
//
// Senders never block: a subscriber whose buffer is full loses the payload
// and is told through Lagged, as the store.Subscription contract allows.
package notifyhub

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/ssogate/ssogate/store"
)

// MaxPayload is the largest payload accepted, in bytes (store.Notifier).
const MaxPayload = 7900

// channelName is the pattern channel names must match (store.Notifier).
var channelName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ErrBadChannel is returned for a channel name outside ^[a-z][a-z0-9_]{0,62}$.
var ErrBadChannel = errors.New("notifyhub: bad channel name")

// ErrPayloadTooLarge is returned for a payload over MaxPayload bytes.
var ErrPayloadTooLarge = errors.New("notifyhub: payload too large")

// Check reports whether channel and payload may be sent; backends call it
// before queuing a notification in a transaction so the error surfaces at
// the call rather than at commit.
func Check(channel string, payload []byte) error {
	if err := CheckChannel(channel); err != nil {
		return err
	}
	if len(payload) > MaxPayload {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrPayloadTooLarge, len(payload), MaxPayload)
	}
	return nil
}

// CheckChannel reports whether channel is a valid channel name.
func CheckChannel(channel string) error {
	if !channelName.MatchString(channel) {
		return fmt.Errorf("%w: %q", ErrBadChannel, channel)
	}
	return nil
}

// Config configures a Hub.
type Config struct {
	// Buffer is the number of payloads each subscription holds before it
	// drops and signals Lagged. Default 1024.
	Buffer int
}

// WithDefaults returns cfg with zero fields set to their defaults.
func (cfg Config) WithDefaults() Config {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 1024
	}
	return cfg
}

// Hub is a set of channels with their subscribers. The zero value is not
// usable; call New. All methods are safe for concurrent use.
type Hub struct {
	buffer int

	mu     sync.RWMutex
	closed bool
	subs   map[string]map[*Subscription]struct{}
}

// New returns an empty hub.
func New(cfg Config) *Hub {
	cfg = cfg.WithDefaults()
	return &Hub{buffer: cfg.Buffer, subs: map[string]map[*Subscription]struct{}{}}
}

// Listen subscribes to channel until ctx ends or the subscription is closed.
func (h *Hub) Listen(ctx context.Context, channel string) (*Subscription, error) {
	if err := CheckChannel(channel); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("notifyhub: listen: %w", err)
	}
	sub := &Subscription{
		hub:     h,
		channel: channel,
		c:       make(chan []byte, h.buffer),
		lagged:  make(chan struct{}, 1),
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, store.ErrClosed
	}
	if h.subs[channel] == nil {
		h.subs[channel] = map[*Subscription]struct{}{}
	}
	h.subs[channel][sub] = struct{}{}
	h.mu.Unlock()
	// The callback may run at once (ctx already done) and read stopWatch
	// in Close: guard the field.
	sub.stopMu.Lock()
	sub.stopWatch = context.AfterFunc(ctx, func() { _ = sub.Close() })
	sub.stopMu.Unlock()
	return sub, nil
}

// Notify sends a copy of payload to every current subscriber of channel.
// Payloads from one caller arrive in the order they were sent.
func (h *Hub) Notify(channel string, payload []byte) error {
	if err := Check(channel, payload); err != nil {
		return err
	}
	payload = append([]byte(nil), payload...)
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return store.ErrClosed
	}
	for sub := range h.subs[channel] {
		select {
		case sub.c <- payload:
		default:
			sub.signalLagged()
		}
	}
	return nil
}

// SignalLagged tells every subscriber that payloads may have been lost (for
// example after a database connection was re-established).
func (h *Hub) SignalLagged() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, subs := range h.subs {
		for sub := range subs {
			sub.signalLagged()
		}
	}
}

// Channels returns the channels that have at least one subscriber.
func (h *Hub) Channels() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	channels := make([]string, 0, len(h.subs))
	for channel := range h.subs {
		channels = append(channels, channel)
	}
	return channels
}

// Close ends every subscription and refuses new ones and new payloads with
// store.ErrClosed. Safe to call more than once.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	var all []*Subscription
	for _, subs := range h.subs {
		for sub := range subs {
			all = append(all, sub)
		}
	}
	h.mu.Unlock()
	for _, sub := range all {
		_ = sub.Close()
	}
}

// Subscription is one listener; it implements store.Subscription.
type Subscription struct {
	hub       *Hub
	channel   string
	c         chan []byte
	lagged    chan struct{}
	stopMu    sync.Mutex
	stopWatch func() bool
	closeOnce sync.Once
}

var _ store.Subscription = (*Subscription)(nil)

// C delivers payloads; it is closed when the subscription ends.
func (s *Subscription) C() <-chan []byte { return s.c }

// Lagged is signalled when payloads were dropped.
func (s *Subscription) Lagged() <-chan struct{} { return s.lagged }

// Close ends the subscription; safe to call more than once.
func (s *Subscription) Close() error {
	s.closeOnce.Do(func() {
		s.stopMu.Lock()
		stop := s.stopWatch
		s.stopMu.Unlock()
		if stop != nil {
			stop()
		}
		h := s.hub
		h.mu.Lock()
		if subs := h.subs[s.channel]; subs != nil {
			delete(subs, s)
			if len(subs) == 0 {
				delete(h.subs, s.channel)
			}
		}
		// Closing under the write lock: no Notify holds the read lock, so
		// none can send on the closed channel.
		close(s.c)
		h.mu.Unlock()
	})
	return nil
}

func (s *Subscription) signalLagged() {
	select {
	case s.lagged <- struct{}{}:
	default:
	}
}
