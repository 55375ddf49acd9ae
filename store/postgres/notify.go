package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ssogate/ssogate/store"
)

const (
	// maxPayload is the contract's limit (PostgreSQL's is 8000 bytes).
	maxPayload = 7900
	// subscriptionBuffer is how many payloads a subscriber may fall behind
	// before it is told it lagged.
	subscriptionBuffer = 256
	// maxIdentifier is PostgreSQL's identifier length (NAMEDATALEN-1).
	maxIdentifier = 63
	// Reconnect backoff of the listener connection. The cap bounds how
	// long live events stay silent after the database is back (one attempt
	// a second during an outage is one TCP connect per store).
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

var channelRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// validateChannel checks a channel name against the contract. Names
// starting with "river_" are reserved: River uses them on the same
// database.
func validateChannel(channel string) error {
	if !channelRE.MatchString(channel) {
		return fmt.Errorf("postgres: invalid channel name %q: must match %s", channel, channelRE)
	}
	if strings.HasPrefix(channel, "river_") {
		return fmt.Errorf("postgres: invalid channel name %q: the river_ prefix is reserved for River", channel)
	}
	return nil
}

// wireChannel is the PostgreSQL channel for channel: "<schema>.<channel>"
// when a schema is set (so schemas of one database stay apart), shortened
// with a hash when that exceeds 63 bytes. Every store on the same schema
// computes the same name.
func (s *Store) wireChannel(channel string) string {
	if s.cfg.Schema == "" {
		return channel
	}
	name := s.cfg.Schema + "." + channel
	if len(name) <= maxIdentifier {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "." + hex.EncodeToString(sum[:8])
	return name[:maxIdentifier-len(suffix)] + suffix
}

// execer is what notify needs from a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// checkNotify validates one notification.
func (s *Store) checkNotify(channel string, payload []byte) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := validateChannel(channel); err != nil {
		return err
	}
	if len(payload) > maxPayload {
		return fmt.Errorf("postgres: notify: payload of %d bytes exceeds %d", len(payload), maxPayload)
	}
	if !utf8.Valid(payload) || bytes.IndexByte(payload, 0) >= 0 {
		return errors.New("postgres: notify: payload must be UTF-8 text without NUL bytes")
	}
	return nil
}

// notify validates and sends one notification through db.
func (s *Store) notify(ctx context.Context, db execer, channel string, payload []byte) error {
	if err := s.checkNotify(channel, payload); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `SELECT pg_notify($1, $2)`, s.wireChannel(channel), string(payload)); err != nil {
		return wrap("notify", err)
	}
	return nil
}

// notifyMany sends the notifications a transaction buffered, in order, in
// one statement (one round trip however many a batch of changes sends).
func notifyMany(ctx context.Context, db execer, channels, payloads []string) error {
	if len(channels) == 0 {
		return nil
	}
	_, err := db.Exec(ctx,
		`SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS n(c, p, i) ORDER BY i`,
		channels, payloads)
	if err != nil {
		return wrap("notify", err)
	}
	return nil
}

// Notify sends payload to every listener of channel on every store
// connected to this database and schema.
func (s *Store) Notify(ctx context.Context, channel string, payload []byte) error {
	return s.notify(ctx, s.pool, channel, payload)
}

// Listen subscribes to channel. It returns once the listener connection is
// LISTENing on it, so a notification committed after Listen returns is
// delivered.
func (s *Store) Listen(ctx context.Context, channel string) (store.Subscription, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if err := validateChannel(channel); err != nil {
		return nil, err
	}
	return s.listener.subscribe(ctx, s.wireChannel(channel))
}

// listener owns the store's LISTEN connection. Its goroutine (started by the
// first Listen) is the only user of the connection: it LISTENs/UNLISTENs to
// match the channels that have subscribers, waits for notifications and
// fans them out. Subscribers wake it by cancelling its wait.
type listener struct {
	connConfig *pgx.ConnConfig
	logger     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{}

	mu         sync.Mutex
	started    bool
	closed     bool
	subs       map[string]map[*subscription]struct{}
	pending    []chan error // Listen calls waiting for their LISTEN
	dirty      bool         // subs changed since the last sync
	cancelWait context.CancelFunc
	pid        uint32 // backend pid of the current connection (tests)
}

func newListener(s *Store, connConfig *pgx.ConnConfig) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	return &listener{
		connConfig: connConfig.Copy(),
		logger:     s.logger,
		ctx:        ctx,
		cancel:     cancel,
		done:       make(chan struct{}),
		wake:       make(chan struct{}, 1),
		subs:       map[string]map[*subscription]struct{}{},
	}
}

// subscribe adds a subscription on wire channel name and waits until the
// connection listens on it.
func (l *listener) subscribe(ctx context.Context, name string) (*subscription, error) {
	sub := &subscription{
		l:      l,
		name:   name,
		c:      make(chan []byte, subscriptionBuffer),
		lagged: make(chan struct{}, 1),
	}
	ready := make(chan error, 1)

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, store.ErrClosed
	}
	if l.subs[name] == nil {
		l.subs[name] = map[*subscription]struct{}{}
	}
	l.subs[name][sub] = struct{}{}
	l.pending = append(l.pending, ready)
	l.markDirtyLocked()
	if !l.started {
		l.started = true
		go l.run()
	}
	l.mu.Unlock()

	select {
	case err := <-ready:
		if err != nil {
			_ = sub.Close()
			return nil, fmt.Errorf("postgres: listen: %w", err)
		}
	case <-ctx.Done():
		_ = sub.Close()
		return nil, fmt.Errorf("postgres: listen: %w", ctx.Err())
	case <-l.done:
		_ = sub.Close()
		return nil, store.ErrClosed
	}
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	l.mu.Lock()
	if sub.closed {
		stop()
	} else {
		sub.stopAfter = stop
	}
	l.mu.Unlock()
	return sub, nil
}

// markDirtyLocked tells the goroutine to resync its LISTENs.
func (l *listener) markDirtyLocked() {
	l.dirty = true
	if l.cancelWait != nil {
		l.cancelWait()
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run connects, serves and reconnects with backoff until close.
func (l *listener) run() {
	defer close(l.done)
	backoff := minBackoff
	lost := false
	for {
		// Hold no connection (and retry nothing) while nobody listens.
		if !l.hasWork() {
			select {
			case <-l.wake:
				continue
			case <-l.ctx.Done():
				return
			}
		}
		conn, err := pgx.ConnectConfig(l.ctx, l.connConfig)
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			l.logger.WarnContext(l.ctx, "postgres: listener connect failed", slog.String("error", err.Error()))
			l.failPending(err)
		} else {
			backoff = minBackoff
			err = l.serve(conn, lost)
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
			if l.ctx.Err() != nil {
				return
			}
			lost = true
			l.logger.WarnContext(l.ctx, "postgres: listener connection lost; reconnecting", slog.String("error", err.Error()))
		}
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// hasWork reports whether any subscription exists or waits.
func (l *listener) hasWork() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs) > 0 || len(l.pending) > 0
}

// failPending answers waiting Listen calls with err.
func (l *listener) failPending(err error) {
	l.mu.Lock()
	pending := l.pending
	l.pending = nil
	l.mu.Unlock()
	for _, p := range pending {
		p <- err
	}
}

// serve keeps conn's LISTENs in sync with the subscribers and fans out
// notifications until the connection fails or the listener closes. When
// lagged is set (this connection replaces a lost one) every subscriber is
// told so once the LISTENs are back.
func (l *listener) serve(conn *pgx.Conn, lagged bool) error {
	l.mu.Lock()
	l.pid = conn.PgConn().PID()
	l.mu.Unlock()
	listening := map[string]bool{}
	for {
		l.mu.Lock()
		l.dirty = false
		want := make(map[string]bool, len(l.subs))
		for name := range l.subs {
			want[name] = true
		}
		pending := l.pending
		l.pending = nil
		l.mu.Unlock()

		if err := l.sync(conn, listening, want); err != nil {
			l.mu.Lock()
			l.pending = append(l.pending, pending...)
			l.mu.Unlock()
			return err
		}
		if lagged {
			lagged = false
			l.signalAllLagged()
		}
		for _, p := range pending {
			p <- nil
		}

		l.mu.Lock()
		if l.dirty {
			l.mu.Unlock()
			continue
		}
		waitCtx, cancel := context.WithCancel(l.ctx)
		l.cancelWait = cancel
		l.mu.Unlock()

		n, err := conn.WaitForNotification(waitCtx)

		l.mu.Lock()
		l.cancelWait = nil
		l.mu.Unlock()
		woken := waitCtx.Err() != nil
		cancel()

		if n != nil {
			l.dispatch(n)
		}
		if err != nil {
			if l.ctx.Err() != nil {
				return l.ctx.Err()
			}
			if woken && !conn.IsClosed() {
				continue
			}
			return err
		}
	}
}

// sync issues LISTEN/UNLISTEN so that listening equals want.
func (l *listener) sync(conn *pgx.Conn, listening, want map[string]bool) error {
	for name := range want {
		if listening[name] {
			continue
		}
		if _, err := conn.Exec(l.ctx, "LISTEN "+pgx.Identifier{name}.Sanitize()); err != nil {
			return err
		}
		listening[name] = true
	}
	for name := range listening {
		if want[name] {
			continue
		}
		if _, err := conn.Exec(l.ctx, "UNLISTEN "+pgx.Identifier{name}.Sanitize()); err != nil {
			return err
		}
		delete(listening, name)
	}
	return nil
}

// dispatch hands a notification to the channel's subscribers without
// blocking; a full subscriber is told it lagged.
func (l *listener) dispatch(n *pgconn.Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for sub := range l.subs[n.Channel] {
		select {
		case sub.c <- []byte(n.Payload):
		default:
			sub.signalLagged()
		}
	}
}

func (l *listener) signalAllLagged() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, subs := range l.subs {
		for sub := range subs {
			sub.signalLagged()
		}
	}
}

// backendPID returns the listener connection's backend pid (0 before the
// first connection); tests terminate it to exercise reconnection.
func (l *listener) backendPID() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid
}

// close stops the goroutine and ends every subscription.
func (l *listener) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	started := l.started
	l.mu.Unlock()
	l.cancel()
	if started {
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, subs := range l.subs {
		for sub := range subs {
			sub.closeLocked()
		}
	}
	l.subs = map[string]map[*subscription]struct{}{}
	for _, p := range l.pending {
		p <- store.ErrClosed
	}
	l.pending = nil
}

// subscription is one Listen. c and lagged are only sent to and closed with
// listener.mu held.
type subscription struct {
	l         *listener
	name      string
	c         chan []byte
	lagged    chan struct{}
	stopAfter func() bool
	closed    bool
}

func (s *subscription) C() <-chan []byte        { return s.c }
func (s *subscription) Lagged() <-chan struct{} { return s.lagged }

// Close ends the subscription and closes C; safe to call more than once.
func (s *subscription) Close() error {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closeLocked()
	if subs := s.l.subs[s.name]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(s.l.subs, s.name)
			if !s.l.closed {
				s.l.markDirtyLocked()
			}
		}
	}
	return nil
}

func (s *subscription) closeLocked() {
	if s.closed {
		return
	}
	s.closed = true
	if s.stopAfter != nil {
		s.stopAfter()
	}
	close(s.c)
}

func (s *subscription) signalLagged() {
	select {
	case s.lagged <- struct{}{}:
	default:
	}
}
