package notifyhub

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func TestCheck(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		channel string
		payload []byte
		wantErr error
	}{
		{"Valid", "profile_changed", []byte("x"), nil},
		{"OneLetter", "a", nil, nil},
		{"Longest", "a" + strings.Repeat("b", 62), nil, nil},
		{"TooLong", "a" + strings.Repeat("b", 63), nil, ErrBadChannel},
		{"Empty", "", nil, ErrBadChannel},
		{"Upper", "Profile", nil, ErrBadChannel},
		{"Digit", "1a", nil, ErrBadChannel},
		{"Dash", "a-b", nil, ErrBadChannel},
		{"Quote", `a"b`, nil, ErrBadChannel},
		{"LargestPayload", "a", make([]byte, MaxPayload), nil},
		{"PayloadTooLarge", "a", make([]byte, MaxPayload+1), ErrPayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.channel, tt.payload)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

func TestHub(t *testing.T) {
	t.Parallel()

	t.Run("FanOut", func(t *testing.T) {
		t.Parallel()
		h := New(Config{})
		a, err := h.Listen(t.Context(), "a")
		require.NoError(t, err)
		b, err := h.Listen(t.Context(), "a")
		require.NoError(t, err)
		other, err := h.Listen(t.Context(), "other")
		require.NoError(t, err)
		payload := []byte("hello")
		require.NoError(t, h.Notify("a", payload))
		payload[0] = 'X' // the sender may reuse its buffer
		require.Equal(t, "hello", string(<-a.C()))
		require.Equal(t, "hello", string(<-b.C()))
		require.Empty(t, other.C())
	})

	t.Run("FullBufferLags", func(t *testing.T) {
		t.Parallel()
		h := New(Config{Buffer: 2})
		sub, err := h.Listen(t.Context(), "a")
		require.NoError(t, err)
		for i := range 3 {
			require.NoError(t, h.Notify("a", fmt.Appendf(nil, "%d", i)))
		}
		<-sub.Lagged()
		require.Equal(t, "0", string(<-sub.C()))
		require.Equal(t, "1", string(<-sub.C()))
	})

	t.Run("SignalLagged", func(t *testing.T) {
		t.Parallel()
		h := New(Config{})
		sub, err := h.Listen(t.Context(), "a")
		require.NoError(t, err)
		h.SignalLagged()
		h.SignalLagged() // never blocks
		<-sub.Lagged()
		require.Equal(t, []string{"a"}, h.Channels())
	})

	t.Run("ContextEnds", func(t *testing.T) {
		t.Parallel()
		h := New(Config{})
		ctx, cancel := context.WithCancel(t.Context())
		sub, err := h.Listen(ctx, "a")
		require.NoError(t, err)
		cancel()
		_, ok := <-sub.C()
		require.False(t, ok)
		require.Empty(t, h.Channels())
		require.NoError(t, sub.Close())
	})

	t.Run("Close", func(t *testing.T) {
		t.Parallel()
		h := New(Config{})
		sub, err := h.Listen(t.Context(), "a")
		require.NoError(t, err)
		h.Close()
		h.Close()
		_, ok := <-sub.C()
		require.False(t, ok)
		require.ErrorIs(t, h.Notify("a", nil), store.ErrClosed)
		_, err = h.Listen(t.Context(), "a")
		require.ErrorIs(t, err, store.ErrClosed)
	})

	t.Run("ConcurrentNotifyAndClose", func(t *testing.T) {
		t.Parallel()
		h := New(Config{Buffer: 4})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 200 {
					_ = h.Notify("a", []byte("x"))
				}
			})
			wg.Go(func() {
				for range 50 {
					sub, err := h.Listen(t.Context(), "a")
					if err != nil {
						return
					}
					_ = sub.Close()
				}
			})
		}
		wg.Wait()
	})
}
