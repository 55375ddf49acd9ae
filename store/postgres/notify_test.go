package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// receive waits for one payload on sub.
func receive(t *testing.T, sub store.Subscription) string {
	t.Helper()
	select {
	case p, ok := <-sub.C():
		require.True(t, ok, "subscription closed")
		return string(p)
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
		return ""
	}
}

// requireNext waits for the next payload on sub and checks it.
func requireNext(t *testing.T, sub store.Subscription, want string) {
	t.Helper()
	require.Equal(t, want, receive(t, sub))
}

func TestNotifyListen(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()

	sub, err := s.Listen(ctx, "chan_a")
	require.NoError(t, err)
	other, err := s.Listen(ctx, "chan_b")
	require.NoError(t, err)

	for i := range 20 {
		require.NoError(t, s.Notify(ctx, "chan_a", fmt.Appendf(nil, `{"n":%d}`, i)))
	}
	require.NoError(t, s.Notify(ctx, "chan_b", []byte("b")))
	for i := range 20 {
		requireNext(t, sub, fmt.Sprintf(`{"n":%d}`, i))
	}
	requireNext(t, other, "b")

	require.NoError(t, sub.Close())
	require.NoError(t, sub.Close(), "Close twice is fine")
	_, open := <-sub.C()
	require.False(t, open, "C closed after Close")
}

func TestNotifyTxCommitAndRollback(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	sub, err := s.Listen(ctx, store.ChannelProfileChanged)
	require.NoError(t, err)

	boom := errors.New("boom")
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		require.NoError(t, tx.Notify(ctx, store.ChannelProfileChanged, []byte("rolled back")))
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Same(t, boom, err, "fn's error is returned unchanged")

	require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Notify(ctx, store.ChannelProfileChanged, []byte("committed"))
	}))
	requireNext(t, sub, "committed")
}

func TestNotifyAcrossReplicas(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	a := openTestStore(t, schema, true)
	b := openTestStore(t, schema, false)
	ctx := context.Background()

	subA, err := a.Listen(ctx, "events")
	require.NoError(t, err)
	subB, err := b.Listen(ctx, "events")
	require.NoError(t, err)

	require.NoError(t, a.Notify(ctx, "events", []byte("from a")))
	requireNext(t, subA, "from a")
	requireNext(t, subB, "from a")

	require.NoError(t, b.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Notify(ctx, "events", []byte("from b"))
	}))
	requireNext(t, subA, "from b")
	requireNext(t, subB, "from b")
}

func TestNotifySchemasAreIsolated(t *testing.T) {
	t.Parallel()
	a := newTestStore(t)
	b := newTestStore(t)
	ctx := context.Background()

	subB, err := b.Listen(ctx, "events")
	require.NoError(t, err)
	require.NoError(t, a.Notify(ctx, "events", []byte("for a only")))
	require.NoError(t, b.Notify(ctx, "events", []byte("for b")))
	requireNext(t, subB, "for b") // ordered after a's: a's never came
}

func TestNotifyValidation(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()

	_, err := s.Listen(ctx, "Bad-Name")
	require.Error(t, err)
	require.Error(t, s.Notify(ctx, "Bad-Name", nil))
	require.ErrorContains(t, s.Notify(ctx, "ok", make([]byte, maxPayload+1)), "exceeds")
	require.ErrorContains(t, s.Notify(ctx, "ok", []byte{0xff, 0xfe}), "UTF-8")

	sub, err := s.Listen(ctx, "ok")
	require.NoError(t, err)
	big := strings.Repeat("x", maxPayload)
	require.NoError(t, s.Notify(ctx, "ok", []byte(big)), "the limit itself is accepted")
	requireNext(t, sub, big)
}

func TestListenEndsWithContext(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := s.Listen(ctx, "events")
	require.NoError(t, err)
	cancel()
	eventually(t, "subscription closed", func() bool {
		select {
		case _, open := <-sub.C():
			return !open
		default:
			return false
		}
	})
	eventually(t, "channel unsubscribed", func() bool {
		s.listener.mu.Lock()
		defer s.listener.mu.Unlock()
		return len(s.listener.subs) == 0
	})
}

func TestListenSlowSubscriberLags(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	slow, err := s.Listen(ctx, "events")
	require.NoError(t, err)
	fast, err := s.Listen(ctx, "events")
	require.NoError(t, err)

	total := subscriptionBuffer + 50
	for i := range total {
		require.NoError(t, s.Notify(ctx, "events", fmt.Appendf(nil, "%d", i)))
		requireNext(t, fast, fmt.Sprintf("%d", i))
	}
	select {
	case <-slow.Lagged():
	case <-time.After(10 * time.Second):
		t.Fatal("slow subscriber was not told it lagged")
	}
	for i := range subscriptionBuffer {
		requireNext(t, slow, fmt.Sprintf("%d", i))
	}
}

func TestListenReconnects(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	sub, err := s.Listen(ctx, "events")
	require.NoError(t, err)

	pid := s.listener.backendPID()
	require.NotZero(t, pid)
	var terminated bool
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&terminated))
	require.True(t, terminated)

	select {
	case <-sub.Lagged():
	case <-time.After(15 * time.Second):
		t.Fatal("no Lagged signal after reconnecting")
	}
	require.NotEqual(t, pid, s.listener.backendPID(), "a new connection")
	require.NoError(t, s.Notify(ctx, "events", []byte("after reconnect")))
	requireNext(t, sub, "after reconnect")
}

func TestListenAfterClose(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, testSchema(t), true)
	ctx := context.Background()
	sub, err := s.Listen(ctx, "events")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, open := <-sub.C()
	require.False(t, open, "Close ends subscriptions")
	_, err = s.Listen(ctx, "events")
	require.ErrorIs(t, err, store.ErrClosed)
	require.ErrorIs(t, s.Notify(ctx, "events", nil), store.ErrClosed)
	_, err = s.ProfileGet(ctx, "u")
	require.ErrorIs(t, err, store.ErrClosed)
	require.ErrorIs(t, s.InTx(ctx, func(context.Context, store.Tx) error { return nil }), store.ErrClosed)
}

func TestListenUnreachableDatabase(t *testing.T) {
	t.Parallel()
	// No schema: Open does not connect, so the first connection is Listen's.
	s, err := Open(context.Background(), Config{
		URL:    "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5",
		Logger: testLogger(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = s.Listen(ctx, "events")
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "Listen reports the connection failure, not a timeout")
	eventually(t, "failed subscription removed", func() bool { return !s.listener.hasWork() })
}
