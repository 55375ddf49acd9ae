package storetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testNotify(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"Deliver", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sub := listen(t, s, "storetest_a")
			require.NoError(t, s.Notify(ctx, "storetest_a", []byte(`{"user_id":"ann","version":1}`)))
			require.Equal(t, `{"user_id":"ann","version":1}`, string(receive(t, sub.C(), "payload")))
		}},
		{"EveryListenerOfTheChannelOnly", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			a1 := listen(t, s, "storetest_a")
			a2 := listen(t, s, "storetest_a")
			b := listen(t, s, "storetest_b")
			require.NoError(t, s.Notify(ctx, "storetest_a", []byte("for a")))
			require.NoError(t, s.Notify(ctx, "storetest_b", []byte("for b")))
			require.Equal(t, "for a", string(receive(t, a1.C(), "a1")))
			require.Equal(t, "for a", string(receive(t, a2.C(), "a2")))
			require.Equal(t, "for b", string(receive(t, b.C(), "b")))
			// b's payload arrived after a's was sent, so a's would be there.
			requireNothingReady(t, b.C(), "payload of another channel")
		}},
		{"EmptyPayload", func(t *testing.T, s store.Store) {
			sub := listen(t, s, "storetest_a")
			require.NoError(t, s.Notify(ctxFor(t), "storetest_a", nil))
			require.Empty(t, receive(t, sub.C(), "payload"))
		}},
		{"LargestPayload", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sub := listen(t, s, "storetest_a")
			big := []byte(strings.Repeat("x", 7900))
			require.NoError(t, s.Notify(ctx, "storetest_a", big))
			require.Equal(t, big, receive(t, sub.C(), "payload"))
			require.Error(t, s.Notify(ctx, "storetest_a", []byte(strings.Repeat("x", 7901))), "over the limit")
		}},
		{"ChannelNames", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			for _, name := range []string{"", "Profile", "1abc", "a-b", "a b", "a;drop", strings.Repeat("a", 64)} {
				_, err := s.Listen(ctx, name)
				require.Error(t, err, "Listen(%q)", name)
				require.Error(t, s.Notify(ctx, name, nil), "Notify(%q)", name)
			}
			for _, name := range []string{store.ChannelProfileChanged, store.ChannelProfileReady, store.ChannelSessionEnded, "a", strings.Repeat("a", 63)} {
				sub, err := s.Listen(ctx, name)
				require.NoError(t, err, "Listen(%q)", name)
				require.NoError(t, sub.Close())
			}
		}},
		{"CloseEndsSubscription", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sub, err := s.Listen(ctx, "storetest_a")
			require.NoError(t, err)
			require.NoError(t, sub.Close())
			require.NoError(t, sub.Close(), "Close twice")
			requireClosed(t, sub.C())
			require.NoError(t, s.Notify(ctx, "storetest_a", []byte("after close")))
		}},
		{"ContextEndsSubscription", func(t *testing.T, s store.Store) {
			ctx, cancel := context.WithCancel(ctxFor(t))
			sub, err := s.Listen(ctx, "storetest_a")
			require.NoError(t, err)
			t.Cleanup(func() { _ = sub.Close() })
			cancel()
			requireClosed(t, sub.C())
		}},
		{"OrderFromOneSender", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sub := listen(t, s, "storetest_a")
			for i := range 20 {
				require.NoError(t, s.Notify(ctx, "storetest_a", []byte(strconv.Itoa(i))))
			}
			for i := range 20 {
				require.Equal(t, strconv.Itoa(i), string(receive(t, sub.C(), "payload")))
			}
		}},
		{"ManyToSeveralListeners", testNotifyMany},
	})
}

// testNotifyMany sends many payloads from several senders to several
// listeners that read as fast as they can. Each listener must see each
// sender's payloads in order, without duplicates, and all of them unless it
// was told it lagged.
func testNotifyMany(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const listeners, senders, perSender = 4, 3, 200

	type outcome struct {
		got    map[int][]int // sender -> sequence numbers received
		lagged bool
	}
	outcomes := make([]outcome, listeners)
	subs := make([]store.Subscription, listeners)
	for i := range subs {
		subs[i] = listen(t, s, "storetest_many")
	}

	var readers sync.WaitGroup
	for i, sub := range subs {
		readers.Go(func() {
			o := outcome{got: map[int][]int{}}
			defer func() { outcomes[i] = o }()
			received := 0
			for received < senders*perSender {
				select {
				case payload, ok := <-sub.C():
					if !ok {
						return
					}
					var sender, seq int
					if _, err := fmt.Sscanf(string(payload), "%d:%d", &sender, &seq); err != nil {
						t.Errorf("bad payload %q", payload)
						return
					}
					o.got[sender] = append(o.got[sender], seq)
					received++
				case <-sub.Lagged():
					o.lagged = true
					return
				case <-ctx.Done():
					t.Errorf("listener %d: %d of %d payloads before the deadline", i, received, senders*perSender)
					return
				}
			}
		})
	}

	var sendersWG sync.WaitGroup
	for sender := range senders {
		sendersWG.Go(func() {
			for seq := range perSender {
				if !assertNoError(t, s.Notify(ctx, "storetest_many", fmt.Appendf(nil, "%d:%d", sender, seq))) {
					return
				}
			}
		})
	}
	sendersWG.Wait()
	readers.Wait()

	for i, o := range outcomes {
		for sender := range senders {
			seqs := o.got[sender]
			for j := 1; j < len(seqs); j++ {
				require.Greater(t, seqs[j], seqs[j-1], "listener %d, sender %d: out of order or duplicate", i, sender)
			}
			if !o.lagged {
				require.Len(t, seqs, perSender, "listener %d, sender %d: lost payloads without a Lagged signal", i, sender)
			}
		}
	}
}

// listen subscribes and closes the subscription at cleanup.
func listen(t *testing.T, s store.Notifier, channel string) store.Subscription {
	t.Helper()
	sub, err := s.Listen(ctxFor(t), channel)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// requireClosed waits until ch is closed, draining what is left in it.
func requireClosed[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	eventually(t, func() bool {
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					return true
				}
			default:
				return false
			}
		}
	}, "channel not closed")
}
