package devidp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequestTTL bounds how long a user may take on the login page and how
// long an issued code stays exchangeable.
const authRequestTTL = 10 * time.Minute

// authRequest is one authorization request, from /authorize to the code
// exchange. The store hands out copies so op never reads a record that the
// login handler is changing.
type authRequest struct {
	id            string
	created       time.Time
	clientID      string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	prompt        []string
	maxAge        *time.Duration
	loginHint     string

	// Set when the user has signed in.
	done     bool
	subject  string
	authTime time.Time
	sid      string
	// codeIssued is set once a code exists, so a sign-in yields one code.
	codeIssued bool
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) clone() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	c.prompt = slices.Clone(a.prompt)
	return &c
}

func (a *authRequest) GetID() string  { return a.id }
func (a *authRequest) GetACR() string { return "" }
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// hasPrompt reports whether the request carries the prompt value p.
func (a *authRequest) hasPrompt(p string) bool { return slices.Contains(a.prompt, p) }

// session is a signed-in browser at the provider (the single sign-on
// cookie). Its sid is the ID tokens' sid claim and the logout tokens'.
type session struct {
	sid        string
	subject    string
	authTime   time.Time
	expires    time.Time
	cookieHash string
	// clients are the client IDs that got tokens through this session:
	// the back-channel logout recipients.
	clients map[string]bool
}

// accessToken is an issued opaque access token, known to op by its id.
type accessToken struct {
	id       string
	clientID string
	subject  string
	sid      string
	scopes   []string
	expires  time.Time
	// refreshID is the refresh token issued with it, if any.
	refreshID string
}

// refreshToken is one refresh token. Only the hash of its value is kept.
// A rotation revokes it and issues a successor in the same family; using a
// revoked token revokes the whole family (reuse detection).
type refreshToken struct {
	id       string
	hash     string
	family   string
	clientID string
	subject  string
	sid      string
	scopes   []string
	amr      []string
	authTime time.Time
	expires  time.Time
	revoked  bool
}

// refreshRequest is what op gets for a refresh_token grant: a snapshot of
// the presented token and the scopes asked for now.
type refreshRequest struct {
	token  refreshToken
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return r.token.amr }
func (r *refreshRequest) GetAudience() []string            { return []string{r.token.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.token.authTime }
func (r *refreshRequest) GetClientID() string              { return r.token.clientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.token.subject }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// randomToken returns n random bytes, base64url encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand docs)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret returns a fixed-length digest of a secret value, so stored
// maps never hold the secret itself and comparisons take constant time.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
