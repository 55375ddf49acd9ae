package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testOneTime(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"CreateConsume", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "login_flow", Key: "k1", Value: []byte("v1"), ExpiresAt: at(time.Minute)}))
			got, err := s.OneTimeConsume(ctx, "login_flow", "k1", at(0))
			require.NoError(t, err)
			require.Equal(t, "login_flow", got.Kind)
			require.Equal(t, "k1", got.Key)
			require.Equal(t, []byte("v1"), got.Value)
			requireTime(t, at(time.Minute), got.ExpiresAt)
		}},
		{"SingleUse", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "login_flow", Key: "k1", Value: []byte("v1"), ExpiresAt: at(time.Minute)}))
			_, err := s.OneTimeConsume(ctx, "login_flow", "k1", at(0))
			require.NoError(t, err)
			_, err = s.OneTimeConsume(ctx, "login_flow", "k1", at(0))
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Unknown", func(t *testing.T, s store.Store) {
			_, err := s.OneTimeConsume(ctxFor(t), "login_flow", "k1", at(0))
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Expired", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "login_flow", Key: "k1", Value: []byte("v1"), ExpiresAt: at(time.Minute)}))
			_, err := s.OneTimeConsume(ctx, "login_flow", "k1", at(time.Minute+time.Second))
			require.ErrorIs(t, err, store.ErrNotFound)
			// An expired value cannot be consumed later with an earlier clock
			// either: it is gone or still refused, but never served twice.
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "login_flow", Key: "k2", Value: []byte("v2"), ExpiresAt: at(time.Minute)}))
			got, err := s.OneTimeConsume(ctx, "login_flow", "k2", at(time.Minute-time.Second))
			require.NoError(t, err)
			require.Equal(t, []byte("v2"), got.Value)
		}},
		{"KindsAreNamespaces", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "login_flow", Key: "k", Value: []byte("a"), ExpiresAt: at(time.Minute)}))
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "logout_jti", Key: "k", Value: []byte("b"), ExpiresAt: at(time.Minute)}))
			got, err := s.OneTimeConsume(ctx, "logout_jti", "k", at(0))
			require.NoError(t, err)
			require.Equal(t, []byte("b"), got.Value)
			got, err = s.OneTimeConsume(ctx, "login_flow", "k", at(0))
			require.NoError(t, err)
			require.Equal(t, []byte("a"), got.Value)
		}},
		{"ConflictWhileUnexpired", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			// OneTimeCreate has no clock parameter; "unexpired" is judged
			// against the real time, so this test uses it.
			expires := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "logout_jti", Key: "jti1", Value: []byte("a"), ExpiresAt: expires}))
			err := s.OneTimeCreate(ctx, &store.OneTime{Kind: "logout_jti", Key: "jti1", Value: []byte("b"), ExpiresAt: expires})
			require.ErrorIs(t, err, store.ErrConflict)
			got, err := s.OneTimeConsume(ctx, "logout_jti", "jti1", time.Now())
			require.NoError(t, err)
			require.Equal(t, []byte("a"), got.Value)
		}},
		{"ExpiredIsReplaced", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			past := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
			future := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "logout_jti", Key: "jti1", Value: []byte("old"), ExpiresAt: past}))
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "logout_jti", Key: "jti1", Value: []byte("new"), ExpiresAt: future}))
			got, err := s.OneTimeConsume(ctx, "logout_jti", "jti1", time.Now())
			require.NoError(t, err)
			require.Equal(t, []byte("new"), got.Value)
			requireTime(t, future, got.ExpiresAt)
		}},
		{"ConcurrentConsumeOneWins", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "exchange_code", Key: "c", Value: []byte("v"), ExpiresAt: at(time.Minute)}))
			var wins, misses atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					_, err := s.OneTimeConsume(ctx, "exchange_code", "c", at(0))
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, store.ErrNotFound):
						misses.Add(1)
					default:
						t.Errorf("unexpected error: %v", err)
					}
				})
			}
			wg.Wait()
			require.Equal(t, int32(1), wins.Load())
			require.Equal(t, int32(7), misses.Load())
		}},
		{"DeleteExpired", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			for i, key := range []string{"a", "b", "c"} {
				require.NoError(t, s.OneTimeCreate(ctx, &store.OneTime{Kind: "login_flow", Key: key, Value: []byte(key), ExpiresAt: at(time.Duration(i) * time.Hour)}))
			}
			n, err := s.OneTimeDeleteExpired(ctx, at(90*time.Minute))
			require.NoError(t, err)
			require.Equal(t, 2, n)
			_, err = s.OneTimeConsume(ctx, "login_flow", "b", at(0))
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = s.OneTimeConsume(ctx, "login_flow", "c", at(0))
			require.NoError(t, err)
		}},
	})
}
