package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testWebhookBatch(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"ReceiptGetMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			got, err := s.WebhookReceiptGetMany(ctx, nil)
			require.NoError(t, err)
			require.NotNil(t, got)
			require.Empty(t, got)
			want := []*store.WebhookReceipt{
				{ID: "msg_1", StatusCode: 202, Body: []byte(`{"status":"accepted"}`), CreatedAt: at(0)},
				{ID: "msg_2", StatusCode: 400, Body: []byte(`{"error":"bad"}`), CreatedAt: at(time.Second)},
				{ID: "msg_3", StatusCode: 202, CreatedAt: at(0)},
			}
			for _, r := range want {
				require.NoError(t, s.WebhookReceiptCreate(ctx, r))
			}
			got, err = s.WebhookReceiptGetMany(ctx, []string{"msg_2", "nobody", "msg_1", "msg_2"})
			require.NoError(t, err)
			require.Equal(t, []string{"msg_1", "msg_2"}, sortedKeys(got), "only the ids asked for that exist, once each")
			for _, w := range want[:2] {
				r := got[w.ID]
				require.Equal(t, w.ID, r.ID)
				require.Equal(t, w.StatusCode, r.StatusCode)
				require.Equal(t, w.Body, r.Body)
				requireTime(t, w.CreatedAt, r.CreatedAt)
			}
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.WebhookReceiptGetMany(ctx, []string{"msg_3", "nobody"})
				require.NoError(t, err)
				require.Equal(t, []string{"msg_3"}, sortedKeys(got))
				require.Empty(t, got["msg_3"].Body)
				got, err = tx.WebhookReceiptGetMany(ctx, []string{"nobody"})
				require.NoError(t, err)
				require.Empty(t, got)
				return nil
			}))
		}},
		{"LockManyReturnsExistingOnly", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			got, err := s.ProfileLockMany(ctx, nil)
			require.NoError(t, err)
			require.Empty(t, got)
			ann := upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			ann = upsertProfile(t, s, "ann", `{"n":2}`, at(time.Second), at(time.Second))
			bob := upsertProfile(t, s, "bob", `{"n":1}`, at(0), at(0))
			require.NoError(t, s.ProfileMarkServed(ctx, "bob", 1, at(time.Minute)))
			bob.ServedVersion, bob.ServedAt = 1, at(time.Minute)
			upsertProfile(t, s, "cal", `{"n":1}`, at(0), at(0))
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.ProfileLockMany(ctx, []string{"bob", "nobody", "ann", "bob"})
				require.NoError(t, err)
				require.Equal(t, []string{"ann", "bob"}, sortedKeys(got))
				requireProfile(t, ann, got["ann"])
				requireProfile(t, bob, got["bob"])
				got, err = tx.ProfileLockMany(ctx, []string{"nobody"})
				require.NoError(t, err)
				require.Empty(t, got)
				return nil
			}))
		}},
		{"DecideAndWriteMatchesUpsert", func(t *testing.T, s store.Store) {
			testDecideAndWriteMatchesUpsert(t, s, newStore(t))
		}},
		{"WriteManyEmpty", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.ProfileWriteMany(ctx, nil))
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				return tx.ProfileWriteMany(ctx, []store.ProfileWrite{})
			}))
		}},
		{"WriteManyConflictWhenCreatedRowExists", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			ann := upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.TimelineAppend(ctx, &store.TimelineEvent{UserID: "bob", Kind: "webhook.accepted", At: at(0)}); err != nil {
					return err
				}
				return tx.ProfileWriteMany(ctx, []store.ProfileWrite{
					{Next: newProfileRow("bob", 1, `{"n":1}`, at(time.Second))},
					// ProfileLockMany saw no ann, but a transaction it could
					// not see committed one.
					{Next: newProfileRow("ann", 1, `{"n":9}`, at(time.Second))},
				})
			})
			require.ErrorIs(t, err, store.ErrConflict)
			requireRolledBack(t, s, ann)
		}},
		{"WriteManyConflictWhenVersionIsStale", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			read := upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			ann := upsertProfile(t, s, "ann", `{"n":2}`, at(time.Second), at(time.Second))
			require.Equal(t, read.Version+1, ann.Version)
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.TimelineAppend(ctx, &store.TimelineEvent{UserID: "bob", Kind: "webhook.accepted", At: at(0)}); err != nil {
					return err
				}
				next := *read
				next.Version, next.Data, next.ModifiedAt = read.Version+1, json.RawMessage(`{"n":3}`), at(time.Minute)
				return tx.ProfileWriteMany(ctx, []store.ProfileWrite{
					{Next: newProfileRow("bob", 1, `{"n":1}`, at(time.Second))},
					{Prev: read, Next: &next},
				})
			})
			require.ErrorIs(t, err, store.ErrConflict)
			requireRolledBack(t, s, ann)
		}},
		{"WriteManyRefusesBadInput", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			ann := upsertProfile(t, s, "ann", `{"n":1}`, at(0), at(0))
			bob := newProfileRow("bob", 1, `{"n":1}`, at(0))
			next := *ann
			next.Version++
			for name, writes := range map[string][]store.ProfileWrite{
				"Next missing":   {{Next: bob}, {Prev: ann}},
				"UserID missing": {{Next: bob}, {Next: newProfileRow("", 1, `{}`, at(0))}},
				"Prev of another user": {
					{Next: bob}, {Prev: ann, Next: &store.Profile{UserID: "cal", Version: 2, Data: ann.Data}},
				},
				"user twice": {{Next: bob}, {Prev: ann, Next: &next}, {Prev: ann, Next: &next}},
			} {
				err := s.ProfileWriteMany(ctx, writes)
				require.Error(t, err, name)
				require.NotErrorIs(t, err, store.ErrConflict, name)
				err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.ProfileWriteMany(ctx, writes) })
				require.Error(t, err, name)
				require.NotErrorIs(t, err, store.ErrConflict, name)
			}
			got, err := s.ProfileGetMany(ctx, []string{"ann", "bob", "cal"})
			require.NoError(t, err)
			require.Equal(t, []string{"ann"}, sortedKeys(got), "nothing written")
			requireProfile(t, ann, got["ann"])
		}},
		{"AcceptMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.WebhookAcceptMany(ctx, nil))
			// An entry already queued at a higher version keeps it.
			require.NoError(t, s.PingOutboxPut(ctx, store.PingOutboxPutParams{UserID: "dan", Version: 9}))
			accepts := []store.WebhookAcceptParams{
				acceptFor("msg_1", "ann", 2, true),
				acceptFor("msg_2", "bob", 4, false),
				acceptFor("msg_3", "ann", 5, true),
				acceptFor("msg_4", "cal", 1, true),
				acceptFor("msg_5", "ann", 3, true),
				acceptFor("msg_6", "dan", 3, true),
			}
			accepts[3].Timeline.Detail = nil
			accepts[3].Receipt.Body = nil
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				return tx.WebhookAcceptMany(ctx, accepts)
			}))

			ids := make([]string, len(accepts))
			for i, a := range accepts {
				ids[i] = a.Receipt.ID
			}
			receipts, err := s.WebhookReceiptGetMany(ctx, ids)
			require.NoError(t, err)
			require.Len(t, receipts, len(accepts))
			for _, a := range accepts {
				r := receipts[a.Receipt.ID]
				require.NotNil(t, r, a.Receipt.ID)
				require.Equal(t, a.Receipt.StatusCode, r.StatusCode)
				require.Equal(t, string(a.Receipt.Body), string(r.Body))
				requireTime(t, a.Receipt.CreatedAt, r.CreatedAt)
			}

			events, err := s.TimelineAfter(ctx, store.TimelineAfterParams{})
			require.NoError(t, err)
			require.Len(t, events, len(accepts))
			for i, e := range events {
				want := accepts[i].Timeline
				require.Equal(t, want.UserID, e.UserID, "event %d: in input order", i)
				require.Equal(t, want.Kind, e.Kind)
				requireTime(t, want.At, e.At)
				if len(want.Detail) == 0 {
					require.JSONEq(t, `{}`, string(e.Detail), "an empty detail is stored as {}")
				} else {
					require.JSONEq(t, string(want.Detail), string(e.Detail))
				}
				if i > 0 {
					require.Greater(t, e.ID, events[i-1].ID)
				}
			}

			// r1's lease holds until a minute; then the entries are ann's
			// highest version, cal's and dan's earlier higher one. bob had no
			// ping.
			require.Empty(t, claimOutbox(t, s, "r2", at(time.Second), at(time.Hour), 0), "r1's lease holds")
			require.Equal(t, []store.PingOutboxEntry{{UserID: "ann", Version: 5}, {UserID: "cal", Version: 1}, {UserID: "dan", Version: 9}},
				sortedEntries(claimOutbox(t, s, "r2", at(time.Minute), at(time.Hour), 0)))
		}},
		{"AcceptManyConflictRollsBack", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.WebhookReceiptCreate(ctx, &store.WebhookReceipt{ID: "msg_2", StatusCode: 202, Body: []byte("first"), CreatedAt: at(0)}))
			for name, accepts := range map[string][]store.WebhookAcceptParams{
				"stored before": {acceptFor("msg_1", "ann", 1, true), acceptFor("msg_2", "bob", 1, true), acceptFor("msg_3", "cal", 1, true)},
				"twice in the batch": {
					acceptFor("msg_4", "ann", 1, true), acceptFor("msg_5", "bob", 1, true), acceptFor("msg_4", "cal", 2, true),
				},
			} {
				err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: json.RawMessage(`{}`), Now: at(0)}); err != nil {
						return err
					}
					return tx.WebhookAcceptMany(ctx, accepts)
				})
				require.ErrorIs(t, err, store.ErrConflict, name)
			}
			got, err := s.WebhookReceiptGetMany(ctx, []string{"msg_1", "msg_2", "msg_3", "msg_4", "msg_5"})
			require.NoError(t, err)
			require.Equal(t, []string{"msg_2"}, sortedKeys(got), "only the receipt stored before")
			require.Equal(t, []byte("first"), got["msg_2"].Body, "the first answer stays")
			events, err := s.TimelineAfter(ctx, store.TimelineAfterParams{})
			require.NoError(t, err)
			require.Empty(t, events)
			requireOutboxCount(t, s, 0)
			_, err = s.ProfileGet(ctx, "ann")
			require.ErrorIs(t, err, store.ErrNotFound, "the transaction rolled back")
		}},
		{"AcceptManyRefusesBadInput", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			noReceipt := acceptFor("msg_2", "bob", 1, true)
			noReceipt.Receipt = nil
			noTimeline := acceptFor("msg_2", "bob", 1, true)
			noTimeline.Timeline = nil
			noUser := acceptFor("msg_2", "bob", 1, true)
			noUser.Timeline.UserID = ""
			noKind := acceptFor("msg_2", "bob", 1, true)
			noKind.Timeline.Kind = ""
			noPingUser := acceptFor("msg_2", "bob", 1, true)
			noPingUser.Ping.UserID = ""
			for name, bad := range map[string]store.WebhookAcceptParams{
				"Receipt missing": noReceipt, "Timeline missing": noTimeline, "timeline UserID missing": noUser,
				"timeline Kind missing": noKind, "ping UserID missing": noPingUser,
			} {
				accepts := []store.WebhookAcceptParams{acceptFor("msg_1", "ann", 1, true), bad}
				err := s.WebhookAcceptMany(ctx, accepts)
				require.Error(t, err, name)
				require.NotErrorIs(t, err, store.ErrConflict, name)
				err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.WebhookAcceptMany(ctx, accepts) })
				require.Error(t, err, name)
				require.NotErrorIs(t, err, store.ErrConflict, name)
			}
			got, err := s.WebhookReceiptGetMany(ctx, []string{"msg_1", "msg_2"})
			require.NoError(t, err)
			require.Empty(t, got, "nothing written")
			events, err := s.TimelineAfter(ctx, store.TimelineAfterParams{})
			require.NoError(t, err)
			require.Empty(t, events)
			requireOutboxCount(t, s, 0)
		}},
		{"LockManyOverlappingOrders", testLockManyOverlappingOrders},
	})
}

// decideStep is one upsert of a DecideAndWriteMatchesUpsert case.
type decideStep struct {
	user, data     string
	updatedAt, now time.Duration
	want           store.ProfileUpsertStatus
	zeroUpdatedAt  bool
}

func (st decideStep) params() store.ProfileUpsertParams {
	p := store.ProfileUpsertParams{UserID: st.user, Data: json.RawMessage(st.data), UpdatedAt: at(st.updatedAt), Now: at(st.now)}
	if st.zeroUpdatedAt {
		p.UpdatedAt = time.Time{}
	}
	return p
}

// testDecideAndWriteMatchesUpsert runs each case's batch as the webhook
// intake does (ProfileLockMany, ProfileDecide per webhook, one
// ProfileWriteMany) on batched, and the same upserts one by one with
// ProfileUpsert on upserted, and wants the same statuses, rows and stored
// rows from both.
func testDecideAndWriteMatchesUpsert(t *testing.T, batched, upserted store.Store) {
	ctx := ctxFor(t)
	cases := []struct {
		name  string
		seed  []decideStep
		batch []decideStep
	}{
		{"Create", nil, []decideStep{{user: "u1", data: `{"n":1}`, updatedAt: -time.Minute, now: 0, want: store.ProfileCreated}}},
		{"CreateZeroUpdatedAt", nil, []decideStep{{user: "u2", data: `{"n":1}`, now: time.Second, zeroUpdatedAt: true, want: store.ProfileCreated}}},
		{"Update",
			[]decideStep{{user: "u3", data: `{"n":1}`}},
			[]decideStep{{user: "u3", data: `{"n":2}`, updatedAt: time.Hour, now: 2 * time.Hour, want: store.ProfileUpdated}}},
		{"UnchangedSameTime",
			[]decideStep{{user: "u4", data: `{"n":1}`}},
			[]decideStep{{user: "u4", data: `{"n":1}`, updatedAt: 0, now: time.Hour, want: store.ProfileUnchanged}}},
		{"UnchangedLaterTime",
			[]decideStep{{user: "u5", data: `{"n":1}`}},
			[]decideStep{{user: "u5", data: `{"n":1}`, updatedAt: time.Hour, now: 2 * time.Hour, want: store.ProfileUnchanged}}},
		{"Stale",
			[]decideStep{{user: "u6", data: `{"n":1}`, updatedAt: time.Hour, now: time.Hour}},
			[]decideStep{{user: "u6", data: `{"n":2}`, updatedAt: time.Hour - time.Microsecond, now: 2 * time.Hour, want: store.ProfileStale}}},
		{"SameUserTwiceCreated", nil, []decideStep{
			{user: "u7", data: `{"n":1}`, updatedAt: 0, now: 0, want: store.ProfileCreated},
			{user: "u7", data: `{"n":2}`, updatedAt: time.Second, now: time.Second, want: store.ProfileUpdated},
		}},
		{"SameUserTwiceUpdated",
			[]decideStep{{user: "u8", data: `{"n":1}`}},
			[]decideStep{
				{user: "u8", data: `{"n":2}`, updatedAt: time.Second, now: time.Second, want: store.ProfileUpdated},
				{user: "u8", data: `{"n":1}`, updatedAt: time.Millisecond, now: time.Second, want: store.ProfileStale},
				{user: "u8", data: `{"n":2}`, updatedAt: time.Minute, now: time.Minute, want: store.ProfileUnchanged},
				{user: "u8", data: `{"n":3}`, updatedAt: time.Minute, now: time.Hour, want: store.ProfileUpdated},
			}},
		{"SameUserTwiceUnchanged",
			[]decideStep{{user: "u9", data: `{"n":1}`}},
			[]decideStep{
				{user: "u9", data: `{"n":1}`, updatedAt: 0, now: time.Second, want: store.ProfileUnchanged},
				{user: "u9", data: `{"n":1}`, updatedAt: -time.Second, now: time.Second, want: store.ProfileStale},
			}},
		{"SeveralUsers",
			[]decideStep{{user: "v2", data: `{"n":1}`}, {user: "v3", data: `{"n":1}`, updatedAt: time.Hour}},
			[]decideStep{
				{user: "v3", data: `{"n":2}`, updatedAt: time.Minute, now: time.Hour, want: store.ProfileStale},
				{user: "v1", data: `{"n":1}`, updatedAt: time.Second, now: time.Second, want: store.ProfileCreated},
				{user: "v2", data: `{"n":2}`, updatedAt: time.Second, now: time.Second, want: store.ProfileUpdated},
				{user: "v1", data: `{"n":1}`, updatedAt: time.Minute, now: time.Minute, want: store.ProfileUnchanged},
			}},
	}
	for _, tc := range cases {
		for _, st := range tc.seed {
			for _, s := range []store.Store{batched, upserted} {
				_, _, err := s.ProfileUpsert(ctx, st.params())
				require.NoError(t, err, "%s: seed", tc.name)
			}
		}

		var users []string
		for _, st := range tc.batch {
			users = append(users, st.user)
		}
		var (
			decided  []*store.Profile
			statuses []store.ProfileUpsertStatus
		)
		require.NoError(t, batched.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			locked, err := tx.ProfileLockMany(ctx, users)
			if err != nil {
				return err
			}
			cur := make(map[string]*store.Profile, len(locked))
			for id, p := range locked {
				cur[id] = p
			}
			// The last decision per user is written, in first-seen order.
			next := map[string]*store.Profile{}
			var order []string
			for _, st := range tc.batch {
				p, status, write := store.ProfileDecide(cur[st.user], st.params())
				decided, statuses = append(decided, p), append(statuses, status)
				cur[st.user] = p
				if write {
					if _, seen := next[st.user]; !seen {
						order = append(order, st.user)
					}
					next[st.user] = p
				}
			}
			writes := make([]store.ProfileWrite, 0, len(order))
			for _, id := range order {
				writes = append(writes, store.ProfileWrite{Prev: locked[id], Next: next[id]})
			}
			return tx.ProfileWriteMany(ctx, writes)
		}), tc.name)

		for i, st := range tc.batch {
			p, status, err := upserted.ProfileUpsert(ctx, st.params())
			require.NoError(t, err, "%s: upsert %d", tc.name, i)
			require.Equal(t, st.want, status, "%s: upsert %d", tc.name, i)
			require.Equal(t, status, statuses[i], "%s: decision %d", tc.name, i)
			requireProfile(t, p, decided[i])
		}
		for _, id := range users {
			want, err := upserted.ProfileGet(ctx, id)
			require.NoError(t, err, tc.name)
			got, err := batched.ProfileGet(ctx, id)
			require.NoError(t, err, tc.name)
			requireProfile(t, want, got)
		}
	}
}

// testLockManyOverlappingOrders has two writers lock overlapping sets of
// users, listed in opposite orders, and bump every locked profile's
// version, many times over. Locking in user id order means neither ever
// waits for a row the other holds while holding one it wants (PostgreSQL
// would abort one with a deadlock), and the lock held from read to write
// means no bump is lost and no write conflicts.
func testLockManyOverlappingOrders(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	all := []string{"a", "b", "c", "d", "e", "f"}
	for _, id := range all {
		upsertProfile(t, s, id, `{"n":0}`, at(0), at(0))
	}
	sets := [][]string{{"a", "b", "c", "d", "e"}, {"f", "e", "d", "c", "b"}}
	const rounds = 25

	start := make(chan struct{})
	errs := make(chan error, len(sets))
	for w, set := range sets {
		go func() {
			<-start
			for r := range rounds {
				err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					locked, err := tx.ProfileLockMany(ctx, set)
					if err != nil {
						return err
					}
					writes := make([]store.ProfileWrite, 0, len(set))
					for _, id := range set {
						prev := locked[id]
						if prev == nil {
							return fmt.Errorf("%s not locked", id)
						}
						next, status, write := store.ProfileDecide(prev, store.ProfileUpsertParams{
							UserID: id, Data: json.RawMessage(fmt.Sprintf(`{"w":%d,"r":%d}`, w, r)),
							UpdatedAt: prev.UpdatedAt, Now: at(time.Second),
						})
						if status != store.ProfileUpdated || !write {
							return fmt.Errorf("%s: decided %s", id, status)
						}
						writes = append(writes, store.ProfileWrite{Prev: prev, Next: next})
					}
					return tx.ProfileWriteMany(ctx, writes)
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d, round %d: %w", w, r, err)
					return
				}
			}
			errs <- nil
		}()
	}
	close(start)
	for range sets {
		require.NoError(t, receive(t, errs, "a writer's end"))
	}
	got, err := s.ProfileGetMany(ctx, all)
	require.NoError(t, err)
	for _, id := range all {
		want := int64(1)
		for _, set := range sets {
			for _, u := range set {
				if u == id {
					want += rounds
				}
			}
		}
		require.Equal(t, want, got[id].Version, "%s: every bump kept", id)
	}
}

// newProfileRow is a row to create, as ProfileDecide makes one.
func newProfileRow(userID string, version int64, data string, now time.Time) *store.Profile {
	return &store.Profile{UserID: userID, Version: version, Data: json.RawMessage(data), UpdatedAt: now, CreatedAt: now, ModifiedAt: now}
}

// requireRolledBack asserts that the failed transaction of a WriteMany
// conflict case left ann as she was and wrote neither bob nor his event.
func requireRolledBack(t *testing.T, s store.Store, ann *store.Profile) {
	t.Helper()
	ctx := ctxFor(t)
	got, err := s.ProfileGetMany(ctx, []string{"ann", "bob"})
	require.NoError(t, err)
	require.Equal(t, []string{"ann"}, sortedKeys(got), "bob's row rolled back")
	requireProfile(t, ann, got["ann"])
	events, err := s.TimelineList(ctx, store.TimelineListParams{UserID: "bob"})
	require.NoError(t, err)
	require.Empty(t, events, "the transaction's event rolled back")
}

// acceptFor is an accepted webhook of userID at version, with its ping
// (leased to r1 for a minute) when ping is set.
func acceptFor(id, userID string, version int64, ping bool) store.WebhookAcceptParams {
	detail := json.RawMessage(fmt.Sprintf(`{"version":%d}`, version))
	a := store.WebhookAcceptParams{
		Receipt:  &store.WebhookReceipt{ID: id, StatusCode: 202, Body: detail, CreatedAt: at(time.Duration(version) * time.Second)},
		Timeline: &store.TimelineEvent{UserID: userID, Kind: "webhook.accepted", Detail: detail, At: at(time.Duration(version) * time.Second)},
	}
	if ping {
		a.Ping = &store.PingOutboxPutParams{UserID: userID, Version: version, Owner: "r1", LeaseUntil: at(time.Minute)}
	}
	return a
}
