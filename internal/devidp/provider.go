package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/ssogate/ssogate/internal/httpbase"
)

// ErrUnknownUser is returned for a subject that has no account.
var ErrUnknownUser = errors.New("devidp: unknown user")

// Paths below the issuer that the provider serves besides op's endpoints
// (/.well-known/openid-configuration, /authorize, /oauth/token, /userinfo,
// /end_session, /keys, /revoke, /oauth/introspect, /healthz, /ready).
const (
	pathLogin     = "/login"
	pathLoggedOut = "/logged-out"
	pathEndSess   = "/end_session"
	pathCallback  = "/authorize/callback"
)

// Provider is a running development OpenID provider. It is safe for
// concurrent use.
type Provider struct {
	cfg        Config
	issuerPath string
	op         *op.Provider
	store      *storage
	handler    http.Handler
	cookieName string
	secure     bool
}

// New builds a Provider from cfg (defaults applied, every problem reported
// at once).
func New(cfg Config) (*Provider, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key := cfg.SigningKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("devidp: generate signing key: %w", err)
		}
	}
	kid, err := keyID(key)
	if err != nil {
		return nil, err
	}
	issuer, _ := url.Parse(cfg.Issuer) // validated
	p := &Provider{
		cfg:        cfg,
		issuerPath: strings.TrimSuffix(issuer.Path, "/"),
		cookieName: "devidp_session",
		secure:     issuer.Scheme == "https",
	}
	clients := make(map[string]*opClient, len(cfg.Clients))
	for _, c := range cfg.Clients {
		clients[c.ID] = &opClient{
			c:          c,
			devMode:    cfg.AllowInsecure,
			idTokenTTL: cfg.IDTokenTTL,
			loginURL: func(id string) string {
				return cfg.Issuer + pathLogin + "?id=" + url.QueryEscape(id)
			},
		}
	}
	p.store = newStorage(cfg, signingKey{id: kid, key: key}, clients)
	p.store.endSessions = p.endSessions

	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:])
	opts := []op.Option{}
	if cfg.AllowInsecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(&op.Config{
		CryptoKey:                         cryptoKey,
		DefaultLogoutRedirectURI:          cfg.Issuer + pathLoggedOut,
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedUILocales:                []language.Tag{language.English},
		SupportedScopes:                   []string{"openid", "profile", "email", "offline_access"},
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}, p.store, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("devidp: op provider: %w", err)
	}
	// None of the provider's pages (login, logged out, op's errors) is
	// meant to be framed.
	p.handler = httpbase.FrameHeaders(p.routes())
	return p, nil
}

// Issuer returns the issuer URL (without a trailing slash).
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Handler returns the provider's HTTP handler. It expects request paths
// that start with the issuer's path (the whole path when the issuer has
// none), so serve it at the root of its own server, or see Mount.
func (p *Provider) Handler() http.Handler { return p.handler }

// Mount registers the provider on r under the issuer's path, for a router
// that serves the issuer's host.
func (p *Provider) Mount(r httpbase.Routes) {
	if p.issuerPath == "" {
		r.HandlePrefix("/", p.handler)
		return
	}
	r.HandlePrefix(p.issuerPath+"/", p.handler)
}

func (p *Provider) routes() http.Handler {
	issuerCtx := op.NewIssuerInterceptor(p.op.IssuerFromRequest)
	m := http.NewServeMux()
	m.Handle("GET "+pathLogin, issuerCtx.HandlerFunc(p.handleLoginPage))
	m.Handle("POST "+pathLogin, issuerCtx.HandlerFunc(p.handleLoginSubmit))
	m.HandleFunc("GET "+pathLoggedOut, p.handleLoggedOut)
	m.HandleFunc("GET /{$}", p.handleIndex)
	m.Handle(pathEndSess, p.withSessionCookie(p.op))
	// The login page answers op itself; op's callback route would let a
	// known auth request id fetch another code.
	m.Handle(pathCallback, http.NotFoundHandler())
	m.Handle("/", p.op)
	if p.issuerPath == "" {
		return m
	}
	return http.StripPrefix(p.issuerPath, m)
}

// withSessionCookie passes the browser's session to end-session (op's
// handler gets no request) and drops the cookie.
func (p *Provider) withSessionCookie(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sid := p.sessionFromCookie(r); sid != "" {
			r = r.WithContext(withCookieSID(r.Context(), sid))
		}
		p.clearCookie(w)
		next.ServeHTTP(w, r)
	})
}

// User returns the user with subject ID id.
func (p *Provider) User(id string) (User, bool) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	u, ok := p.store.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Users returns every user, ordered by ID.
func (p *Provider) Users() []User {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	out := make([]User, 0, len(p.store.users))
	for _, u := range p.store.users {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// UpdateUser changes the user with subject id through edit, which gets a
// copy, and returns the stored result. The ID cannot change; a username
// taken by someone else is refused. UpdatedAt is set to Now. OnUserChange
// runs afterwards with the new state. Tokens issued later carry the new
// claims; earlier tokens keep theirs.
func (p *Provider) UpdateUser(_ context.Context, id string, edit func(*User)) (User, error) {
	s := p.store
	s.mu.Lock()
	cur, ok := s.users[id]
	if !ok {
		s.mu.Unlock()
		return User{}, fmt.Errorf("%w: %q", ErrUnknownUser, id)
	}
	next := *cur
	edit(&next)
	next.ID = id
	if err := validateUser(next); err != nil {
		s.mu.Unlock()
		return User{}, fmt.Errorf("devidp: update user %q: %w", id, err)
	}
	if owner, taken := s.usernames[next.Username]; taken && owner != id {
		s.mu.Unlock()
		return User{}, fmt.Errorf("devidp: update user %q: username %q is taken", id, next.Username)
	}
	next.UpdatedAt = p.cfg.Now()
	delete(s.usernames, cur.Username)
	s.usernames[next.Username] = id
	*cur = next
	s.mu.Unlock()

	if p.cfg.OnUserChange != nil {
		p.cfg.OnUserChange(next)
	}
	return next, nil
}

// RevokeRefreshTokens revokes every refresh token of the user with subject
// id (and the access tokens issued with them) and returns how many were
// live. The next refresh fails with invalid_grant. Sessions stay.
func (p *Provider) RevokeRefreshTokens(id string) int {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeRefreshLocked(func(t *refreshToken) bool { return t.subject == id })
}

// Logout ends every session of the user with subject id, as an
// administrator would: their refresh tokens are revoked and each client
// that got tokens through those sessions and has a BackChannelLogoutURI
// receives a logout token (with sid and sub). It waits for the deliveries
// (each bounded by HTTPClient's timeout; ctx's values pass on, its
// cancellation does not) and returns their failures, joined. A user without
// sessions is not an error.
func (p *Provider) Logout(ctx context.Context, id string) error {
	if _, ok := p.User(id); !ok {
		return fmt.Errorf("%w: %q", ErrUnknownUser, id)
	}
	return p.endSessions(ctx, p.store.sessionIDsOf(id))
}

// SessionIDs returns the sid of every live session of the user with
// subject id, sorted. Tests use it to match logout tokens.
func (p *Provider) SessionIDs(id string) []string { return p.store.sessionIDsOf(id) }
