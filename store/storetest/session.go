package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func testSession(t *testing.T, newStore NewStoreFunc) {
	runCases(t, newStore, []testCase{
		{"CreateGet", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			want := newSession("s1", "ann")
			want.RefreshTokenEnc = []byte{0, 1, 2, 255}
			want.AccessTokenExpiresAt = at(5 * time.Minute)
			want.IDTokenHint = "eyJ.hint"
			require.NoError(t, s.SessionCreate(ctx, want))
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			requireSession(t, want, got)
			require.True(t, got.Active(at(time.Minute)))
		}},
		{"CreateMinimal", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			want := &store.Session{ID: "s1", UserID: "ann", CreatedAt: at(0), LastSeenAt: at(0), IdleExpires: at(time.Hour), AbsExpires: at(time.Hour)}
			require.NoError(t, s.SessionCreate(ctx, want))
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			requireSession(t, want, got)
		}},
		{"GetUnknown", func(t *testing.T, s store.Store) {
			_, err := s.SessionGet(ctxFor(t), "nope")
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Conflict", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.SessionCreate(ctx, newSession("s1", "ann")))
			require.ErrorIs(t, s.SessionCreate(ctx, newSession("s1", "bob")), store.ErrConflict)
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			require.Equal(t, "ann", got.UserID)
		}},
		{"Touch", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.SessionCreate(ctx, newSession("s1", "ann")))
			require.NoError(t, s.SessionTouch(ctx, store.SessionTouchParams{ID: "s1", LastSeenAt: at(time.Minute), IdleExpires: at(2 * time.Hour)}))
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			requireTime(t, at(time.Minute), got.LastSeenAt)
			requireTime(t, at(2*time.Hour), got.IdleExpires)
			requireTime(t, at(24*time.Hour), got.AbsExpires, "absolute expiry never moves")
		}},
		{"TouchEndedChangesNothing", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.SessionCreate(ctx, newSession("s1", "ann")))
			_, err := s.SessionEnd(ctx, store.SessionEndParams{ID: "s1", Reason: "logout", At: at(time.Second)})
			require.NoError(t, err)
			// Whether it reports an error is the backend's choice; the row must
			// not come back to life.
			_ = s.SessionTouch(ctx, store.SessionTouchParams{ID: "s1", LastSeenAt: at(time.Minute), IdleExpires: at(2 * time.Hour)})
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			requireTime(t, at(0), got.LastSeenAt)
			requireTime(t, at(time.Hour), got.IdleExpires)
			requireTime(t, at(time.Second), got.EndedAt)
			require.False(t, got.Active(at(time.Minute)))
		}},
		{"Refresh", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			sess := newSession("s1", "ann")
			sess.RefreshTokenEnc = []byte("old")
			sess.IDTokenHint = "hint1"
			require.NoError(t, s.SessionCreate(ctx, sess))

			require.NoError(t, s.SessionRefresh(ctx, store.SessionRefreshParams{ID: "s1", RefreshTokenEnc: []byte("new"), AccessTokenExpiresAt: at(10 * time.Minute)}))
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			require.Equal(t, []byte("new"), got.RefreshTokenEnc)
			requireTime(t, at(10*time.Minute), got.AccessTokenExpiresAt)
			require.Equal(t, "hint1", got.IDTokenHint, "empty IDTokenHint keeps the stored one")

			require.NoError(t, s.SessionRefresh(ctx, store.SessionRefreshParams{ID: "s1", RefreshTokenEnc: []byte("newer"), AccessTokenExpiresAt: at(20 * time.Minute), IDTokenHint: "hint2"}))
			got, err = s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			require.Equal(t, []byte("newer"), got.RefreshTokenEnc)
			requireTime(t, at(20*time.Minute), got.AccessTokenExpiresAt)
			require.Equal(t, "hint2", got.IDTokenHint)
		}},
		{"EndByID", func(t *testing.T, s store.Store) {
			createSessions(t, s)
			ended := endSessions(t, s, store.SessionEndParams{ID: "s2", Reason: "logout", At: at(time.Minute)})
			require.Equal(t, []string{"s2"}, sessionIDs(ended))
			requireActive(t, s, map[string]bool{"s1": true, "s2": false, "s3": true, "s4": true})
		}},
		{"EndByUser", func(t *testing.T, s store.Store) {
			createSessions(t, s)
			ended := endSessions(t, s, store.SessionEndParams{UserID: "ann", Reason: "refresh_refused", At: at(time.Minute)})
			require.Equal(t, []string{"s1", "s2"}, sessionIDs(ended))
			requireActive(t, s, map[string]bool{"s1": false, "s2": false, "s3": true, "s4": true})
		}},
		{"EndBySID", func(t *testing.T, s store.Store) {
			createSessions(t, s)
			ended := endSessions(t, s, store.SessionEndParams{ProviderSID: "sid-a", Reason: "backchannel", At: at(time.Minute)})
			require.Equal(t, []string{"s1", "s3"}, sessionIDs(ended))
			requireActive(t, s, map[string]bool{"s1": false, "s2": true, "s3": false, "s4": true})
		}},
		{"EndBySubject", func(t *testing.T, s store.Store) {
			createSessions(t, s)
			ended := endSessions(t, s, store.SessionEndParams{ProviderSubject: "sub-bob", Reason: "backchannel", At: at(time.Minute)})
			require.Equal(t, []string{"s3", "s4"}, sessionIDs(ended))
			requireActive(t, s, map[string]bool{"s1": true, "s2": true, "s3": false, "s4": false})
		}},
		{"EndReturnsSessionsWithEndSet", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			want := newSession("s1", "ann")
			want.RefreshTokenEnc = []byte("rt")
			require.NoError(t, s.SessionCreate(ctx, want))
			ended := endSessions(t, s, store.SessionEndParams{ID: "s1", Reason: "logout", At: at(time.Minute)})
			require.Len(t, ended, 1)
			want.EndedAt = at(time.Minute)
			want.EndReason = "logout"
			requireSession(t, want, ended[0])
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			requireSession(t, want, got)
		}},
		{"EndSkipsEnded", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			createSessions(t, s)
			endSessions(t, s, store.SessionEndParams{ID: "s1", Reason: "logout", At: at(time.Minute)})
			ended := endSessions(t, s, store.SessionEndParams{UserID: "ann", Reason: "backchannel", At: at(2 * time.Minute)})
			require.Equal(t, []string{"s2"}, sessionIDs(ended))
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			require.Equal(t, "logout", got.EndReason, "the first end stays")
			requireTime(t, at(time.Minute), got.EndedAt)
		}},
		{"EndNoMatch", func(t *testing.T, s store.Store) {
			createSessions(t, s)
			ended := endSessions(t, s, store.SessionEndParams{UserID: "nobody", Reason: "logout", At: at(time.Minute)})
			require.Empty(t, ended)
		}},
		{"EndWithoutSelectorEndsNothing", func(t *testing.T, s store.Store) {
			createSessions(t, s)
			// An error or an empty result are both fine; ending every session
			// is not.
			ended, _ := s.SessionEnd(ctxFor(t), store.SessionEndParams{Reason: "logout", At: at(time.Minute)})
			require.Empty(t, ended)
			requireActive(t, s, map[string]bool{"s1": true, "s2": true, "s3": true, "s4": true})
		}},
		{"ListByUser", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			createSessions(t, s)
			idle := newSession("s5", "ann")
			idle.IdleExpires = at(time.Minute)
			require.NoError(t, s.SessionCreate(ctx, idle))
			abs := newSession("s6", "ann")
			abs.AbsExpires = at(time.Minute)
			require.NoError(t, s.SessionCreate(ctx, abs))
			endSessions(t, s, store.SessionEndParams{ID: "s2", Reason: "logout", At: at(time.Second)})

			got, err := s.SessionListByUser(ctx, "ann", at(30*time.Second))
			require.NoError(t, err)
			require.Equal(t, []string{"s1", "s5", "s6"}, sessionIDs(got))
			got, err = s.SessionListByUser(ctx, "ann", at(2*time.Minute))
			require.NoError(t, err)
			require.Equal(t, []string{"s1"}, sessionIDs(got))
			requireSession(t, newSessionWith("s1", "ann", "sub-ann", "sid-a"), got[0])
			got, err = s.SessionListByUser(ctx, "nobody", at(0))
			require.NoError(t, err)
			require.Empty(t, got)
		}},
		{"Active", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			require.NoError(t, s.SessionCreate(ctx, newSession("s1", "ann")))
			got, err := s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			require.True(t, got.Active(at(0)))
			require.False(t, got.Active(at(time.Hour)), "idle expiry is exclusive")
			endSessions(t, s, store.SessionEndParams{ID: "s1", Reason: "logout", At: at(time.Second)})
			got, err = s.SessionGet(ctx, "s1")
			require.NoError(t, err)
			require.False(t, got.Active(at(2*time.Second)))
		}},
		{"EndExpired", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			createSessions(t, s) // s1..s4 idle until at(1h), absolute at(24h)
			require.NoError(t, s.SessionTouch(ctx, store.SessionTouchParams{ID: "s2", LastSeenAt: at(50 * time.Minute), IdleExpires: at(2 * time.Hour)}))
			endSessions(t, s, store.SessionEndParams{ID: "s3", Reason: "logout", At: at(time.Minute)})
			short := newSession("s5", "ann")
			short.IdleExpires, short.AbsExpires = at(30*time.Minute), at(30*time.Minute)
			short.RefreshTokenEnc = []byte("sealed")
			require.NoError(t, s.SessionCreate(ctx, short))

			ended, err := s.SessionEndExpired(ctx, store.SessionEndExpiredParams{At: at(59 * time.Minute), Reason: "expired", Limit: 10})
			require.NoError(t, err)
			require.Len(t, ended, 1, "only s5 expired by then")
			require.Equal(t, "s5", ended[0].ID)
			require.Equal(t, []byte("sealed"), ended[0].RefreshTokenEnc, "returned as it was, token included")
			requireTime(t, at(59*time.Minute), ended[0].EndedAt)
			require.Equal(t, "expired", ended[0].EndReason)

			// At 90m s1 and s4 idled out (s2 was touched, s3 ended before);
			// a limit of 1 takes one, the next call the other.
			first, err := s.SessionEndExpired(ctx, store.SessionEndExpiredParams{At: at(90 * time.Minute), Reason: "expired", Limit: 1})
			require.NoError(t, err)
			require.Len(t, first, 1)
			second, err := s.SessionEndExpired(ctx, store.SessionEndExpiredParams{At: at(90 * time.Minute), Reason: "expired", Limit: 10})
			require.NoError(t, err)
			require.Len(t, second, 1)
			require.ElementsMatch(t, []string{"s1", "s4"}, []string{first[0].ID, second[0].ID})
			none, err := s.SessionEndExpired(ctx, store.SessionEndExpiredParams{At: at(90 * time.Minute), Reason: "expired", Limit: 10})
			require.NoError(t, err)
			require.Empty(t, none)
			got, err := s.SessionGet(ctx, "s3")
			require.NoError(t, err)
			require.Equal(t, "logout", got.EndReason, "an ended session keeps its reason")
			got, err = s.SessionGet(ctx, "s2")
			require.NoError(t, err)
			require.True(t, got.EndedAt.IsZero(), "a touched session lives on")
		}},
		{"DeleteEnded", func(t *testing.T, s store.Store) {
			ctx := ctxFor(t)
			createSessions(t, s) // s1..s4 idle until at(1h), absolute at(24h)
			endSessions(t, s, store.SessionEndParams{ID: "s1", Reason: "logout", At: at(time.Minute)})
			endSessions(t, s, store.SessionEndParams{ID: "s2", Reason: "logout", At: at(3 * time.Minute)})
			fresh := newSession("s5", "ann")
			fresh.IdleExpires = at(48 * time.Hour)
			fresh.AbsExpires = at(48 * time.Hour)
			require.NoError(t, s.SessionCreate(ctx, fresh))

			n, err := s.SessionDeleteEnded(ctx, at(2*time.Minute))
			require.NoError(t, err)
			require.Equal(t, 1, n)
			_, err = s.SessionGet(ctx, "s1")
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = s.SessionGet(ctx, "s2")
			require.NoError(t, err)

			// At 2h, s2 ended and s3, s4 idled out; s5 lives on.
			n, err = s.SessionDeleteEnded(ctx, at(2*time.Hour))
			require.NoError(t, err)
			require.Equal(t, 3, n)
			_, err = s.SessionGet(ctx, "s5")
			require.NoError(t, err)
		}},
	})
}

// newSession is an active session from at(0), idle until at(1h), absolute
// until at(24h).
func newSession(id, userID string) *store.Session {
	return newSessionWith(id, userID, "sub-"+userID, "")
}

func newSessionWith(id, userID, sub, sid string) *store.Session {
	return &store.Session{
		ID: id, UserID: userID, ProviderSubject: sub, ProviderSID: sid,
		Origin: "https://site.example", CreatedAt: at(0), LastSeenAt: at(0),
		IdleExpires: at(time.Hour), AbsExpires: at(24 * time.Hour),
	}
}

// createSessions makes s1, s2 (ann) and s3, s4 (bob); s1 and s3 share the
// provider sid "sid-a".
func createSessions(t *testing.T, s store.Store) {
	t.Helper()
	ctx := ctxFor(t)
	for _, sess := range []*store.Session{
		newSessionWith("s1", "ann", "sub-ann", "sid-a"),
		newSessionWith("s2", "ann", "sub-ann", "sid-b"),
		newSessionWith("s3", "bob", "sub-bob", "sid-a"),
		newSessionWith("s4", "bob", "sub-bob", ""),
	} {
		require.NoError(t, s.SessionCreate(ctx, sess))
	}
}

// endSessions ends sessions and checks what SessionEnd returned.
func endSessions(t *testing.T, s store.Store, params store.SessionEndParams) []*store.Session {
	t.Helper()
	ended, err := s.SessionEnd(ctxFor(t), params)
	require.NoError(t, err)
	for _, sess := range ended {
		requireTime(t, params.At, sess.EndedAt)
		require.Equal(t, params.Reason, sess.EndReason)
	}
	sort.Slice(ended, func(i, j int) bool { return ended[i].ID < ended[j].ID })
	return ended
}

// requireActive checks which sessions are active shortly after the start.
func requireActive(t *testing.T, s store.Store, want map[string]bool) {
	t.Helper()
	for _, id := range sortedKeys(want) {
		got, err := s.SessionGet(ctxFor(t), id)
		require.NoError(t, err)
		require.Equal(t, want[id], got.Active(at(2*time.Minute)), "session %s active", id)
	}
}

func requireSession(t *testing.T, want, got *store.Session) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.UserID, got.UserID)
	require.Equal(t, want.ProviderSubject, got.ProviderSubject)
	require.Equal(t, want.ProviderSID, got.ProviderSID)
	if len(want.RefreshTokenEnc) == 0 {
		require.Empty(t, got.RefreshTokenEnc)
	} else {
		require.Equal(t, want.RefreshTokenEnc, got.RefreshTokenEnc)
	}
	requireTime(t, want.AccessTokenExpiresAt, got.AccessTokenExpiresAt, "AccessTokenExpiresAt")
	require.Equal(t, want.IDTokenHint, got.IDTokenHint)
	require.Equal(t, want.Origin, got.Origin)
	requireTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	requireTime(t, want.LastSeenAt, got.LastSeenAt, "LastSeenAt")
	requireTime(t, want.IdleExpires, got.IdleExpires, "IdleExpires")
	requireTime(t, want.AbsExpires, got.AbsExpires, "AbsExpires")
	requireTime(t, want.EndedAt, got.EndedAt, "EndedAt")
	require.Equal(t, want.EndReason, got.EndReason)
}

func sessionIDs(ss []*store.Session) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	sort.Strings(ids)
	return ids
}
