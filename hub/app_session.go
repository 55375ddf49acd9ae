package hub

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ssogate/ssogate/internal/httpbase"
	"github.com/ssogate/ssogate/tokens"
)

// The hub's app-session tokens (data.token of the auth API, the bearer of
// the comment API) are its own: signed with a key derived from the network
// key, never with the network key itself. So they are no userAuthToken or
// system token anywhere (auth API lftoken, ping, registration, the
// gateway's pull all verify with the network key and find a bad
// signature), and a userAuthToken is no app-session token (the comment API
// verifies with the derived key). Deriving rather than configuring a
// second secret keeps the configuration as it was; whoever holds the
// network key could mint system tokens anyway, so knowing it to mint
// app-session tokens grants nothing more.

// sessionKeyInfo is the HKDF info label (with the network name appended):
// a fixed label makes the derived key useless for anything but this.
const sessionKeyInfo = "ssogate hub app-session token v1\x00"

// deriveSessionKey is HKDF-SHA256(network key, no salt, label+network),
// 32 bytes, base64url: the string form a tokens.Config takes.
func deriveSessionKey(networkName, key string) (string, error) {
	k, err := hkdf.Key(sha256.New, []byte(key), nil, sessionKeyInfo+networkName, 32)
	if err != nil {
		return "", fmt.Errorf("hub: derive session key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(k), nil
}

// newSessionCodec builds the codec of a network's app-session tokens: the
// derived current key signs, the derived previous keys still verify during
// a rotation. No leeway: only this hub's clock mints and checks them.
func newSessionCodec(nc NetworkConfig, now func() time.Time) (*tokens.Codec, error) {
	key, err := deriveSessionKey(nc.Name, nc.Key)
	if err != nil {
		return nil, err
	}
	previous := make([]string, 0, len(nc.PreviousKeys))
	for _, pk := range nc.PreviousKeys {
		d, err := deriveSessionKey(nc.Name, pk)
		if err != nil {
			return nil, err
		}
		previous = append(previous, d)
	}
	return tokens.New(tokens.Config{Network: nc.Name, Key: key, PreviousKeys: previous, Leeway: -1, Now: now})
}

// Session token problems.
var (
	errSystemUser = httpbase.Errorf(http.StatusForbidden, "token_system",
		"a system token is no user: the auth API takes a userAuthToken")
	errSessionAsUAT = httpbase.Errorf(http.StatusForbidden, "token_is_session",
		"this is the hub's app-session token: the auth API takes a userAuthToken from the site")
	errSessionEnded = httpbase.Errorf(http.StatusForbidden, "session_ended",
		"the app session has ended (the user logged out); authenticate again")
)

// verifySession checks an app-session token the hub issued: its signature
// with the derived key, its user, and that the user has not logged out at
// the gateway since it was issued.
func (h *Handler) verifySession(r *http.Request, token string) (*network, *tokens.Claims, error) {
	n, err := h.networkOf(r, token)
	if err != nil {
		return nil, nil, err
	}
	claims, err := n.session.Verify(token)
	if err != nil || tokens.IsReservedUserID(claims.UserID) || claims.IssuedAt.IsZero() {
		return nil, nil, errTokenInvalid
	}
	validAfter, err := h.store.AppSessionValidAfter(r.Context(), n.name, claims.UserID)
	if err != nil {
		return nil, nil, fmt.Errorf("hub: read app session revocation: %w", err)
	}
	// iat is whole seconds: a token of the logout's second may be older
	// than the logout, so that second counts as before it.
	if !validAfter.IsZero() && claims.IssuedAt.Unix() <= validAfter.Unix() {
		return nil, nil, errSessionEnded
	}
	return n, claims, nil
}

// isSessionToken reports whether token is one of n's app-session tokens,
// to tell the caller of the auth API what it sent.
func (n *network) isSessionToken(token string) bool {
	_, err := n.session.Verify(token)
	return err == nil || errors.Is(err, tokens.ErrExpired)
}
