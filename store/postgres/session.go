package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

const sessionColumns = `id, user_id, provider_subject, provider_sid, refresh_token_enc,
	access_token_expires_at, id_token_hint, origin, created_at, last_seen_at,
	idle_expires, abs_expires, ended_at, end_reason`

func scanSession(row pgx.Row) (*store.Session, error) {
	var (
		s                  store.Session
		accessExp, endedAt *time.Time
	)
	err := row.Scan(&s.ID, &s.UserID, &s.ProviderSubject, &s.ProviderSID, &s.RefreshTokenEnc,
		&accessExp, &s.IDTokenHint, &s.Origin, &s.CreatedAt, &s.LastSeenAt,
		&s.IdleExpires, &s.AbsExpires, &endedAt, &s.EndReason)
	if err != nil {
		return nil, err
	}
	s.AccessTokenExpiresAt = fromNullTime(accessExp)
	s.EndedAt = fromNullTime(endedAt)
	s.CreatedAt = s.CreatedAt.UTC()
	s.LastSeenAt = s.LastSeenAt.UTC()
	s.IdleExpires = s.IdleExpires.UTC()
	s.AbsExpires = s.AbsExpires.UTC()
	return &s, nil
}

func collectSessions(rows pgx.Rows) ([]*store.Session, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Session, error) { return scanSession(row) })
}

// SessionCreate returns store.ErrConflict when the ID exists.
func (q queries) SessionCreate(ctx context.Context, s *store.Session) error {
	tag, err := q.db.Exec(ctx,
		`INSERT INTO gateway_session (`+sessionColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		 ON CONFLICT (id) DO NOTHING`,
		s.ID, s.UserID, s.ProviderSubject, s.ProviderSID, s.RefreshTokenEnc,
		nullTime(s.AccessTokenExpiresAt), s.IDTokenHint, s.Origin, s.CreatedAt, s.LastSeenAt,
		s.IdleExpires, s.AbsExpires, nullTime(s.EndedAt), s.EndReason)
	if err != nil {
		return wrap("session create", err)
	}
	if tag.RowsAffected() == 0 {
		return wrapConflict("session create")
	}
	return nil
}

// SessionGet returns the session whatever its state.
func (q queries) SessionGet(ctx context.Context, id string) (*store.Session, error) {
	s, err := scanSession(q.db.QueryRow(ctx, `SELECT `+sessionColumns+` FROM gateway_session WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("session get", err)
	}
	return s, nil
}

// SessionTouch extends a session that is active at params.LastSeenAt;
// store.ErrNotFound when there is no such session.
func (q queries) SessionTouch(ctx context.Context, params store.SessionTouchParams) error {
	tag, err := q.db.Exec(ctx,
		`UPDATE gateway_session SET last_seen_at = $2, idle_expires = $3
		 WHERE id = $1 AND ended_at IS NULL AND idle_expires > $2 AND abs_expires > $2`,
		params.ID, params.LastSeenAt, params.IdleExpires)
	if err != nil {
		return wrap("session touch", err)
	}
	if tag.RowsAffected() == 0 {
		return wrap("session touch", pgx.ErrNoRows)
	}
	return nil
}

// SessionRefresh stores a rotated refresh token on a session that has not
// ended; store.ErrNotFound otherwise. An empty IDTokenHint keeps the stored
// one.
func (q queries) SessionRefresh(ctx context.Context, params store.SessionRefreshParams) error {
	tag, err := q.db.Exec(ctx,
		`UPDATE gateway_session SET refresh_token_enc = $2, access_token_expires_at = $3,
		     id_token_hint = CASE WHEN $4 = '' THEN id_token_hint ELSE $4 END
		 WHERE id = $1 AND ended_at IS NULL`,
		params.ID, params.RefreshTokenEnc, nullTime(params.AccessTokenExpiresAt), params.IDTokenHint)
	if err != nil {
		return wrap("session refresh", err)
	}
	if tag.RowsAffected() == 0 {
		return wrap("session refresh", pgx.ErrNoRows)
	}
	return nil
}

// SessionEnd ends the sessions selected by exactly one of ID, UserID,
// ProviderSID, ProviderSubject that have not ended yet, and returns them
// (ordered by id) with EndedAt and EndReason set.
func (q queries) SessionEnd(ctx context.Context, params store.SessionEndParams) ([]*store.Session, error) {
	var (
		column, value string
		n             int
	)
	for _, sel := range []struct{ column, value string }{
		{"id", params.ID},
		{"user_id", params.UserID},
		{"provider_sid", params.ProviderSID},
		{"provider_subject", params.ProviderSubject},
	} {
		if sel.value != "" {
			column, value = sel.column, sel.value
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("postgres: session end: exactly one of ID, UserID, ProviderSID, ProviderSubject is required")
	}
	rows, err := q.db.Query(ctx,
		`UPDATE gateway_session SET ended_at = $2, end_reason = $3
		 WHERE `+column+` = $1 AND ended_at IS NULL
		 RETURNING `+sessionColumns,
		value, params.At, params.Reason)
	if err != nil {
		return nil, wrap("session end", err)
	}
	list, err := collectSessions(rows)
	if err != nil {
		return nil, wrap("session end", err)
	}
	slices.SortFunc(list, func(a, b *store.Session) int { return strings.Compare(a.ID, b.ID) })
	return list, nil
}

// SessionListByUser returns the user's sessions active at now, oldest first.
func (q queries) SessionListByUser(ctx context.Context, userID string, now time.Time) ([]*store.Session, error) {
	rows, err := q.db.Query(ctx,
		`SELECT `+sessionColumns+` FROM gateway_session
		 WHERE user_id = $1 AND ended_at IS NULL AND idle_expires > $2 AND abs_expires > $2
		 ORDER BY created_at, id`, userID, now)
	if err != nil {
		return nil, wrap("session list by user", err)
	}
	list, err := collectSessions(rows)
	if err != nil {
		return nil, wrap("session list by user", err)
	}
	return list, nil
}

// SessionEndExpired ends at most params.Limit active sessions that expired
// at or before params.At and returns them (ordered by id). SKIP LOCKED lets
// replicas that clean up at the same time take different sessions.
func (q queries) SessionEndExpired(ctx context.Context, params store.SessionEndExpiredParams) ([]*store.Session, error) {
	rows, err := q.db.Query(ctx,
		`UPDATE gateway_session SET ended_at = $1, end_reason = $2
		 WHERE id IN (SELECT id FROM gateway_session
		              WHERE ended_at IS NULL AND (idle_expires <= $1 OR abs_expires <= $1)
		              ORDER BY LEAST(idle_expires, abs_expires), id LIMIT $3
		              FOR UPDATE SKIP LOCKED)
		 RETURNING `+sessionColumns,
		params.At, params.Reason, params.Limit)
	if err != nil {
		return nil, wrap("session end expired", err)
	}
	list, err := collectSessions(rows)
	if err != nil {
		return nil, wrap("session end expired", err)
	}
	slices.SortFunc(list, func(a, b *store.Session) int { return strings.Compare(a.ID, b.ID) })
	return list, nil
}

// SessionDeleteEnded deletes sessions that ended or expired before t.
func (q queries) SessionDeleteEnded(ctx context.Context, t time.Time) (int, error) {
	tag, err := q.db.Exec(ctx,
		`DELETE FROM gateway_session WHERE ended_at < $1 OR idle_expires < $1 OR abs_expires < $1`, t)
	if err != nil {
		return 0, wrap("session delete ended", err)
	}
	return int(tag.RowsAffected()), nil
}
