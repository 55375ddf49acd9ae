package devidp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// errNotFound is the storage's answer for an unknown or expired record;
// op turns it into the right protocol error for each endpoint.
var errNotFound = errors.New("devidp: not found")

// storage is the provider's in-memory state and its op.Storage face. One
// mutex guards everything: the provider is for development and tests.
type storage struct {
	cfg     Config
	key     signingKey
	clients map[string]*opClient // read-only after New

	// endSessions is called by TerminateSessionFromRequest: the Provider
	// revokes and sends back-channel logout tokens.
	endSessions func(ctx context.Context, sids []string) error

	mu              sync.Mutex
	users           map[string]*User  // by ID
	usernames       map[string]string // username -> ID
	authRequests    map[string]*authRequest
	codes           map[string]string // code -> auth request id
	sessions        map[string]*session
	sessionByCookie map[string]string // hash of cookie value -> sid
	accessTokens    map[string]*accessToken
	refreshTokens   map[string]*refreshToken // by hash of the token value
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func newStorage(cfg Config, key signingKey, clients map[string]*opClient) *storage {
	s := &storage{
		cfg:             cfg,
		key:             key,
		clients:         clients,
		users:           map[string]*User{},
		usernames:       map[string]string{},
		authRequests:    map[string]*authRequest{},
		codes:           map[string]string{},
		sessions:        map[string]*session{},
		sessionByCookie: map[string]string{},
		accessTokens:    map[string]*accessToken{},
		refreshTokens:   map[string]*refreshToken{},
	}
	for _, u := range cfg.Users {
		u := u
		s.users[u.ID] = &u
		s.usernames[u.Username] = u.ID
	}
	return s
}

// purgeLocked drops expired records so a long-running demo stays small.
func (s *storage) purgeLocked(now time.Time) {
	for id, a := range s.authRequests {
		if now.Sub(a.created) > authRequestTTL {
			delete(s.authRequests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.authRequests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for sid, sess := range s.sessions {
		if now.After(sess.expires) {
			delete(s.sessions, sid)
			delete(s.sessionByCookie, sess.cookieHash)
		}
	}
	for id, t := range s.accessTokens {
		if now.After(t.expires) {
			delete(s.accessTokens, id)
		}
	}
	for h, t := range s.refreshTokens {
		if now.After(t.expires) {
			delete(s.refreshTokens, h)
		}
	}
}

// CreateAuthRequest implements op.AuthStorage. It also enforces PKCE with
// S256 for public clients and refuses the plain method for everyone.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	client, ok := s.clients[req.ClientID]
	if !ok {
		return nil, oidc.ErrInvalidClient()
	}
	var challenge *oidc.CodeChallenge
	switch {
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case req.CodeChallenge != "":
		challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
	case client.c.public():
		return nil, oidc.ErrInvalidRequest().WithDescription("public clients must use PKCE with S256")
	}
	var maxAge *time.Duration
	if req.MaxAge != nil {
		d := time.Duration(*req.MaxAge) * time.Second
		maxAge = &d
	}
	now := s.cfg.Now()
	a := &authRequest{
		id:            randomToken(16),
		created:       now,
		clientID:      req.ClientID,
		redirectURI:   req.RedirectURI,
		state:         req.State,
		nonce:         req.Nonce,
		scopes:        slices.Clone([]string(req.Scopes)),
		responseType:  req.ResponseType,
		responseMode:  req.ResponseMode,
		codeChallenge: challenge,
		prompt:        slices.Clone([]string(req.Prompt)),
		maxAge:        maxAge,
		loginHint:     req.LoginHint,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purgeLocked(now)
	s.authRequests[a.id] = a
	return a.clone(), nil
}

// authRequestLocked returns the live request with id, if not expired.
func (s *storage) authRequestLocked(id string) (*authRequest, bool) {
	a, ok := s.authRequests[id]
	if !ok || s.cfg.Now().Sub(a.created) > authRequestTTL {
		return nil, false
	}
	return a, true
}

// AuthRequestByID implements op.AuthStorage.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id)
	if !ok {
		return nil, errNotFound
	}
	return a.clone(), nil
}

// AuthRequestByCode implements op.AuthStorage. A code is single-use: the
// first lookup consumes it, so a replayed code fails even when two
// exchanges race.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, errNotFound
	}
	delete(s.codes, code)
	a, ok := s.authRequestLocked(id)
	if !ok || !a.done {
		return nil, errNotFound
	}
	return a.clone(), nil
}

// SaveAuthCode implements op.AuthStorage.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id)
	if !ok || !a.done || a.codeIssued {
		return errNotFound // one code per sign-in
	}
	a.codeIssued = true
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest implements op.AuthStorage.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	return nil
}

// CreateAccessToken implements op.AuthStorage.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.newAccessTokenLocked(req, "")
	if err != nil {
		return "", time.Time{}, err
	}
	return t.id, t.expires, nil
}

func (s *storage) newAccessTokenLocked(req op.TokenRequest, refreshID string) (*accessToken, error) {
	t := &accessToken{
		id:        randomToken(16),
		subject:   req.GetSubject(),
		scopes:    slices.Clone(req.GetScopes()),
		expires:   s.cfg.Now().Add(s.cfg.AccessTokenTTL),
		refreshID: refreshID,
	}
	switch r := req.(type) {
	case *authRequest:
		t.clientID, t.sid = r.clientID, r.sid
	case *refreshRequest:
		t.clientID, t.sid = r.token.clientID, r.token.sid
	default:
		return nil, oidc.ErrUnsupportedGrantType()
	}
	s.accessTokens[t.id] = t
	return t, nil
}

// CreateAccessAndRefreshTokens implements op.AuthStorage. For a refresh
// grant it rotates: the presented token is revoked in the same critical
// section that issues its successor, so of two racing uses only one wins.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	next := &refreshToken{
		id:      randomToken(16),
		expires: now.Add(s.cfg.RefreshTokenTTL),
	}
	switch r := req.(type) {
	case *authRequest:
		next.family = next.id
		next.clientID, next.subject, next.sid = r.clientID, r.subject, r.sid
		next.scopes = slices.Clone(r.scopes)
		next.amr = r.GetAMR()
		next.authTime = r.authTime
	case *refreshRequest:
		old, ok := s.refreshTokens[hashSecret(current)]
		if !ok || old.id != r.token.id || old.revoked || now.After(old.expires) {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token is no longer valid")
		}
		old.revoked = true
		next.family = old.family
		next.clientID, next.subject, next.sid = old.clientID, old.subject, old.sid
		next.scopes = slices.Clone(old.scopes) // the grant keeps its scope; only this access token narrows
		next.amr = slices.Clone(old.amr)
		next.authTime = old.authTime
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	value := randomToken(32)
	next.hash = hashSecret(value)
	s.refreshTokens[next.hash] = next
	at, err := s.newAccessTokenLocked(req, next.id)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return at.id, value, at.expires, nil
}

// TokenRequestByRefreshToken implements op.AuthStorage. Presenting a
// revoked token revokes its whole family: a rotated token that comes back
// means it leaked, or the client raced itself.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, value string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refreshTokens[hashSecret(value)]
	if !ok || s.cfg.Now().After(t.expires) {
		return nil, errNotFound
	}
	if t.revoked {
		n := s.revokeRefreshLocked(func(o *refreshToken) bool { return o.family == t.family })
		s.cfg.Logger.WarnContext(ctx, "devidp: revoked refresh token reused; family revoked",
			"client_id", t.clientID, "subject", t.subject, "revoked", n)
		return nil, errors.New("devidp: refresh token revoked")
	}
	c := *t
	c.scopes = slices.Clone(t.scopes)
	c.amr = slices.Clone(t.amr)
	return &refreshRequest{token: c, scopes: slices.Clone(t.scopes)}, nil
}

// revokeRefreshLocked revokes every live refresh token that match selects,
// and the access tokens issued with them, and returns how many.
func (s *storage) revokeRefreshLocked(match func(*refreshToken) bool) int {
	n := 0
	revoked := map[string]bool{}
	for _, t := range s.refreshTokens {
		if match(t) {
			if !t.revoked {
				n++
			}
			t.revoked = true
			revoked[t.id] = true
		}
	}
	for id, at := range s.accessTokens {
		if at.refreshID != "" && revoked[at.refreshID] {
			delete(s.accessTokens, id)
		}
	}
	return n
}

// TerminateSession implements op.AuthStorage. op only calls it when
// TerminateSessionFromRequest is missing; it ends all of the user's sessions.
func (s *storage) TerminateSession(ctx context.Context, userID, _ string) error {
	return s.endSessions(ctx, s.sessionIDsOf(userID))
}

func (s *storage) sessionIDsOf(subject string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sids []string
	for sid, sess := range s.sessions {
		if sess.subject == subject {
			sids = append(sids, sid)
		}
	}
	slices.Sort(sids)
	return sids
}

type cookieSIDKey struct{}

// withCookieSID records in ctx the session the browser's cookie names, for
// TerminateSessionFromRequest, which gets no request.
func withCookieSID(ctx context.Context, sid string) context.Context {
	return context.WithValue(ctx, cookieSIDKey{}, sid)
}

// TerminateSessionFromRequest implements op.CanTerminateSessionFromRequest:
// RP-initiated logout. It ends the session named by the id_token_hint's sid,
// or else the browser's session (when it belongs to the hinted user), and
// redirects to the validated post_logout_redirect_uri or the logged-out page.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	var sid string
	if req.IDTokenHintClaims != nil && req.IDTokenHintClaims.SessionID != "" {
		sid = req.IDTokenHintClaims.SessionID
	} else if c, _ := ctx.Value(cookieSIDKey{}).(string); c != "" {
		sid = c
	}
	var sids []string
	if sid != "" {
		s.mu.Lock()
		sess, ok := s.sessions[sid]
		if ok && (req.UserID == "" || sess.subject == req.UserID) {
			sids = append(sids, sid)
		}
		s.mu.Unlock()
	}
	if err := s.endSessions(ctx, sids); err != nil {
		// The browser's logout still succeeds; delivery failures are logged.
		s.cfg.Logger.WarnContext(ctx, "devidp: back-channel logout incomplete", "error", err)
	}
	return req.RedirectURI, nil
}

// RevokeToken implements op.AuthStorage (RFC 7009). op passes an access
// token's id, a refresh token's id (after GetRefreshTokenInfo) or a
// refresh token's value. Revoking a refresh token revokes its family.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.accessTokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.accessTokens, tokenOrID)
		return nil
	}
	rt, ok := s.refreshTokens[hashSecret(tokenOrID)]
	if !ok {
		for _, t := range s.refreshTokens {
			if t.id == tokenOrID {
				rt, ok = t, true
				break
			}
		}
	}
	if !ok {
		return nil // RFC 7009: unknown tokens are not an error
	}
	if rt.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	s.revokeRefreshLocked(func(o *refreshToken) bool { return o.family == rt.family })
	return nil
}

// GetRefreshTokenInfo implements op.AuthStorage.
func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, value string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refreshTokens[hashSecret(value)]
	if !ok || t.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.subject, t.id, nil
}

// SigningKey implements op.AuthStorage.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

// SignatureAlgorithms implements op.AuthStorage.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet implements op.AuthStorage.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// GetClientByClientID implements op.OPStorage.
func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("devidp: unknown client %q", id)
	}
	return c, nil
}

// AuthorizeClientIDSecret implements op.OPStorage in constant time.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || c.c.public() {
		return errors.New("devidp: unknown client or wrong secret")
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(hashSecret(c.c.Secret))) != 1 {
		return errors.New("devidp: unknown client or wrong secret")
	}
	return nil
}

// GetPrivateClaimsFromScopes implements op.OPStorage; there are none.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID implements op.OPStorage. The JWT profile grant
// and private_key_jwt are not supported.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("devidp: client keys are not supported")
}

// ValidateJWTProfileScopes implements op.OPStorage; see GetKeyByIDAndClientID.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("devidp: the JWT profile grant is not supported")
}

// Health implements op.Storage.
func (s *storage) Health(context.Context) error { return nil }
