package authdelegate

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/devidp"
	"github.com/ssogate/ssogate/store"
)

// endedHook records SessionEndedFunc calls; fail makes the next call fail.
type endedHook struct {
	calls chan endedCall
	fail  chan error
}

// endedCall is one call: the user, and how many of the user's sessions
// the transaction still saw active (the ended ones are already ended in
// it).
type endedCall struct {
	user   string
	active int
}

func withEndedHook() (*endedHook, setupOpts) {
	hook := &endedHook{calls: make(chan endedCall, 16), fail: make(chan error, 1)}
	return hook, setupOpts{mutate: func(c *Config) {
		c.SessionEndedFunc = func(ctx context.Context, tx store.Tx, userID string) error {
			select {
			case err := <-hook.fail:
				return err
			default:
			}
			active, err := tx.SessionListByUser(ctx, userID, time.Now())
			if err != nil {
				return err
			}
			hook.calls <- endedCall{user: userID, active: len(active)}
			return nil
		}
	}}
}

func (hook *endedHook) next(t *testing.T) endedCall {
	t.Helper()
	select {
	case c := <-hook.calls:
		return c
	case <-time.After(waitFor):
		t.Fatal("SessionEndedFunc was not called")
		return endedCall{}
	}
}

func (hook *endedHook) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-hook.calls:
		t.Fatalf("SessionEndedFunc called for %s", c.user)
	default:
	}
}

func TestSessionEndedFuncOnLogout(t *testing.T) {
	t.Parallel()
	hook, opts := withEndedHook()
	b := setup(t, opts)
	msg := b.login("alice")

	// A failing hook rolls the logout back: the session lives on, and the
	// logout can be retried (nothing is lost in between).
	hook.fail <- errors.New("queue down")
	status, body := b.api(http.MethodPost, "/logout", msg.Credential, nil)
	require.Equal(t, http.StatusInternalServerError, status)
	require.Equal(t, "internal", body["error"].(map[string]any)["code"])
	require.True(t, b.session(msg.Credential).Active(b.clock.Now()))
	hook.none(t)

	status, body = b.api(http.MethodPost, "/logout", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, endedCall{user: "alice", active: 0}, hook.next(t), "called in the transaction that ended the session")
	require.False(t, b.session(msg.Credential).Active(b.clock.Now()))
	// Logging out an ended session again calls nothing.
	status, _ = b.api(http.MethodPost, "/logout", msg.Credential, nil)
	require.Equal(t, http.StatusOK, status)
	hook.none(t)
}

func TestSessionEndedFuncOnBackchannelAndRefusedRefresh(t *testing.T) {
	t.Parallel()
	hook, opts := withEndedHook()
	b := setup(t, opts, setupOpts{mutate: func(c *Config) { c.RefreshBefore = 10 * time.Minute }})
	one := b.login("alice")
	two := b.login("alice")
	require.NoError(t, b.idp.Logout(t.Context(), "alice"))
	// The provider posts a logout token per session (sid and sub): one call
	// for each, in its transaction.
	first, second := hook.next(t), hook.next(t)
	require.Equal(t, "alice", first.user)
	require.Equal(t, endedCall{user: "alice", active: 0}, second)
	require.False(t, b.session(one.Credential).Active(b.clock.Now()))
	require.False(t, b.session(two.Credential).Active(b.clock.Now()))

	bob := b.login("bob")
	require.Positive(t, b.idp.RevokeRefreshTokens("bob"))
	status, _ := b.api(http.MethodPost, "/token", bob.Credential, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, endedCall{user: "bob", active: 0}, hook.next(t))
	require.Equal(t, reasonRefreshRefused, b.session(bob.Credential).EndReason)
}

func TestSessionEndedFuncNotOnExpiry(t *testing.T) {
	t.Parallel()
	hook, opts := withEndedHook()
	b := setup(t, opts)
	msg := b.login("alice")
	b.clock.Advance(DefaultIdleTimeout + time.Minute)
	status, _ := b.api(http.MethodPost, "/token", msg.Credential, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, reasonExpired, b.session(msg.Credential).EndReason)
	hook.none(t)
}

// TestLoginSubjectSystemIsEncoded: a provider account whose subject (or
// mapped claim) is "system" in any case never becomes the user "system"
// (whose tokens are system tokens).
func TestLoginSubjectSystemIsEncoded(t *testing.T) {
	t.Parallel()
	sneaky := func(c *devidp.Config) {
		c.Users = append(c.Users,
			devidp.User{ID: "System", Username: "sneaky", Password: "sneaky-password", Name: "Sneaky"},
			devidp.User{ID: "u-42", Username: "SYSTEM", Password: "SYSTEM-password", Name: "Also Sneaky"})
	}
	t.Run("subject", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{mutateIDP: sneaky})
		msg := b.login("sneaky")
		claims := b.verify(msg.Token)
		require.Equal(t, "s_"+sha40("System"), claims.UserID)
		require.False(t, claims.IsSystem())
		require.Equal(t, "s_"+sha40("System"), b.session(msg.Credential).UserID)
	})
	t.Run("mapped claim", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{mutateIDP: sneaky, mutate: func(c *Config) { c.ClaimMapping.UserID = "preferred_username" }})
		msg := b.login("SYSTEM")
		require.Equal(t, "s_"+sha40("SYSTEM"), b.verify(msg.Token).UserID)
	})
}
