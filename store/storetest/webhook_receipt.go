package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testWebhookReceipt(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"CreateGet", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			want := &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, Body: []byte(`{"status":"accepted"}`), CreatedAt: at(0)}
			require.NoError(t, s.WebhookReceiptCreate(ctx, want))
			got, err := s.WebhookReceiptGet(ctx, "msg_1")
			require.NoError(t, err)
			require.Equal(t, want.ID, got.ID)
			require.Equal(t, 202, got.StatusCode)
			require.Equal(t, want.Body, got.Body)
			requireTime(t, at(0), got.CreatedAt)
		}},
		{"EmptyBody", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 204, CreatedAt: at(0)}))
			got, err := s.WebhookReceiptGet(ctx, "msg_1")
			require.NoError(t, err)
			require.Equal(t, 204, got.StatusCode)
			require.Empty(t, got.Body)
		}},
		{"GetUnknown", func(t *testing.T, s store.Store) {
			_, err := s.WebhookReceiptGet(ctxFor(t), "msg_1")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Conflict", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, Body: []byte("first"), CreatedAt: at(0)}))
			err := s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 400, Body: []byte("second"), CreatedAt: at(time.Second)})
			require.ErrorIs(t, err, store.ErrConflict)
			got, err := s.WebhookReceiptGet(ctx, "msg_1")
			require.NoError(t, err)
			require.Equal(t, 202, got.StatusCode, "the first answer stays")
			require.Equal(t, []byte("first"), got.Body)
		}},
		{"ConflictInTx", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, CreatedAt: at(0)}))
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: []byte(`{}`), Now: at(0)}); err != nil {
					return err
				}
				return tx.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, CreatedAt: at(0)})
			})
			require.ErrorIs(t, err, store.ErrConflict)
			_, err = s.ProfileGet(ctx, "ann")
			require.ErrorIs(t, err, store.ErrNotFound, "the transaction rolled back")
		}},
		{"AcceptWritesReceiptTimelineAndPing", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				return tx.WebhookAccept(ctx, store.WebhookAcceptParams{
					Receipt:  &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, Body: []byte(`{"version":3}`), CreatedAt: at(0)},
					Timeline: &store.TimelineEvent{UserID: "ann", Kind: "webhook.accepted", Detail: []byte(`{"version":3}`), At: at(0)},
					Ping:     &store.PingOutboxPutParams{UserID: "ann", Version: 3, Owner: "r1", LeaseUntil: at(time.Minute)},
				})
			})
			require.NoError(t, err)
			got, err := s.WebhookReceiptGet(ctx, "msg_1")
			require.NoError(t, err)
			require.Equal(t, 202, got.StatusCode)
			require.Equal(t, []byte(`{"version":3}`), got.Body)
			requireTime(t, at(0), got.CreatedAt)
			events, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann"})
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.Equal(t, "webhook.accepted", events[0].Kind)
			require.JSONEq(t, `{"version":3}`, string(events[0].Detail))
			requireTime(t, at(0), events[0].At)
			// The entry is ann's, leased to r1 until a minute from at(0), at
			// the greater version when put again.
			require.Empty(t, claimOutbox(t, s, "r2", at(time.Second), at(time.Hour), 0), "r1's lease holds")
			require.NoError(t, s.WebhookAccept(ctx, store.WebhookAcceptParams{
				Receipt:  &store.WebhookReceipt{ID: "msg_2", StatusCode: 202, CreatedAt: at(0)},
				Timeline: &store.TimelineEvent{UserID: "ann", Kind: "webhook.accepted", At: at(0)},
				Ping:     &store.PingOutboxPutParams{UserID: "ann", Version: 2, Owner: "r1", LeaseUntil: at(time.Second)},
			}))
			require.Equal(t, []store.PingOutboxEntry{{UserID: "ann", Version: 3}}, claimOutbox(t, s, "r2", at(time.Second), at(time.Hour), 0))
		}},
		{"AcceptWithoutPing", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.WebhookAccept(ctx, store.WebhookAcceptParams{
				Receipt:  &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, CreatedAt: at(0)},
				Timeline: &store.TimelineEvent{UserID: "ann", Kind: "webhook.accepted", At: at(0)},
			}))
			requireOutboxCount(t, s, 0)
			events, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann"})
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.JSONEq(t, `{}`, string(events[0].Detail), "an empty detail is stored as {}")
		}},
		{"AcceptConflictWritesNothing", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, Body: []byte("first"), CreatedAt: at(0)}))
			err := s.WebhookAccept(ctx, store.WebhookAcceptParams{
				Receipt:  &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, Body: []byte("second"), CreatedAt: at(time.Second)},
				Timeline: &store.TimelineEvent{UserID: "ann", Kind: "webhook.accepted", At: at(time.Second)},
				Ping:     &store.PingOutboxPutParams{UserID: "ann", Version: 1},
			})
			require.ErrorIs(t, err, store.ErrConflict)
			got, err := s.WebhookReceiptGet(ctx, "msg_1")
			require.NoError(t, err)
			require.Equal(t, []byte("first"), got.Body, "the first answer stays")
			events, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann"})
			require.NoError(t, err)
			require.Empty(t, events, "no timeline event for a replay")
			requireOutboxCount(t, s, 0)
		}},
		{"AcceptRequiresReceiptAndTimeline", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.Error(t, s.WebhookAccept(ctx, store.WebhookAcceptParams{Timeline: &store.TimelineEvent{UserID: "ann", Kind: "k", At: at(0)}}))
			require.Error(t, s.WebhookAccept(ctx, store.WebhookAcceptParams{Receipt: &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, CreatedAt: at(0)}}))
			_, err := s.WebhookReceiptGet(ctx, "msg_1")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"ConcurrentCreateOneWins", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			var wins, conflicts atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					err := s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, CreatedAt: at(0)})
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, store.ErrConflict):
						conflicts.Add(1)
					default:
						t.Errorf("unexpected error: %v", err)
					}
				})
			}
			wg.Wait()
			require.Equal(t, int32(1), wins.Load())
			require.Equal(t, int32(7), conflicts.Load())
		}},
		{"DeleteBefore", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			for i, id := range []string{"a", "b", "c", "d"} {
				require.NoError(t, s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: id, StatusCode: 202, CreatedAt: at(time.Duration(i) * time.Hour)}))
			}
			n, err := s.WebhookReceiptDeleteBefore(ctx, at(2*time.Hour))
			require.NoError(t, err)
			require.Equal(t, 2, n)
			for _, id := range []string{"a", "b"} {
				_, err := s.WebhookReceiptGet(ctx, id)
				require.ErrorIs(t, err, store.ErrNotFound, id)
			}
			for _, id := range []string{"c", "d"} {
				_, err := s.WebhookReceiptGet(ctx, id)
				require.NoError(t, err, id)
			}
			n, err = s.WebhookReceiptDeleteBefore(ctx, at(2*time.Hour))
			require.NoError(t, err)
			require.Zero(t, n)
		}},
	})
}
