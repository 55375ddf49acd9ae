package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testHub(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"PullURL", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			_, err := s.PullURLGet(ctx, "net.example")
			require.ErrorIs(t, err, store.ErrNotFound)

			require.NoError(t, s.PullURLSet(ctx, &store.PullURL{Network: "net.example", Template: "https://a.example/pull/{id}?x=1", UpdatedAt: at(0)}))
			got, err := s.PullURLGet(ctx, "net.example")
			require.NoError(t, err)
			require.Equal(t, "net.example", got.Network)
			require.Equal(t, "https://a.example/pull/{id}?x=1", got.Template)
			require.Empty(t, got.AffiliationURL)
			requireTime(t, at(0), got.UpdatedAt)

			require.NoError(t, s.PullURLSet(ctx, &store.PullURL{Network: "net.example", Template: "https://b.example/{id}", AffiliationURL: "https://b.example/aff", UpdatedAt: at(time.Minute)}))
			got, err = s.PullURLGet(ctx, "net.example")
			require.NoError(t, err)
			require.Equal(t, "https://b.example/{id}", got.Template)
			require.Equal(t, "https://b.example/aff", got.AffiliationURL)
			requireTime(t, at(time.Minute), got.UpdatedAt)

			// Affiliation-only registration keeps the template.
			require.NoError(t, s.PullURLSet(ctx, &store.PullURL{Network: "net.example", AffiliationURL: "https://c.example/aff", UpdatedAt: at(2 * time.Minute)}))
			got, err = s.PullURLGet(ctx, "net.example")
			require.NoError(t, err)
			require.Equal(t, "https://b.example/{id}", got.Template)
			require.Equal(t, "https://c.example/aff", got.AffiliationURL)

			_, err = s.PullURLGet(ctx, "other.example")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"AppSessionRevocation", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			got, err := s.AppSessionValidAfter(ctx, "n", "ann")
			require.NoError(t, err)
			require.True(t, got.IsZero(), "never logged out")

			stored, err := s.AppSessionRevoke(ctx, "n", "ann", at(time.Minute+123456*time.Nanosecond))
			require.NoError(t, err)
			requireTime(t, at(time.Minute+123*time.Microsecond), stored)
			got, err = s.AppSessionValidAfter(ctx, "n", "ann")
			require.NoError(t, err)
			requireTime(t, at(time.Minute+123*time.Microsecond), got)

			// It never moves back: a late delivery of an older logout keeps
			// the later instant.
			stored, err = s.AppSessionRevoke(ctx, "n", "ann", at(0))
			require.NoError(t, err)
			requireTime(t, at(time.Minute+123*time.Microsecond), stored)
			stored, err = s.AppSessionRevoke(ctx, "n", "ann", at(time.Hour))
			require.NoError(t, err)
			requireTime(t, at(time.Hour), stored)

			// Per network and user.
			for _, k := range [][2]string{{"n", "bob"}, {"m", "ann"}, {"n", "Ann"}} {
				got, err := s.AppSessionValidAfter(ctx, k[0], k[1])
				require.NoError(t, err)
				require.True(t, got.IsZero(), k)
			}

			// Inside a transaction, and rolled back with it.
			rollback := errors.New("rollback")
			err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.AppSessionRevoke(ctx, "n", "bob", at(time.Minute)); err != nil {
					return err
				}
				got, err := tx.AppSessionValidAfter(ctx, "n", "bob")
				require.NoError(t, err)
				requireTime(t, at(time.Minute), got)
				return rollback
			})
			require.ErrorIs(t, err, rollback)
			got, err = s.AppSessionValidAfter(ctx, "n", "bob")
			require.NoError(t, err)
			require.True(t, got.IsZero())

			_, err = s.AppSessionRevoke(ctx, "", "bob", at(0))
			require.Error(t, err)
			_, err = s.AppSessionRevoke(ctx, "n", "bob", time.Time{})
			require.Error(t, err)
		}},
		{"TouchCreatesPending", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			p, err := s.RemoteProfileTouch(ctx, store.RemoteProfileTouchParams{Network: "n", UserID: "ann", DisplayName: "Ann", At: at(0)})
			require.NoError(t, err)
			require.Equal(t, "n", p.Network)
			require.Equal(t, "ann", p.UserID)
			require.Equal(t, store.RemoteProfilePending, p.Status)
			require.Empty(t, p.Data)
			require.Equal(t, "Ann", p.DisplayName)
			require.Equal(t, int64(1), p.PingSeq)
			require.Zero(t, p.PulledSeq)
			requireTime(t, at(0), p.PingReceivedAt)
			requireTime(t, at(0), p.FirstSeenAt)
			requireTime(t, time.Time{}, p.LastPullAt)

			got, err := s.RemoteProfileGet(ctx, "n", "ann")
			require.NoError(t, err)
			requireRemoteProfile(t, p, got)
		}},
		{"PingIsTouchWithoutTheRow", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			seq, err := s.RemoteProfilePing(ctx, store.RemoteProfileTouchParams{Network: "n", UserID: "ann", DisplayName: "Ann", At: at(0), PullLeaseUntil: at(time.Second)})
			require.NoError(t, err)
			require.Equal(t, int64(1), seq, "a new row, pending")
			p := touch(t, s, "n", "ann", at(time.Minute))
			require.Equal(t, int64(2), p.PingSeq, "pings and touches count alike")
			seq, err = s.RemoteProfilePing(ctx, store.RemoteProfileTouchParams{Network: "n", UserID: "ann", DisplayName: "Other", At: at(2 * time.Minute)})
			require.NoError(t, err)
			require.Equal(t, int64(3), seq)
			got, err := s.RemoteProfileGet(ctx, "n", "ann")
			require.NoError(t, err)
			require.Equal(t, store.RemoteProfilePending, got.Status)
			require.Equal(t, "Ann", got.DisplayName, "display name only seeds a new row")
			require.Equal(t, int64(3), got.PingSeq)
			requireTime(t, at(0), got.PingReceivedAt, "the oldest unanswered ping")
			requireTime(t, at(0), got.FirstSeenAt)
			_, err = s.RemoteProfilePing(ctx, store.RemoteProfileTouchParams{Network: "n", At: at(0)})
			require.Error(t, err, "a user is required")
		}},
		{"PingManyIsPingsInOrder", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			// The same pings go to network "many" in one call and to
			// network "one" one RemoteProfilePing at a time: the answers
			// and the rows must agree.
			for _, network := range []string{"many", "one"} {
				_, err := s.RemoteProfilePing(ctx, store.RemoteProfileTouchParams{Network: network, UserID: "old", DisplayName: "Old", At: at(0), PullLeaseUntil: at(time.Minute)})
				require.NoError(t, err)
				_, err = s.RemoteProfilePing(ctx, store.RemoteProfileTouchParams{Network: network, UserID: "answered", DisplayName: "Answered", At: at(0)})
				require.NoError(t, err)
				// Its ping answered: no ping waits, PingReceivedAt is cleared.
				_, _, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
					Network: network, UserID: "answered", Seq: 1, At: at(time.Second), Status: store.RemoteProfileOK,
					Data: json.RawMessage(`{"id":"answered"}`), DisplayName: "Answered", Result: "ok",
				})
				require.NoError(t, err)
			}
			pings := func(network string) []store.RemoteProfileTouchParams {
				return []store.RemoteProfileTouchParams{
					{Network: network, UserID: "old", DisplayName: "X", At: at(time.Minute), PullLeaseUntil: at(time.Hour)},
					{Network: network, UserID: "new", DisplayName: "New", At: at(2 * time.Minute), PullLeaseUntil: at(2 * time.Hour)},
					{Network: network, UserID: "old", DisplayName: "Y", At: at(3 * time.Minute), PullLeaseUntil: at(30 * time.Minute)},
					{Network: network, UserID: "answered", At: at(4 * time.Minute)},
					{Network: network, UserID: "new", DisplayName: "Z", At: at(5 * time.Minute)},
					{Network: network, UserID: "old", At: at(6 * time.Minute), PullLeaseUntil: at(20 * time.Minute)},
					{Network: network, UserID: "answered", At: at(7 * time.Minute), PullLeaseUntil: at(3 * time.Hour)},
				}
			}
			want := []int64{2, 1, 3, 2, 2, 4, 3}

			got, err := s.RemoteProfilePingMany(ctx, pings("many"))
			require.NoError(t, err)
			require.Equal(t, want, got, "each ping its own seq, one user's pings consecutive in input order")
			var one []int64
			for _, p := range pings("one") {
				seq, err := s.RemoteProfilePing(ctx, p)
				require.NoError(t, err)
				one = append(one, seq)
			}
			require.Equal(t, one, got, "as RemoteProfilePing one after the other")

			for _, userID := range []string{"old", "new", "answered"} {
				many, err := s.RemoteProfileGet(ctx, "many", userID)
				require.NoError(t, err)
				one, err := s.RemoteProfileGet(ctx, "one", userID)
				require.NoError(t, err)
				one.Network = "many"
				requireRemoteProfile(t, one, many)
			}
			old, err := s.RemoteProfileGet(ctx, "many", "old")
			require.NoError(t, err)
			require.Equal(t, int64(4), old.PingSeq)
			require.Equal(t, "Old", old.DisplayName, "display name only seeds a new row")
			requireTime(t, at(0), old.PingReceivedAt, "the first ping ever still waits")
			requireTime(t, at(0), old.FirstSeenAt)
			created, err := s.RemoteProfileGet(ctx, "many", "new")
			require.NoError(t, err)
			require.Equal(t, store.RemoteProfilePending, created.Status)
			require.Equal(t, "New", created.DisplayName, "the first ping seeds the new row")
			require.Equal(t, int64(2), created.PingSeq)
			requireTime(t, at(2*time.Minute), created.PingReceivedAt)
			requireTime(t, at(2*time.Minute), created.FirstSeenAt)
			answered, err := s.RemoteProfileGet(ctx, "many", "answered")
			require.NoError(t, err)
			require.Equal(t, int64(3), answered.PingSeq)
			require.Equal(t, int64(1), answered.PulledSeq)
			requireTime(t, at(4*time.Minute), answered.PingReceivedAt, "the first ping since the answer")

			// The pull lease is the last ping's, not the longest: "new"'s
			// last ping had none (claimable at once), "old"'s ends at 20
			// minutes, "answered"'s at 3 hours.
			claim := func(now time.Time) []store.RemoteProfilePullClaim {
				t.Helper()
				got, err := s.RemoteProfileClaimPulls(ctx, store.RemoteProfileClaimParams{Now: now, LeaseUntil: at(24 * time.Hour), Limit: 10})
				require.NoError(t, err)
				return got
			}
			require.ElementsMatch(t, []store.RemoteProfilePullClaim{
				{Network: "many", UserID: "new", PingSeq: 2}, {Network: "one", UserID: "new", PingSeq: 2},
			}, claim(at(20*time.Minute-time.Microsecond)))
			require.ElementsMatch(t, []store.RemoteProfilePullClaim{
				{Network: "many", UserID: "old", PingSeq: 4}, {Network: "one", UserID: "old", PingSeq: 4},
			}, claim(at(20*time.Minute)))
			require.Empty(t, claim(at(3*time.Hour-time.Microsecond)))
			require.ElementsMatch(t, []store.RemoteProfilePullClaim{
				{Network: "many", UserID: "answered", PingSeq: 3}, {Network: "one", UserID: "answered", PingSeq: 3},
			}, claim(at(3*time.Hour)))
		}},
		{"PingManyInTxAndBadInput", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			got, err := s.RemoteProfilePingMany(ctx, nil)
			require.NoError(t, err)
			require.Empty(t, got)

			for name, bad := range map[string]store.RemoteProfileTouchParams{
				"no user":    {Network: "n", At: at(0)},
				"no network": {UserID: "bob", At: at(0)},
			} {
				_, err := s.RemoteProfilePingMany(ctx, []store.RemoteProfileTouchParams{{Network: "n", UserID: "ann", At: at(0)}, bad})
				require.Error(t, err, name)
			}
			_, err = s.RemoteProfileGet(ctx, "n", "ann")
			require.ErrorIs(t, err, store.ErrNotFound, "a refused call writes nothing")

			// In a transaction, and rolled back with it.
			rollback := errors.New("rollback")
			err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.RemoteProfilePingMany(ctx, []store.RemoteProfileTouchParams{
					{Network: "n", UserID: "bob", At: at(0)}, {Network: "n", UserID: "ann", At: at(0)}, {Network: "n", UserID: "bob", At: at(time.Second)},
				})
				require.NoError(t, err)
				require.Equal(t, []int64{1, 1, 2}, got)
				seq, err := tx.RemoteProfilePingSeqForUpdate(ctx, "n", "bob")
				require.NoError(t, err)
				require.Equal(t, int64(2), seq)
				return rollback
			})
			require.ErrorIs(t, err, rollback)
			_, err = s.RemoteProfileGet(ctx, "n", "bob")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"TouchIncrements", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			p, err := s.RemoteProfileTouch(ctx, store.RemoteProfileTouchParams{Network: "n", UserID: "ann", DisplayName: "Other", At: at(time.Minute)})
			require.NoError(t, err)
			require.Equal(t, int64(2), p.PingSeq)
			requireTime(t, at(0), p.PingReceivedAt, "the oldest unanswered ping")
			requireTime(t, at(0), p.FirstSeenAt)
			require.Equal(t, "Ann", p.DisplayName, "display name only seeds a new row")
		}},
		{"GetUnknown", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			_, err := s.RemoteProfileGet(ctx, "n", "ann")
			require.ErrorIs(t, err, store.ErrNotFound)
			touch(t, s, "n", "ann", at(0))
			_, err = s.RemoteProfileGet(ctx, "other", "ann")
			require.ErrorIs(t, err, store.ErrNotFound, "networks are separate")
		}},
		{"PingSeqForUpdate", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			_, err := s.RemoteProfilePingSeqForUpdate(ctx, "n", "ann")
			require.ErrorIs(t, err, store.ErrNotFound)
			touch(t, s, "n", "ann", at(0))
			touch(t, s, "n", "ann", at(0))
			var seq int64
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				seq, err = tx.RemoteProfilePingSeqForUpdate(ctx, "n", "ann")
				return err
			}))
			require.Equal(t, int64(2), seq)
		}},
		{"RecordPull", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			data := json.RawMessage(`{"id":"ann","display_name":"Ann B","image_url":"https://i.example/a.png"}`)
			p, changed, err := s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 1, At: at(time.Second), Status: store.RemoteProfileOK,
				Data: data, DisplayName: "Ann B", AvatarURL: "https://i.example/a.png",
				Changed: []string{"display_name", "image_url"}, Result: "ok",
			})
			require.NoError(t, err)
			require.True(t, changed)
			want := &store.RemoteProfile{
				Network: "n", UserID: "ann", Status: store.RemoteProfileOK, Data: data,
				DisplayName: "Ann B", AvatarURL: "https://i.example/a.png", PingSeq: 1, PulledSeq: 1,
				LastPullAt: at(time.Second), LastPullResult: "ok", LastChanged: []string{"display_name", "image_url"},
				FirstSeenAt: at(0), UpdatedAt: at(time.Second),
			}
			requireRemoteProfile(t, want, p)
			got, err := s.RemoteProfileGet(ctx, "n", "ann")
			require.NoError(t, err)
			requireRemoteProfile(t, want, got)

			// The same data again: no data write.
			touch(t, s, "n", "ann", at(time.Minute))
			p, changed, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 2, At: at(2 * time.Minute), Status: store.RemoteProfileOK,
				Data: data, DisplayName: "Ann B", AvatarURL: "https://i.example/a.png", Result: "unchanged",
			})
			require.NoError(t, err)
			require.False(t, changed)
			require.Equal(t, int64(2), p.PulledSeq)
			requireTime(t, time.Time{}, p.PingReceivedAt)
			requireTime(t, at(2*time.Minute), p.LastPullAt)
			require.Equal(t, "unchanged", p.LastPullResult)
			requireTime(t, at(time.Second), p.UpdatedAt, "UpdatedAt is when Data last changed")
			require.Equal(t, []string{"display_name", "image_url"}, p.LastChanged, "LastChanged describes the last applied change")
		}},
		{"RecordPullWhilePingArrived", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			touch(t, s, "n", "ann", at(time.Second)) // arrives while the pull of seq 1 runs
			p, _, err := s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 1, At: at(2 * time.Second), Status: store.RemoteProfileOK,
				Data: json.RawMessage(`{"id":"ann"}`), Result: "ok",
			})
			require.NoError(t, err)
			require.Equal(t, int64(2), p.PingSeq)
			require.Equal(t, int64(1), p.PulledSeq)
			require.False(t, p.PingReceivedAt.IsZero(), "a ping is still unanswered")

			// An older pull finishing late never moves PulledSeq back.
			p, _, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 2, At: at(3 * time.Second), Status: store.RemoteProfileOK,
				Data: json.RawMessage(`{"id":"ann"}`), Result: "ok",
			})
			require.NoError(t, err)
			require.Equal(t, int64(2), p.PulledSeq)
			requireTime(t, time.Time{}, p.PingReceivedAt)
			p, _, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 1, At: at(4 * time.Second), Status: store.RemoteProfileOK,
				Data: json.RawMessage(`{"id":"ann"}`), Result: "ok",
			})
			require.NoError(t, err)
			require.Equal(t, int64(2), p.PulledSeq)
		}},
		{"RecordPullOlderSeqKeepsNewerData", func(t *testing.T, s store.Store) {
			// Two pulls overlapped (two replicas, or a retry job and a fresh
			// ping): the one that answered the later ping recorded first.
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			touch(t, s, "n", "ann", at(time.Second))
			newer := json.RawMessage(`{"id":"ann","display_name":"Ann 2"}`)
			_, changed, err := s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 2, At: at(2 * time.Second), Status: store.RemoteProfileOK,
				Data: newer, DisplayName: "Ann 2", Result: "ok",
			})
			require.NoError(t, err)
			require.True(t, changed)
			p, changed, err := s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 1, At: at(3 * time.Second), Status: store.RemoteProfileMissing, Result: "missing",
			})
			require.NoError(t, err)
			require.False(t, changed)
			require.Equal(t, store.RemoteProfileOK, p.Status, "an older pull's 404 does not mark the profile missing")
			p, changed, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 1, At: at(4 * time.Second), Status: store.RemoteProfileOK,
				Data: json.RawMessage(`{"id":"ann","display_name":"Ann 1"}`), DisplayName: "Ann 1", Result: "ok",
			})
			require.NoError(t, err)
			require.False(t, changed)
			require.JSONEq(t, string(newer), string(p.Data))
			require.Equal(t, "Ann 2", p.DisplayName)
			require.Equal(t, int64(2), p.PulledSeq)
		}},
		{"RecordPullMissing", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			data := json.RawMessage(`{"id":"ann","display_name":"Ann"}`)
			_, _, err := s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 1, At: at(time.Second), Status: store.RemoteProfileOK, Data: data, DisplayName: "Ann", Result: "ok",
			})
			require.NoError(t, err)
			touch(t, s, "n", "ann", at(time.Minute))
			p, changed, err := s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 2, At: at(2 * time.Minute), Status: store.RemoteProfileMissing, Result: "missing",
			})
			require.NoError(t, err)
			require.False(t, changed)
			require.Equal(t, store.RemoteProfileMissing, p.Status)
			require.JSONEq(t, string(data), string(p.Data), "the last known data stays")
			require.Equal(t, "Ann", p.DisplayName)
			require.Equal(t, int64(2), p.PulledSeq)
			require.Equal(t, "missing", p.LastPullResult)
			requireTime(t, at(2*time.Minute), p.LastPullAt)

			// Found again.
			p, changed, err = s.RemoteProfileRecordPull(ctx, store.RemoteProfilePullParams{
				Network: "n", UserID: "ann", Seq: 2, At: at(3 * time.Minute), Status: store.RemoteProfileOK, Data: data, DisplayName: "Ann", Result: "ok",
			})
			require.NoError(t, err)
			require.False(t, changed, "same data as the last known")
			require.Equal(t, store.RemoteProfileOK, p.Status)
		}},
		{"RecordPullError", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			before := touch(t, s, "n", "ann", at(time.Second))
			require.NoError(t, s.RemoteProfileRecordPullError(ctx, "n", "ann", "error: timeout", at(time.Minute)))
			got, err := s.RemoteProfileGet(ctx, "n", "ann")
			require.NoError(t, err)
			require.Equal(t, "error: timeout", got.LastPullResult)
			requireTime(t, at(time.Minute), got.LastPullAt)
			require.Equal(t, before.PingSeq, got.PingSeq)
			require.Equal(t, before.PulledSeq, got.PulledSeq)
			require.Equal(t, before.Status, got.Status)
			requireTime(t, before.PingReceivedAt, got.PingReceivedAt)
			require.Empty(t, got.Data)
		}},
		{"GetMany", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			touch(t, s, "n", "ann", at(0))
			touch(t, s, "n", "bob", at(0))
			touch(t, s, "other", "carl", at(0))
			got, err := s.RemoteProfileGetMany(ctx, "n", []string{"ann", "carl", "bob", "dora", "ann"})
			require.NoError(t, err)
			require.Equal(t, []string{"ann", "bob"}, sortedKeys(got))
			require.Equal(t, "bob", got["bob"].UserID)
			got, err = s.RemoteProfileGetMany(ctx, "n", nil)
			require.NoError(t, err)
			require.Empty(t, got)
		}},
		{"List", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			for _, id := range []string{"bob", "ann", "Anton", "a_b", "axb", "a%c", "carl"} {
				touch(t, s, "n", id, at(0))
			}
			touch(t, s, "other", "ann2", at(0))

			got, total, err := s.RemoteProfileList(ctx, store.RemoteProfileListParams{Network: "n"})
			require.NoError(t, err)
			require.Equal(t, 7, total)
			require.Equal(t, []string{"Anton", "a%c", "a_b", "ann", "axb", "bob", "carl"}, remoteIDs(got), "byte order of user ids")

			got, total, err = s.RemoteProfileList(ctx, store.RemoteProfileListParams{Network: "n", Offset: 2, Limit: 3})
			require.NoError(t, err)
			require.Equal(t, 7, total)
			require.Equal(t, []string{"a_b", "ann", "axb"}, remoteIDs(got))

			for _, tc := range []struct {
				query string
				want  []string
			}{
				{"a", []string{"a%c", "a_b", "ann", "axb"}},
				{"A", []string{"Anton"}},
				{"a_", []string{"a_b"}},
				{"a%", []string{"a%c"}},
				{"an", []string{"ann"}},
				{"zz", nil},
			} {
				got, total, err := s.RemoteProfileList(ctx, store.RemoteProfileListParams{Network: "n", Query: tc.query})
				require.NoError(t, err, tc.query)
				require.Equal(t, len(tc.want), total, "total for %q", tc.query)
				if tc.want == nil {
					require.Empty(t, got, tc.query)
				} else {
					require.Equal(t, tc.want, remoteIDs(got), "query %q", tc.query)
				}
			}
			got, total, err = s.RemoteProfileList(ctx, store.RemoteProfileListParams{Network: "n", Query: "a", Offset: 3})
			require.NoError(t, err)
			require.Equal(t, 4, total)
			require.Equal(t, []string{"axb"}, remoteIDs(got))
		}},
		{"ListLimits", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for i := range 1001 {
					if _, err := tx.RemoteProfileTouch(ctx, store.RemoteProfileTouchParams{Network: "n", UserID: fmt.Sprintf("u%04d", i), At: at(0)}); err != nil {
						return err
					}
				}
				return nil
			}))
			got, total, err := s.RemoteProfileList(ctx, store.RemoteProfileListParams{Network: "n"})
			require.NoError(t, err)
			require.Equal(t, 1001, total)
			require.Len(t, got, 50, "default limit")
			got, _, err = s.RemoteProfileList(ctx, store.RemoteProfileListParams{Network: "n", Limit: 5000})
			require.NoError(t, err)
			require.Len(t, got, 1000, "maximum limit")
		}},
		{"ConcurrentTouches", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			const n = 40
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					_, err := s.RemoteProfileTouch(ctx, store.RemoteProfileTouchParams{Network: "n", UserID: "ann", At: at(0)})
					assertNoError(t, err)
				})
			}
			wg.Wait()
			p, err := s.RemoteProfileGet(ctx, "n", "ann")
			require.NoError(t, err)
			require.Equal(t, int64(n), p.PingSeq, "no touch lost")
		}},
		{"Comments", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			var ids []int64
			for i, body := range []string{"first", "second", "third"} {
				c, err := s.CommentCreate(ctx, &store.Comment{Network: "n", ArticleID: "a1", UserID: "ann", Body: body, CreatedAt: at(time.Duration(i) * time.Second)})
				require.NoError(t, err)
				require.Positive(t, c.ID)
				require.False(t, c.CreatedAt.IsZero())
				ids = append(ids, c.ID)
			}
			_, err := s.CommentCreate(ctx, &store.Comment{Network: "n", ArticleID: "a2", UserID: "bob", Body: "elsewhere", CreatedAt: at(0)})
			require.NoError(t, err)
			_, err = s.CommentCreate(ctx, &store.Comment{Network: "other", ArticleID: "a1", UserID: "bob", Body: "other network", CreatedAt: at(0)})
			require.NoError(t, err)

			got, err := s.CommentList(ctx, store.CommentListParams{Network: "n", ArticleID: "a1"})
			require.NoError(t, err)
			require.Len(t, got, 3)
			require.Equal(t, []string{"first", "second", "third"}, []string{got[0].Body, got[1].Body, got[2].Body}, "oldest first")
			require.Equal(t, ids[0], got[0].ID)
			require.Equal(t, "ann", got[0].UserID)
			require.Equal(t, "n", got[0].Network)
			require.Equal(t, "a1", got[0].ArticleID)

			got, err = s.CommentList(ctx, store.CommentListParams{Network: "n", ArticleID: "a1", AfterID: ids[0], Limit: 1})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, ids[1], got[0].ID)

			got, err = s.CommentList(ctx, store.CommentListParams{Network: "n", ArticleID: "none"})
			require.NoError(t, err)
			require.Empty(t, got)
		}},
		{"CommentsDefaultLimit", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for range 101 {
					if _, err := tx.CommentCreate(ctx, &store.Comment{Network: "n", ArticleID: "a", UserID: "ann", Body: "x", CreatedAt: at(0)}); err != nil {
						return err
					}
				}
				return nil
			}))
			got, err := s.CommentList(ctx, store.CommentListParams{Network: "n", ArticleID: "a"})
			require.NoError(t, err)
			require.Len(t, got, 100)
		}},
	})
}

func touch(t *testing.T, s store.Queries, network, userID string, when time.Time) *store.RemoteProfile {
	t.Helper()
	p, err := s.RemoteProfileTouch(ctxFor(t), store.RemoteProfileTouchParams{Network: network, UserID: userID, DisplayName: "Ann", At: when})
	require.NoError(t, err)
	return p
}

func requireRemoteProfile(t *testing.T, want, got *store.RemoteProfile) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, want.Network, got.Network)
	require.Equal(t, want.UserID, got.UserID)
	require.Equal(t, want.Status, got.Status)
	if len(want.Data) == 0 {
		require.Empty(t, got.Data)
	} else {
		require.JSONEq(t, string(want.Data), string(got.Data))
	}
	require.Equal(t, want.DisplayName, got.DisplayName)
	require.Equal(t, want.AvatarURL, got.AvatarURL)
	require.Equal(t, want.PingSeq, got.PingSeq)
	require.Equal(t, want.PulledSeq, got.PulledSeq)
	requireTime(t, want.PingReceivedAt, got.PingReceivedAt, "PingReceivedAt")
	requireTime(t, want.LastPullAt, got.LastPullAt, "LastPullAt")
	require.Equal(t, want.LastPullResult, got.LastPullResult)
	if len(want.LastChanged) == 0 {
		require.Empty(t, got.LastChanged)
	} else {
		require.Equal(t, want.LastChanged, got.LastChanged)
	}
	requireTime(t, want.FirstSeenAt, got.FirstSeenAt, "FirstSeenAt")
	requireTime(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt")
}

func remoteIDs(ps []*store.RemoteProfile) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.UserID
	}
	return ids
}
