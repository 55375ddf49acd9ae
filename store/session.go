package store

import (
	"context"
	"time"
)

// Session is a gateway browser session. The credential the browser holds is
// never stored: ID is its SHA-256 hash (hex).
type Session struct {
	ID     string
	UserID string
	// ProviderSubject and ProviderSID identify the provider's session, for
	// back-channel logout (by sid, or by sub when no sid was given).
	ProviderSubject string
	ProviderSID     string
	// RefreshTokenEnc is the provider's refresh token, AES-GCM encrypted by
	// the caller. Empty when the provider gave none.
	RefreshTokenEnc []byte
	// AccessTokenExpiresAt is when the provider's access token expires; the
	// refresh token is used before then.
	AccessTokenExpiresAt time.Time
	// IDTokenHint is the raw ID token, kept for the end-session URL's
	// id_token_hint. Not a credential for anything on its own.
	IDTokenHint string
	// Origin is the site origin the session was created for.
	Origin      string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	IdleExpires time.Time
	AbsExpires  time.Time
	EndedAt     time.Time // zero while active
	EndReason   string    // "logout", "backchannel", "refresh_refused", "expired"
}

// Active reports whether the session can be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.EndedAt.IsZero() && now.Before(s.IdleExpires) && now.Before(s.AbsExpires)
}

// SessionTouchParams extends a session's idle lifetime.
type SessionTouchParams struct {
	ID          string
	LastSeenAt  time.Time
	IdleExpires time.Time
}

// SessionRefreshParams stores the result of a provider refresh.
type SessionRefreshParams struct {
	ID                   string
	RefreshTokenEnc      []byte
	AccessTokenExpiresAt time.Time
	IDTokenHint          string // empty: keep
}

// SessionEndParams ends sessions. Exactly one of ID, UserID, ProviderSID,
// ProviderSubject selects them.
type SessionEndParams struct {
	ID              string
	UserID          string
	ProviderSID     string
	ProviderSubject string
	Reason          string
	At              time.Time
}

// SessionEndExpiredParams ends the active sessions whose idle or absolute
// expiry is at or before At, at most Limit of them (oldest expiry first).
type SessionEndExpiredParams struct {
	At     time.Time
	Reason string
	Limit  int
}

// SessionQueries manage gateway sessions.
type SessionQueries interface {
	// SessionCreate returns ErrConflict when the ID exists.
	SessionCreate(ctx context.Context, session *Session) error
	// SessionGet returns the session whatever its state (callers check
	// Active); ErrNotFound when unknown.
	SessionGet(ctx context.Context, id string) (*Session, error)
	// SessionTouch updates LastSeenAt and IdleExpires of an active session.
	SessionTouch(ctx context.Context, params SessionTouchParams) error
	// SessionRefresh stores a new refresh token (rotation).
	SessionRefresh(ctx context.Context, params SessionRefreshParams) error
	// SessionEnd ends the matching active sessions and returns them (as they
	// were before ending, with EndedAt and EndReason set).
	SessionEnd(ctx context.Context, params SessionEndParams) ([]*Session, error)
	// SessionEndExpired ends sessions that expired unnoticed (nobody used
	// them after their expiry) and returns them as SessionEnd does, so that
	// what must follow a session end (revoking its refresh token at the
	// provider) follows expiry too.
	SessionEndExpired(ctx context.Context, params SessionEndExpiredParams) ([]*Session, error)
	// SessionListByUser returns the user's active sessions at now.
	SessionListByUser(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// SessionDeleteEnded deletes sessions ended or expired before t.
	SessionDeleteEnded(ctx context.Context, t time.Time) (int, error)
}
