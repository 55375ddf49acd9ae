package pingpull

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// batchItem parses body as a webhook and resolves its profile, as the
// handler does before the transaction.
func batchItem(t *testing.T, b *testBundle, id, body string) *webhookItem {
	t.Helper()
	payload, err := parseWebhookBody([]byte(body))
	require.NoError(t, err)
	resolved, err := b.h.webhookProfile(context.Background(), payload)
	require.NoError(t, err)
	return &webhookItem{id: id, payload: payload, resolved: resolved}
}

// TestRunWebhooksBatch: one batch, set at once, answers each webhook as it
// would have been answered alone and in order: a user changed three times
// gets three versions, a patch lands on the batch's earlier change, a
// second delivery of an id replays the first, a bad patch is refused alone
// and a stale change is acknowledged without a write.
func TestRunWebhooksBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, opts)
		ctx := context.Background()
		b.accept(t, webhookReq{body: `{"user_id":"u1","updated_at":"2026-01-01T00:00:10Z","profile":{"id":"u1","display_name":"Ann"}}`})
		items := []*webhookItem{
			batchItem(t, b, "m1", `{"user_id":"u1","updated_at":"2026-01-01T00:00:11Z","profile":{"id":"u1","display_name":"Bea"}}`),
			batchItem(t, b, "m2", `{"user_id":"u1","updated_at":"2026-01-01T00:00:12Z","patch":{"email":"bea@example.com"}}`),
			batchItem(t, b, "m1", `{"user_id":"u1","updated_at":"2026-01-01T00:00:13Z","profile":{"id":"u1","display_name":"Cy"}}`),
			batchItem(t, b, "m3", `{"user_id":"u1","updated_at":"2026-01-01T00:00:05Z","profile":{"id":"u1","display_name":"Old"}}`),
			batchItem(t, b, "m4", `{"user_id":"u2","patch":{"display_name":{"not":"a string"}}}`),
			batchItem(t, b, "m5", `{"user_id":"u3","patch":{"display_name":"Dee"}}`),
			batchItem(t, b, "m6", `{"user_id":"u1","updated_at":"2026-01-01T00:00:14Z","patch":{"display_name":"Eve"}}`),
		}
		require.NoError(t, b.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			return b.h.runWebhooks(ctx, tx, items)
		}))

		require.Equal(t, &WebhookAnswer{UserID: "u1", Version: 2, Status: StatusQueued}, items[0].answer)
		require.Equal(t, &WebhookAnswer{UserID: "u1", Version: 3, Status: StatusQueued}, items[1].answer)
		require.Nil(t, items[2].answer, "m1 again")
		require.NotNil(t, items[2].replayed, "m1 again replays the first m1")
		require.JSONEq(t, `{"user_id":"u1","version":2,"status":"queued"}`, string(items[2].replayed.Body))
		require.Equal(t, &WebhookAnswer{UserID: "u1", Version: 3, Status: StatusStale}, items[3].answer)
		var fe *livefyre.FieldError
		require.True(t, errors.As(items[4].err, &fe), "the bad patch is refused: %v", items[4].err)
		require.Nil(t, items[4].answer)
		require.Equal(t, &WebhookAnswer{UserID: "u3", Version: 1, Status: StatusQueued}, items[5].answer)
		require.Equal(t, &WebhookAnswer{UserID: "u1", Version: 4, Status: StatusQueued}, items[6].answer)

		p, err := b.store.ProfileGet(ctx, "u1")
		require.NoError(t, err)
		require.EqualValues(t, 4, p.Version)
		var got map[string]any
		require.NoError(t, json.Unmarshal(p.Data, &got))
		require.Equal(t, map[string]any{"id": "u1", "display_name": "Eve", "email": "bea@example.com"}, got,
			"each patch applied to the batch's earlier change")
		_, err = b.store.ProfileGet(ctx, "u2")
		require.ErrorIs(t, err, store.ErrNotFound, "the refused patch wrote nothing")
		require.Equal(t, []string{"webhook.accepted", "webhook.accepted", "webhook.accepted", "webhook.accepted", "webhook.accepted"},
			b.timelineKinds(t, "u1"), "the first webhook and four of the batch (m1's replay writes nothing)")
		for id, want := range map[string]int64{"m1": 2, "m2": 3, "m3": 3, "m5": 1, "m6": 4} {
			rc, err := b.store.WebhookReceiptGet(ctx, id)
			require.NoError(t, err, id)
			var a WebhookAnswer
			require.NoError(t, json.Unmarshal(rc.Body, &a))
			require.Equal(t, want, a.Version, id)
		}
		_, err = b.store.WebhookReceiptGet(ctx, "m4")
		require.ErrorIs(t, err, store.ErrNotFound)
		later := time.Now().Add(24 * time.Hour)
		outbox, err := b.store.PingOutboxClaim(ctx, store.PingOutboxClaimParams{Now: later, LeaseUntil: later.Add(time.Hour), Owner: "test", Limit: 10})
		require.NoError(t, err)
		versions := map[string]int64{}
		for _, e := range outbox {
			versions[e.UserID] = e.Version
		}
		require.Equal(t, int64(4), versions["u1"], "the outbox carries u1's last version")
		require.Equal(t, int64(1), versions["u3"])
	})
}
