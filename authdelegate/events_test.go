package authdelegate

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

func TestEventsProfileAfterReady(t *testing.T) {
	t.Parallel()
	b := setup(t) // ProfileReadyTimeout is a minute: only the pull can trigger
	tab1 := b.login("alice")
	tab2 := b.login("alice") // another browser, another session
	bob := b.login("bob")
	es1 := b.openEvents(tab1.Credential, "1")
	es2 := b.openEvents(tab2.Credential, "")
	esBob := b.openEvents(bob.Credential, "1")
	b.waitStreams(3)

	v := b.changeProfile("alice", "Alice Two")
	require.EqualValues(t, 2, v)
	b.markReady("alice", v)
	for _, es := range []*eventStream{es1, es2} {
		ev := es.next(t)
		require.Equal(t, sseEvent{name: "profile", id: "2", data: `{"version":2}`}, ev)
	}

	status, body := b.api(http.MethodPost, "/token", tab1.Credential, nil)
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 2, body["version"])
	require.Equal(t, "Alice Two", b.verify(body["token"].(string)).DisplayName)

	// Bob's stream saw nothing: his first event is his own change.
	vb := b.changeProfile("bob", "Bobby")
	b.markReady("bob", vb)
	require.Equal(t, "2", esBob.next(t).id)
	require.GreaterOrEqual(t, counterValue(t, b.h.metrics.eventsSent.WithLabelValues("profile")), 3.0)
	require.Equal(t, 3.0, counterValue(t, b.h.metrics.liveStreams))
	require.Equal(t, 3.0, counterValue(t, b.h.metrics.liveSessions))
}

func TestEventsProfileAfterTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *Config) { c.ProfileReadyTimeout = 100 * time.Millisecond }})
	msg := b.login("alice")
	es := b.openEvents(msg.Credential, "1")
	b.waitStreams(1)
	v := b.changeProfile("alice", "No Pull")
	ev := es.next(t)
	require.Equal(t, "profile", ev.name)
	require.Equal(t, "2", ev.id)
	require.EqualValues(t, 2, v)
}

func TestEventsLastEventID(t *testing.T) {
	t.Parallel()

	t.Run("ready versions are delivered on connect", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		msg := b.login("alice")
		b.changeProfile("alice", "A2")
		v := b.changeProfile("alice", "A3")
		b.markReady("alice", v)

		es := b.openEvents(msg.Credential, "1")
		require.Equal(t, sseEvent{name: "profile", id: "3", data: `{"version":3}`}, es.next(t))

		// A tab that has 3 already gets nothing until 4.
		es2 := b.openEvents(msg.Credential, "3")
		b.waitStreams(2)
		v = b.changeProfile("alice", "A4")
		b.markReady("alice", v)
		require.Equal(t, "4", es2.next(t).id)
		require.Equal(t, "4", es.next(t).id)
	})

	t.Run("timed-out versions are delivered on connect", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		msg := b.login("alice")
		b.changeProfile("alice", "Unpulled")
		b.clock.Advance(2 * time.Minute) // past ProfileReadyTimeout
		es := b.openEvents(msg.Credential, "1")
		require.Equal(t, "2", es.next(t).id)
	})

	t.Run("a pending version waits for the rest of the timeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{mutate: func(c *Config) { c.ProfileReadyTimeout = 300 * time.Millisecond }, noRun: true})
		msg := b.login("alice")
		b.changeProfile("alice", "Pending")
		es := b.openEvents(msg.Credential, "1")
		require.Equal(t, "2", es.next(t).id)
	})

	t.Run("a pull before connect", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{noRun: true})
		msg := b.login("alice")
		v := b.changeProfile("alice", "Pulled")
		require.NoError(t, b.store.ProfileMarkServed(t.Context(), "alice", v, b.clock.Now()))
		es := b.openEvents(msg.Credential, "1")
		require.Equal(t, "2", es.next(t).id)
	})
}

func TestEventsResyncAfterLag(t *testing.T) {
	t.Parallel()
	// No Run: notifications are "lost"; resync must find the state.
	b := setup(t, setupOpts{noRun: true})
	alice := b.login("alice")
	bob := b.login("bob")
	esAlice := b.openEvents(alice.Credential, "1")
	esBob := b.openEvents(bob.Credential, "1")
	b.waitStreams(2)

	v := b.changeProfile("alice", "Lagged")
	require.NoError(t, b.store.ProfileMarkServed(t.Context(), "alice", v, b.clock.Now()))
	_, err := b.store.SessionEnd(t.Context(), store.SessionEndParams{ID: hashSecret(bob.Credential), Reason: reasonBackchannel, At: b.clock.Now()})
	require.NoError(t, err)

	b.h.fanout.resync(t.Context())
	require.Equal(t, "2", esAlice.next(t).id)
	ev := esBob.next(t)
	require.Equal(t, "logout", ev.name)
	require.JSONEq(t, `{"reason":"backchannel"}`, ev.data)
}

func TestEventsNeedSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	es := b.openEvents(newCredential(), "")
	require.Equal(t, http.StatusUnauthorized, es.status)
}

func TestEventsEndOnClose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msg := b.login("alice")
	es := b.openEvents(msg.Credential, "")
	b.waitStreams(1)
	require.NoError(t, b.h.Close())
	select {
	case _, ok := <-es.events:
		require.False(t, ok)
	case <-time.After(waitFor):
		t.Fatal("stream still open after Close")
	}
	b.waitStreams(0)
}

func TestHubTimerRidesAlong(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noRun: true})
	s := newStream("sid", "u", 1)
	unregister := b.h.fanout.register(s)
	defer unregister()
	// A burst of changes shares the first deadline; the newest wins.
	b.h.fanout.profileChanged("u", 2, 50*time.Millisecond)
	b.h.fanout.profileChanged("u", 3, time.Hour)
	select {
	case <-s.wake:
	case <-time.After(waitFor):
		t.Fatal("timeout did not deliver")
	}
	v, logout := s.take()
	require.EqualValues(t, 3, v)
	require.Empty(t, logout)
	// A ready version at or above the waiting one cancels the timer.
	b.h.fanout.profileChanged("u", 4, time.Hour)
	b.h.fanout.profileReady("u", 4)
	v, _ = s.take()
	require.EqualValues(t, 4, v)
	b.h.fanout.mu.Lock()
	us := b.h.fanout.byUser["u"]
	require.Nil(t, us.timer)
	require.EqualValues(t, 4, us.ready)
	b.h.fanout.mu.Unlock()
	// Older news is ignored.
	b.h.fanout.profileReady("u", 2)
	b.h.fanout.profileChanged("u", 3, 0)
	v, _ = s.take()
	require.Zero(t, v)
}

func TestParseLastEventID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"": -1, "0": 0, "7": 7, " 12 ": 12, "-1": -1, "x": -1, "1.5": -1,
		"99999999999999999999": -1, "9223372036854775807": 9223372036854775807,
	} {
		require.Equal(t, want, parseLastEventID(in), in)
	}
}

func FuzzParseLastEventID(f *testing.F) {
	for _, s := range []string{"", "0", "42", "-3", "abc", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := parseLastEventID(s)
		require.GreaterOrEqual(t, v, int64(-1))
	})
}

// profileEventPayload is used by benchmarks and tests that notify by hand.
func profileEventPayload(userID string, v int64) []byte {
	raw, _ := json.Marshal(store.ProfileEvent{UserID: userID, Version: v})
	return raw
}

// TestEventsAcrossReplicas: the tab's stream is on one replica, the change
// and the logout happen on another; the store's notification channel
// (in-process on SQLite, LISTEN/NOTIFY on PostgreSQL) carries them.
func TestEventsAcrossReplicas(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s store.Store) {
		b := setup(t, setupOpts{store: s})
		other, otherURL := b.replica()
		msg := b.login("alice")
		es := b.openEventsAt(otherURL, msg.Credential, "1")
		asynctest.Eventually(t, waitFor, "the other replica to hold the stream", func() bool { return counterValue(t, other.metrics.liveStreams) == 1 })

		v := b.changeProfile("alice", "Across")
		b.markReady("alice", v)
		require.Equal(t, "2", es.next(t).id)

		status, _ := b.api(http.MethodPost, "/logout", msg.Credential, nil)
		require.Equal(t, http.StatusOK, status)
		ev := es.next(t)
		require.Equal(t, "logout", ev.name)
	})
}
