package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

// txArgs is the job the transaction tests insert; no worker is registered
// for it, so inserted jobs stay available.
type txArgs struct {
	UserID  string `json:"user_id"`
	Version int64  `json:"version"`
}

func (txArgs) Kind() string { return "storetest_tx" }

func testTx(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"CommitWritesJobAndNotification", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sub := listen(t, s, store.ChannelProfileChanged)
			var version int64
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				p, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), Now: at(0)})
				if err != nil {
					return err
				}
				version = p.Version
				if _, err := tx.JobInsert(ctx, txArgs{UserID: "ann", Version: p.Version}, nil); err != nil {
					return err
				}
				payload, err := json.Marshal(store.ProfileEvent{UserID: "ann", Version: p.Version})
				if err != nil {
					return err
				}
				if err := tx.Notify(ctx, store.ChannelProfileChanged, payload); err != nil {
					return err
				}
				// Nothing is delivered before the commit. (A late delivery
				// would be caught by the ordering check below too.)
				select {
				case <-sub.C():
					return errors.New("notification delivered before commit")
				default:
				}
				return nil
			})
			require.NoError(t, err)

			var ev store.ProfileEvent
			require.NoError(t, json.Unmarshal(receive(t, sub.C(), "notification"), &ev))
			require.Equal(t, store.ProfileEvent{UserID: "ann", Version: version}, ev)

			p, err := s.ProfileGet(ctx, "ann")
			require.NoError(t, err)
			require.Equal(t, int64(1), p.Version)
			jobs := listJobs(t, s, txArgs{}.Kind())
			require.Len(t, jobs, 1)
			require.JSONEq(t, `{"user_id":"ann","version":1}`, string(jobs[0].EncodedArgs))
			require.Equal(t, rivertype.JobStateAvailable, jobs[0].State)
		}},
		{"RollbackLeavesNothing", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sub := listen(t, s, store.ChannelProfileChanged)
			errFn := errors.New("storetest: fail on purpose")
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), Now: at(0)}); err != nil {
					return err
				}
				if _, err := tx.TimelineAppend(ctx, &store.TimelineEvent{UserID: "ann", Kind: "webhook.accepted", Detail: json.RawMessage(`{}`), At: at(0)}); err != nil {
					return err
				}
				if err := tx.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_1", StatusCode: 202, CreatedAt: at(0)}); err != nil {
					return err
				}
				if _, err := tx.JobInsert(ctx, txArgs{UserID: "ann", Version: 1}, nil); err != nil {
					return err
				}
				if err := tx.Notify(ctx, store.ChannelProfileChanged, []byte("rolled back")); err != nil {
					return err
				}
				return errFn
			})
			require.Equal(t, errFn, err, "fn's error is returned unchanged")

			_, err = s.ProfileGet(ctx, "ann")
			require.ErrorIs(t, err, store.ErrNotFound)
			events, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "ann"})
			require.NoError(t, err)
			require.Empty(t, events)
			_, err = s.WebhookReceiptGet(ctx, "msg_1")
			require.ErrorIs(t, err, store.ErrNotFound)
			require.Empty(t, listJobs(t, s, txArgs{}.Kind()))
			counts, err := s.Jobs().JobCountByState(ctx)
			require.NoError(t, err)
			require.Zero(t, counts[rivertype.JobStateAvailable])

			// A marker sent after the rollback arrives first: the rolled
			// back notification was never sent.
			require.NoError(t, s.Notify(ctx, store.ChannelProfileChanged, []byte("marker")))
			require.Equal(t, "marker", string(receive(t, sub.C(), "marker")))
		}},
		{"ReadsOwnWrites", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			var inside *store.Profile
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":1}`), Now: at(0)}); err != nil {
					return err
				}
				if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{"n":2}`), Now: at(time.Second)}); err != nil {
					return err
				}
				var err error
				inside, err = tx.ProfileGet(ctx, "ann")
				return err
			}))
			require.Equal(t, int64(2), inside.Version)
			require.Equal(t, `{"n":2}`, string(inside.Data))
		}},
		{"QueryErrorRollsBack", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.JobInsert(ctx, txArgs{UserID: "ann"}, nil); err != nil {
					return err
				}
				_, err := tx.SessionGet(ctx, "nope")
				return err
			})
			require.ErrorIs(t, err, store.ErrNotFound)
			require.Empty(t, listJobs(t, s, txArgs{}.Kind()))
		}},
		{"ManyCommitsDeliverInOrder", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sub := listen(t, s, store.ChannelProfileChanged)
			for v := int64(1); v <= 10; v++ {
				require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					return tx.Notify(ctx, store.ChannelProfileChanged, []byte{byte('0' + v%10)})
				}))
			}
			for v := int64(1); v <= 10; v++ {
				require.Equal(t, []byte{byte('0' + v%10)}, receive(t, sub.C(), "notification"))
			}
		}},
		{"OneTxNotifiesInOrder", func(t *testing.T, s store.Store) {
			// Many notifications on two channels in one transaction arrive
			// at commit, each channel's in the order sent; nothing arrives
			// from a transaction that rolled back after notifying.
			ctx := ctxFor(t)
			profiles := listen(t, s, store.ChannelProfileChanged)
			sessions := listen(t, s, store.ChannelSessionEnded)
			require.Error(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.Notify(ctx, store.ChannelProfileChanged, []byte("rolled back")); err != nil {
					return err
				}
				return errors.New("storetest: fail on purpose")
			}))
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for i := range 20 {
					if err := tx.Notify(ctx, store.ChannelProfileChanged, []byte(fmt.Sprintf("p%02d", i))); err != nil {
						return err
					}
					if i%5 == 0 {
						if err := tx.Notify(ctx, store.ChannelSessionEnded, []byte(fmt.Sprintf("s%02d", i))); err != nil {
							return err
						}
					}
				}
				return nil
			}))
			for i := range 20 {
				require.Equal(t, fmt.Sprintf("p%02d", i), string(receive(t, profiles.C(), "profile notification")))
			}
			for i := 0; i < 20; i += 5 {
				require.Equal(t, fmt.Sprintf("s%02d", i), string(receive(t, sessions.C(), "session notification")))
			}
		}},
		{"NotifyChecksChannel", func(t *testing.T, s store.Store) {
			err := s.InTx(ctxFor(t), func(ctx context.Context, tx store.Tx) error {
				return tx.Notify(ctx, "Not-A-Channel", nil)
			})
			require.Error(t, err)
		}},
		{"UniqueJobInTx", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			opts := &river.InsertOpts{UniqueOpts: coalesceUniqueOpts()}
			var first, second *rivertype.JobInsertResult
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				if first, err = tx.JobInsert(ctx, txArgs{UserID: "ann"}, opts); err != nil {
					return err
				}
				second, err = tx.JobInsert(ctx, txArgs{UserID: "ann"}, opts)
				return err
			}))
			require.False(t, first.UniqueSkippedAsDuplicate)
			require.True(t, second.UniqueSkippedAsDuplicate)
			require.Equal(t, first.Job.ID, second.Job.ID)
			require.Len(t, listJobs(t, s, txArgs{}.Kind()), 1)
		}},
	})
}

// listJobs lists jobs of kind in every state.
func listJobs(t *testing.T, s store.Store, kind string) []*rivertype.JobRow {
	t.Helper()
	res, err := s.Jobs().JobList(ctxFor(t), river.NewJobListParams().Kinds(kind).First(10000).States(
		rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
		rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	))
	require.NoError(t, err)
	return res.Jobs
}
