package pingpull

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRegisterOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *Config) { c.PublicURL = "https://gateway.example.com/sso/" }})
	require.Equal(t, "https://gateway.example.com/sso/pull?id={id}", b.h.PullURLTemplate())
	require.NoError(t, b.h.RegisterOnce(context.Background()))
	b.hub.mu.Lock()
	defer b.hub.mu.Unlock()
	require.Len(t, b.hub.registrations, 1)
	form := b.hub.registrations[0]
	require.Equal(t, "https://gateway.example.com/sso/pull?id={id}", form.Get("pull_profile_url"))
	claims, err := b.codec.VerifySystem(form.Get("actor_token"))
	require.NoError(t, err)
	require.Equal(t, testNetwork, claims.Domain)
}

func TestRegisterOnceRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code      int
		permanent bool
	}{
		{http.StatusForbidden, true},
		{http.StatusBadRequest, true},
		{http.StatusOK, false}, // Node's library accepts only 204
		{http.StatusTooManyRequests, false},
		{http.StatusBadGateway, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.code), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.hub.mu.Lock()
			b.hub.registerCodes = []int{tt.code}
			b.hub.mu.Unlock()
			err := b.h.RegisterOnce(context.Background())
			var re *RegisterError
			require.True(t, errors.As(err, &re), "err = %v", err)
			require.Equal(t, tt.code, re.StatusCode)
			require.Equal(t, tt.permanent, re.Permanent)
			require.NotContains(t, err.Error(), "eyJ")
		})
	}
}

func TestRegisterRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *Config) {
		c.RegisterBackoffMin = time.Millisecond
		c.RegisterBackoffMax = 4 * time.Millisecond
	}})
	b.hub.mu.Lock()
	b.hub.registerCodes = []int{500, 403, 502, 204}
	b.hub.mu.Unlock()
	registered := func() bool {
		select {
		case <-b.h.Registered():
			return true
		default:
			return false
		}
	}
	require.False(t, registered(), "before the hub accepted the pull URL")
	require.NoError(t, b.h.Register(context.Background()))
	require.True(t, registered(), "once the hub accepted it")
	b.hub.mu.Lock()
	require.Len(t, b.hub.registrations, 4)
	b.hub.mu.Unlock()

	// It gives up when ctx ends, with the last error.
	b.hub.mu.Lock()
	b.hub.registerCodes = []int{500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500}
	b.hub.mu.Unlock()
	// Cancel once three more attempts reached the hub: the hub's handler
	// does it, before it answers the seventh, so Register sees that answer
	// fail and then the cancelled ctx. The deadline bounds a Register that
	// stopped retrying; the count below then fails the test.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b.hub.mu.Lock()
	b.hub.onRegister = func(n int) {
		if n >= 7 {
			cancel()
		}
	}
	b.hub.mu.Unlock()
	err := b.h.Register(ctx)
	require.ErrorIs(t, err, context.Canceled)
	var re *RegisterError
	require.True(t, errors.As(err, &re))
	require.Equal(t, 500, re.StatusCode)
	b.hub.mu.Lock()
	require.GreaterOrEqual(t, len(b.hub.registrations), 7)
	b.hub.mu.Unlock()
}
