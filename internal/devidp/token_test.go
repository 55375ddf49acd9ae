package devidp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.newBrowser(t)
	first, idt := b.loginAs(t, br, b.public, "alice")
	sid := claimsOf(t, idt).SID

	second, err := refresh(t.Context(), b.public, first.RefreshToken)
	require.NoError(t, err)
	require.NotEmpty(t, second.RefreshToken)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken, "rotation issues a new refresh token")
	require.NotEqual(t, first.AccessToken, second.AccessToken)

	raw, ok := second.Extra("id_token").(string)
	require.True(t, ok)
	refreshed, err := b.verifier(publicClientID).Verify(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, "alice", refreshed.Subject)
	c := claimsOf(t, refreshed)
	require.Equal(t, sid, c.SID, "a refreshed ID token keeps the session")
	require.Empty(t, c.Nonce, "a refreshed ID token has no nonce")

	info, err := b.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(second))
	require.NoError(t, err)
	require.Equal(t, "alice", info.Subject)

	third, err := refresh(t.Context(), b.public, second.RefreshToken)
	require.NoError(t, err, "the new refresh token works")

	_, err = refresh(t.Context(), b.public, first.RefreshToken)
	requireOAuthError(t, err, "invalid_grant")

	// Reusing a rotated token revokes its whole family.
	_, err = refresh(t.Context(), b.public, third.RefreshToken)
	requireOAuthError(t, err, "invalid_grant")
}

func TestRefreshConfidentialClient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, _ := b.loginAs(t, b.newBrowser(t), b.secret, "bob")

	_, err := refresh(t.Context(), b.public, first.RefreshToken)
	requireOAuthError(t, err, "invalid_grant") // another client's token

	second, err := refresh(t.Context(), b.secret, first.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken)
}

func TestRefreshRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, _ := b.loginAs(t, b.newBrowser(t), b.public, "alice")

	// Of concurrent uses of one refresh token at most one succeeds.
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := refresh(t.Context(), b.public, first.RefreshToken)
			errs <- err
		}()
	}
	wins := 0
	for range n {
		if err := <-errs; err == nil {
			wins++
		} else {
			requireOAuthError(t, err, "invalid_grant")
		}
	}
	require.LessOrEqual(t, wins, 1)
}

func TestRevokeRefreshTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	aliceTok, _ := b.loginAs(t, b.newBrowser(t), b.public, "alice")
	bobTok, _ := b.loginAs(t, b.newBrowser(t), b.public, "bob")

	require.Equal(t, 1, b.idp.RevokeRefreshTokens("alice"))
	_, err := refresh(t.Context(), b.public, aliceTok.RefreshToken)
	requireOAuthError(t, err, "invalid_grant")

	// The access token issued with it is gone too.
	_, err = b.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(aliceTok))
	require.Error(t, err)

	_, err = refresh(t.Context(), b.public, bobTok.RefreshToken)
	require.NoError(t, err, "other users are untouched")
	require.Len(t, b.idp.SessionIDs("alice"), 1, "sessions stay")
	b.noLogout(t)
}

func TestRevocationEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, _ := b.loginAs(t, b.newBrowser(t), b.secret, "alice")

	require.NoError(t, revoke(t.Context(), b, b.secret, tok.RefreshToken))
	_, err := refresh(t.Context(), b.secret, tok.RefreshToken)
	requireOAuthError(t, err, "invalid_grant")
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, _ := b.loginAs(t, b.newBrowser(t), b.public, "alice")

	u, err := b.idp.UpdateUser(t.Context(), "alice", func(u *User) {
		u.Name = "Alice Renamed"
		u.Picture = "https://example.com/alice.png"
		u.ID = "ignored"
	})
	require.NoError(t, err)
	require.Equal(t, "alice", u.ID)
	require.Equal(t, "Alice Renamed", u.Name)
	require.False(t, u.UpdatedAt.IsZero())

	select {
	case changed := <-b.changes:
		require.Equal(t, u, changed)
	default:
		t.Fatal("OnUserChange was not called")
	}
	got, ok := b.idp.User("alice")
	require.True(t, ok)
	require.Equal(t, u, got)

	// The next refresh carries the new claims.
	next, err := refresh(t.Context(), b.public, tok.RefreshToken)
	require.NoError(t, err)
	idt, err := b.verifier(publicClientID).Verify(t.Context(), next.Extra("id_token").(string))
	require.NoError(t, err)
	require.Equal(t, "Alice Renamed", claimsOf(t, idt).Name)

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		_, err := b.idp.UpdateUser(t.Context(), "mallory", func(*User) {})
		require.ErrorIs(t, err, ErrUnknownUser)
		_, err = b.idp.UpdateUser(t.Context(), "alice", func(u *User) { u.Username = "bob" })
		require.ErrorContains(t, err, "taken")
		_, err = b.idp.UpdateUser(t.Context(), "alice", func(u *User) { u.Password = "" })
		require.ErrorContains(t, err, "Password is required")
		got, _ := b.idp.User("alice")
		require.Equal(t, "alice", got.Username)
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	users := b.idp.Users()
	require.Len(t, users, 2)
	require.Equal(t, "alice", users[0].ID)
	require.Equal(t, "bob", users[1].ID)
	_, ok := b.idp.User("mallory")
	require.False(t, ok)
	require.ErrorIs(t, b.idp.Logout(t.Context(), "mallory"), ErrUnknownUser)
}

// revoke calls the revocation endpoint (RFC 7009) as cfg's client.
func revoke(ctx context.Context, b *testBundle, cfg *oauth2.Config, token string) error {
	var meta struct {
		RevocationEndpoint string `json:"revocation_endpoint"`
	}
	if err := b.provider.Claims(&meta); err != nil {
		return err
	}
	return postForm(ctx, meta.RevocationEndpoint, cfg.ClientID, cfg.ClientSecret, map[string]string{
		"token": token, "token_type_hint": "refresh_token",
	})
}

// postForm POSTs form values with client basic auth and wants a 200.
func postForm(ctx context.Context, endpoint, clientID, secret string, values map[string]string) error {
	form := url.Values{}
	for k, v := range values {
		form.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return nil
}
