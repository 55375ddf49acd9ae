package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ssogate/ssogate/store"
)

const sessionColumns = `id, user_id, provider_subject, provider_sid, refresh_token_enc, access_token_expires_at,
	id_token_hint, origin, created_at, last_seen_at, idle_expires, abs_expires, ended_at, end_reason`

func scanSession(row rowScanner) (*store.Session, error) {
	var (
		s                                            store.Session
		accessExpires, endedAt                       sql.NullInt64
		createdAt, lastSeen, idleExpires, absExpires int64
	)
	err := row.Scan(&s.ID, &s.UserID, &s.ProviderSubject, &s.ProviderSID, &s.RefreshTokenEnc, &accessExpires,
		&s.IDTokenHint, &s.Origin, &createdAt, &lastSeen, &idleExpires, &absExpires, &endedAt, &s.EndReason)
	if err != nil {
		return nil, mapError(err)
	}
	s.AccessTokenExpiresAt = fromNullMicros(accessExpires)
	s.CreatedAt = fromMicros(createdAt)
	s.LastSeenAt = fromMicros(lastSeen)
	s.IdleExpires = fromMicros(idleExpires)
	s.AbsExpires = fromMicros(absExpires)
	s.EndedAt = fromNullMicros(endedAt)
	return &s, nil
}

func scanSessions(rows *sql.Rows) ([]*store.Session, error) {
	defer rows.Close()
	var out []*store.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

// SessionCreate returns store.ErrConflict when the ID exists.
func (q queries) SessionCreate(ctx context.Context, s *store.Session) error {
	if s.ID == "" || s.UserID == "" {
		return errors.New("sqlite: create session: ID and UserID are required")
	}
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO session (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.ProviderSubject, s.ProviderSID, s.RefreshTokenEnc, nullMicros(s.AccessTokenExpiresAt),
		s.IDTokenHint, s.Origin, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.IdleExpires), micros(s.AbsExpires),
		nullMicros(s.EndedAt), s.EndReason)
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", mapError(err))
	}
	return nil
}

// SessionGet returns the session whatever its state.
func (q queries) SessionGet(ctx context.Context, id string) (*store.Session, error) {
	s, err := scanSession(q.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM session WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get session: %w", err)
	}
	return s, nil
}

// SessionTouch extends an active (not ended) session; store.ErrNotFound
// when there is none with that ID.
func (q queries) SessionTouch(ctx context.Context, params store.SessionTouchParams) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE session SET last_seen_at = ?, idle_expires = ? WHERE id = ? AND ended_at IS NULL`,
		micros(params.LastSeenAt), micros(params.IdleExpires), params.ID)
	if err != nil {
		return fmt.Errorf("sqlite: touch session: %w", mapError(err))
	}
	return requireOneRow(res, "touch session")
}

// SessionRefresh stores a refreshed token; an empty IDTokenHint keeps the
// stored one. store.ErrNotFound when the ID is unknown.
func (q queries) SessionRefresh(ctx context.Context, params store.SessionRefreshParams) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE session SET refresh_token_enc = ?, access_token_expires_at = ?,
		 id_token_hint = CASE WHEN ? = '' THEN id_token_hint ELSE ? END
		 WHERE id = ?`,
		params.RefreshTokenEnc, nullMicros(params.AccessTokenExpiresAt), params.IDTokenHint, params.IDTokenHint, params.ID)
	if err != nil {
		return fmt.Errorf("sqlite: refresh session: %w", mapError(err))
	}
	return requireOneRow(res, "refresh session")
}

// SessionEnd ends the active sessions selected by exactly one of ID,
// UserID, ProviderSID, ProviderSubject and returns them.
func (q queries) SessionEnd(ctx context.Context, params store.SessionEndParams) ([]*store.Session, error) {
	var (
		column, value string
		selectors     int
	)
	for _, sel := range []struct{ column, value string }{
		{"id", params.ID}, {"user_id", params.UserID},
		{"provider_sid", params.ProviderSID}, {"provider_subject", params.ProviderSubject},
	} {
		if sel.value != "" {
			column, value = sel.column, sel.value
			selectors++
		}
	}
	if selectors != 1 {
		return nil, fmt.Errorf("sqlite: end sessions: exactly one of ID, UserID, ProviderSID, ProviderSubject is required, got %d", selectors)
	}
	// column comes from the fixed list above, never from input.
	rows, err := q.db.QueryContext(ctx,
		`UPDATE session SET ended_at = ?, end_reason = ? WHERE `+column+` = ? AND ended_at IS NULL RETURNING `+sessionColumns,
		micros(params.At), params.Reason, value)
	if err != nil {
		return nil, fmt.Errorf("sqlite: end sessions: %w", mapError(err))
	}
	out, err := scanSessions(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: end sessions: %w", err)
	}
	return out, nil
}

// SessionEndExpired ends at most params.Limit active sessions that expired
// at or before params.At and returns them.
func (q queries) SessionEndExpired(ctx context.Context, params store.SessionEndExpiredParams) ([]*store.Session, error) {
	rows, err := q.db.QueryContext(ctx,
		`UPDATE session SET ended_at = ?, end_reason = ?
		 WHERE id IN (SELECT id FROM session
		              WHERE ended_at IS NULL AND (idle_expires <= ? OR abs_expires <= ?)
		              ORDER BY min(idle_expires, abs_expires), id LIMIT ?)
		 RETURNING `+sessionColumns,
		micros(params.At), params.Reason, micros(params.At), micros(params.At), params.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: end expired sessions: %w", mapError(err))
	}
	out, err := scanSessions(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: end expired sessions: %w", err)
	}
	slices.SortFunc(out, func(a, b *store.Session) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// SessionListByUser returns the user's sessions active at now, oldest first.
func (q queries) SessionListByUser(ctx context.Context, userID string, now time.Time) ([]*store.Session, error) {
	rows, err := q.read.QueryContext(ctx,
		`SELECT `+sessionColumns+` FROM session
		 WHERE user_id = ? AND ended_at IS NULL AND idle_expires > ? AND abs_expires > ?
		 ORDER BY created_at, id`,
		userID, micros(now), micros(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sessions: %w", mapError(err))
	}
	out, err := scanSessions(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sessions: %w", err)
	}
	return out, nil
}

// SessionDeleteEnded deletes sessions ended or expired before t.
func (q queries) SessionDeleteEnded(ctx context.Context, t time.Time) (int, error) {
	res, err := q.db.ExecContext(ctx,
		`DELETE FROM session WHERE ended_at < ? OR idle_expires < ? OR abs_expires < ?`,
		micros(t), micros(t), micros(t))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete ended sessions: %w", mapError(err))
	}
	return rowsAffected(res)
}

// requireOneRow turns an update that matched nothing into ErrNotFound.
func requireOneRow(res sql.Result, op string) error {
	n, err := rowsAffected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	return nil
}
