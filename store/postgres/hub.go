package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

// PullURLSet creates or replaces the network's registration; an empty
// Template keeps the stored one.
func (q queries) PullURLSet(ctx context.Context, u *store.PullURL) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO hub_pull_url AS p (network, template, affiliation_url, updated_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (network) DO UPDATE SET
		     template = CASE WHEN EXCLUDED.template = '' THEN p.template ELSE EXCLUDED.template END,
		     affiliation_url = EXCLUDED.affiliation_url,
		     updated_at = EXCLUDED.updated_at`,
		u.Network, u.Template, u.AffiliationURL, u.UpdatedAt)
	if err != nil {
		return wrap("pull url set", err)
	}
	return nil
}

// PullURLGet returns store.ErrNotFound when the network registered nothing.
func (q queries) PullURLGet(ctx context.Context, network string) (*store.PullURL, error) {
	var u store.PullURL
	err := q.db.QueryRow(ctx,
		`SELECT network, template, affiliation_url, updated_at FROM hub_pull_url WHERE network = $1`, network).
		Scan(&u.Network, &u.Template, &u.AffiliationURL, &u.UpdatedAt)
	if err != nil {
		return nil, wrap("pull url get", err)
	}
	u.UpdatedAt = u.UpdatedAt.UTC()
	return &u, nil
}

const remoteProfileColumns = `network, user_id, status, data, display_name, avatar_url,
	ping_seq, pulled_seq, ping_received_at, last_pull_at, last_pull_result, last_changed,
	first_seen_at, updated_at`

func scanRemoteProfile(row pgx.Row) (*store.RemoteProfile, error) {
	return scanRemoteProfileWith(row)
}

// scanRemoteProfileWith scans remoteProfileColumns followed by the extra
// columns into extra.
func scanRemoteProfileWith(row pgx.Row, extra ...any) (*store.RemoteProfile, error) {
	var (
		p                          store.RemoteProfile
		status                     string
		pingReceivedAt, lastPullAt *time.Time
	)
	dest := append([]any{&p.Network, &p.UserID, &status, &p.Data, &p.DisplayName, &p.AvatarURL,
		&p.PingSeq, &p.PulledSeq, &pingReceivedAt, &lastPullAt, &p.LastPullResult, &p.LastChanged,
		&p.FirstSeenAt, &p.UpdatedAt}, extra...)
	err := row.Scan(dest...)
	if err != nil {
		return nil, err
	}
	p.Status = store.RemoteProfileStatus(status)
	p.PingReceivedAt = fromNullTime(pingReceivedAt)
	p.LastPullAt = fromNullTime(lastPullAt)
	p.FirstSeenAt = p.FirstSeenAt.UTC()
	p.UpdatedAt = p.UpdatedAt.UTC()
	return &p, nil
}

// prefixed qualifies each column of a comma-separated list with prefix
// ("p." for a table alias).
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

func collectRemoteProfiles(rows pgx.Rows) ([]*store.RemoteProfile, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.RemoteProfile, error) { return scanRemoteProfile(row) })
}

// RemoteProfileTouch creates the row as pending (PingSeq 1) or increments
// PingSeq, in one INSERT … ON CONFLICT statement; PingReceivedAt is set when
// it was empty.
func (q queries) RemoteProfileTouch(ctx context.Context, params store.RemoteProfileTouchParams) (*store.RemoteProfile, error) {
	if params.Network == "" || params.UserID == "" {
		return nil, errors.New("postgres: remote profile touch: Network and UserID are required")
	}
	p, err := scanRemoteProfile(q.db.QueryRow(ctx, remoteProfileTouchSQL+remoteProfileColumns, touchArgs(params)...))
	if err != nil {
		return nil, wrap("remote profile touch", err)
	}
	return p, nil
}

// RemoteProfilePing is RemoteProfileTouch's statement returning ping_seq.
func (q queries) RemoteProfilePing(ctx context.Context, params store.RemoteProfileTouchParams) (int64, error) {
	if params.Network == "" || params.UserID == "" {
		return 0, errors.New("postgres: remote profile ping: Network and UserID are required")
	}
	var seq int64
	if err := q.db.QueryRow(ctx, remoteProfileTouchSQL+`ping_seq`, touchArgs(params)...).Scan(&seq); err != nil {
		return 0, wrap("remote profile ping", err)
	}
	return seq, nil
}

// remoteProfileTouchSQL is the touch up to its RETURNING list.
const remoteProfileTouchSQL = `INSERT INTO hub_remote_profile AS r (network, user_id, status, display_name, ping_seq,
	     ping_received_at, first_seen_at, updated_at, pull_lease_until)
	 VALUES ($1, $2, $3, $4, 1, $5, $5, $5, $6)
	 ON CONFLICT (network, user_id) DO UPDATE SET
	     ping_seq = r.ping_seq + 1,
	     ping_received_at = COALESCE(r.ping_received_at, EXCLUDED.ping_received_at),
	     pull_lease_until = EXCLUDED.pull_lease_until
	 RETURNING `

func touchArgs(params store.RemoteProfileTouchParams) []any {
	return []any{params.Network, params.UserID, string(store.RemoteProfilePending), params.DisplayName, params.At,
		nullTime(params.PullLeaseUntil)}
}

// claimJoin: the claims' UPDATE finds the rows their due CTE locked by
// ctid, a TID scan per row whatever the statistics say. Joined on the key,
// a fresh table's estimates (the outbox analyzed while nearly empty, then
// filled by a resync) made PostgreSQL scan the whole key index once per
// locked row: 2.3 s for a claim of 500 rows from 17,000 (EXPLAIN ANALYZE,
// 2026-12-04), where this takes about a millisecond; and with good
// statistics the hub's claim hashed its whole table per claim. A row that
// another transaction updated after the statement's snapshot and before
// its lock is locked but not updated (its new version is not visible to
// the TID scan): it is not returned, and the next claim takes it.

// pullLeaseKey is the claim order's leading key: a NULL lease counts as
// -infinity. It repeats hub_remote_profile_pull_due_idx's expression
// exactly, so the planner reads the claim from that index.
const pullLeaseKey = `COALESCE(pull_lease_until, '-infinity'::timestamptz)`

// RemoteProfileClaimPulls locks the due rows with FOR UPDATE SKIP LOCKED and
// moves their lease in the same statement, finding them by ctid
// (claimJoin); as with PingOutboxClaim, a row
// another claimer took is either skipped or no longer due on re-check.
func (q queries) RemoteProfileClaimPulls(ctx context.Context, params store.RemoteProfileClaimParams) ([]store.RemoteProfilePullClaim, error) {
	if params.Now.IsZero() || params.LeaseUntil.IsZero() {
		return nil, errors.New("postgres: remote profile claim pulls: Now and LeaseUntil are required")
	}
	rows, err := q.db.Query(ctx,
		`WITH due AS (
		     SELECT ctid, network, user_id, `+pullLeaseKey+` AS old_lease, ping_received_at
		     FROM hub_remote_profile
		     WHERE ping_seq > pulled_seq AND `+pullLeaseKey+` <= $1
		     ORDER BY `+pullLeaseKey+`, ping_received_at, network, user_id LIMIT $2
		     FOR UPDATE SKIP LOCKED
		 ), claimed AS (
		     UPDATE hub_remote_profile AS r SET pull_lease_until = $3
		     FROM due WHERE r.ctid = due.ctid
		     RETURNING r.network, r.user_id, r.ping_seq, due.old_lease, due.ping_received_at
		 )
		 SELECT network, user_id, ping_seq FROM claimed
		 ORDER BY old_lease, ping_received_at, network, user_id`,
		params.Now, clampLimit(params.Limit, claimDefault, claimMax), params.LeaseUntil)
	if err != nil {
		return nil, wrap("remote profile claim pulls", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[store.RemoteProfilePullClaim])
	if err != nil {
		return nil, wrap("remote profile claim pulls", err)
	}
	return out, nil
}

// RemoteProfileLeasePull sets the row's pull lease; a zero until clears it.
func (q queries) RemoteProfileLeasePull(ctx context.Context, network, userID string, until time.Time) error {
	tag, err := q.db.Exec(ctx,
		`UPDATE hub_remote_profile SET pull_lease_until = $3 WHERE network = $1 AND user_id = $2`,
		network, userID, nullTime(until))
	if err != nil {
		return wrap("remote profile lease pull", err)
	}
	if tag.RowsAffected() == 0 {
		return wrap("remote profile lease pull", pgx.ErrNoRows)
	}
	return nil
}

// RemoteProfilePendingCount counts the rows in the partial index's range.
func (q queries) RemoteProfilePendingCount(ctx context.Context) (int, error) {
	var n int
	if err := q.db.QueryRow(ctx,
		`SELECT count(*) FROM hub_remote_profile WHERE ping_seq > pulled_seq`).Scan(&n); err != nil {
		return 0, wrap("remote profile pending count", err)
	}
	return n, nil
}

// RemoteProfileOldestPending reads the partial index's range.
func (q queries) RemoteProfileOldestPending(ctx context.Context, leaseBefore time.Time) (time.Time, error) {
	var oldest *time.Time
	if err := q.db.QueryRow(ctx,
		`SELECT min(ping_received_at) FROM hub_remote_profile
		 WHERE ping_seq > pulled_seq AND (pull_lease_until IS NULL OR pull_lease_until < $1)`,
		leaseBefore).Scan(&oldest); err != nil {
		return time.Time{}, wrap("remote profile oldest pending", err)
	}
	return fromNullTime(oldest), nil
}

// RemoteProfilePingSeqForUpdate reads PingSeq with SELECT … FOR UPDATE.
func (q queries) RemoteProfilePingSeqForUpdate(ctx context.Context, network, userID string) (int64, error) {
	var seq int64
	err := q.db.QueryRow(ctx,
		`SELECT ping_seq FROM hub_remote_profile WHERE network = $1 AND user_id = $2 FOR UPDATE`,
		network, userID).Scan(&seq)
	if err != nil {
		return 0, wrap("remote profile ping seq for update", err)
	}
	return seq, nil
}

// RemoteProfileRecordPull locks the row, then stores the pull's result:
// sequence numbers and pull status always, data only when Status is OK and
// Data differs byte for byte from the stored Data.
func (q queries) RemoteProfileRecordPull(ctx context.Context, params store.RemoteProfilePullParams) (*store.RemoteProfile, bool, error) {
	if params.Status != store.RemoteProfileOK && params.Status != store.RemoteProfileMissing {
		return nil, false, fmt.Errorf("postgres: remote profile record pull: Status must be %q or %q, got %q",
			store.RemoteProfileOK, store.RemoteProfileMissing, params.Status)
	}
	var (
		out     *store.RemoteProfile
		changed bool
	)
	err := q.inTx(ctx, func(tx pgx.Tx) error {
		var (
			cur       []byte
			pulledSeq int64
		)
		err := tx.QueryRow(ctx,
			`SELECT data, pulled_seq FROM hub_remote_profile WHERE network = $1 AND user_id = $2 FOR UPDATE`,
			params.Network, params.UserID).Scan(&cur, &pulledSeq)
		if err != nil {
			return err
		}
		// A pull that started from an older ping than the last one recorded
		// (two pulls overlapped) must not write its older answer over it.
		stale := params.Seq < pulledSeq
		changed = !stale && params.Status == store.RemoteProfileOK && !bytes.Equal(cur, params.Data)
		status := params.Status
		if stale {
			status = ""
		}
		var lastChanged []string
		if len(params.Changed) > 0 {
			lastChanged = params.Changed
		}
		out, err = scanRemoteProfile(tx.QueryRow(ctx,
			`UPDATE hub_remote_profile SET
			     status = COALESCE(NULLIF($3, ''), status),
			     pulled_seq = GREATEST(pulled_seq, $4),
			     ping_received_at = CASE WHEN $4 >= ping_seq THEN NULL ELSE ping_received_at END,
			     last_pull_at = $5,
			     last_pull_result = $6,
			     data = CASE WHEN $7 THEN $8 ELSE data END,
			     display_name = CASE WHEN $7 THEN $9 ELSE display_name END,
			     avatar_url = CASE WHEN $7 THEN $10 ELSE avatar_url END,
			     last_changed = CASE WHEN $7 THEN $11 ELSE last_changed END,
			     updated_at = CASE WHEN $7 THEN $5 ELSE updated_at END
			 WHERE network = $1 AND user_id = $2
			 RETURNING `+remoteProfileColumns,
			params.Network, params.UserID, string(status), params.Seq, params.At, params.Result,
			changed, []byte(params.Data), params.DisplayName, params.AvatarURL, lastChanged))
		return err
	})
	if err != nil {
		return nil, false, wrap("remote profile record pull", err)
	}
	return out, changed, nil
}

// RemoteProfileRecordPullError records a failed attempt only.
func (q queries) RemoteProfileRecordPullError(ctx context.Context, network, userID, result string, at time.Time) error {
	tag, err := q.db.Exec(ctx,
		`UPDATE hub_remote_profile SET last_pull_at = $3, last_pull_result = $4
		 WHERE network = $1 AND user_id = $2`, network, userID, nullTime(at), result)
	if err != nil {
		return wrap("remote profile record pull error", err)
	}
	if tag.RowsAffected() == 0 {
		return wrap("remote profile record pull error", pgx.ErrNoRows)
	}
	return nil
}

// RemoteProfileGet returns store.ErrNotFound when unknown.
func (q queries) RemoteProfileGet(ctx context.Context, network, userID string) (*store.RemoteProfile, error) {
	p, err := scanRemoteProfile(q.db.QueryRow(ctx,
		`SELECT `+remoteProfileColumns+` FROM hub_remote_profile WHERE network = $1 AND user_id = $2`,
		network, userID))
	if err != nil {
		return nil, wrap("remote profile get", err)
	}
	return p, nil
}

// RemoteProfileGetMany returns the rows that exist among userIDs.
func (q queries) RemoteProfileGetMany(ctx context.Context, network string, userIDs []string) (map[string]*store.RemoteProfile, error) {
	out := make(map[string]*store.RemoteProfile, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx,
		`SELECT `+remoteProfileColumns+` FROM hub_remote_profile WHERE network = $1 AND user_id = ANY($2)`,
		network, userIDs)
	if err != nil {
		return nil, wrap("remote profile get many", err)
	}
	list, err := collectRemoteProfiles(rows)
	if err != nil {
		return nil, wrap("remote profile get many", err)
	}
	for _, p := range list {
		out[p.UserID] = p
	}
	return out, nil
}

// RemoteProfileList pages through a network's profiles by user id, filtered
// by user id prefix, and returns the total count matching the filter.
func (q queries) RemoteProfileList(ctx context.Context, params store.RemoteProfileListParams) ([]*store.RemoteProfile, int, error) {
	var total int
	err := q.db.QueryRow(ctx,
		`SELECT count(*) FROM hub_remote_profile WHERE network = $1 AND starts_with(user_id, $2)`,
		params.Network, params.Query).Scan(&total)
	if err != nil {
		return nil, 0, wrap("remote profile list", err)
	}
	rows, err := q.db.Query(ctx,
		`SELECT `+remoteProfileColumns+` FROM hub_remote_profile
		 WHERE network = $1 AND starts_with(user_id, $2)
		 ORDER BY user_id OFFSET $3 LIMIT $4`,
		params.Network, params.Query, max(params.Offset, 0), clampLimit(params.Limit, 50, 1000))
	if err != nil {
		return nil, 0, wrap("remote profile list", err)
	}
	list, err := collectRemoteProfiles(rows)
	if err != nil {
		return nil, 0, wrap("remote profile list", err)
	}
	return list, total, nil
}

// CommentCreate stores a comment; a zero CreatedAt becomes the current time.
func (q queries) CommentCreate(ctx context.Context, c *store.Comment) (*store.Comment, error) {
	out := *c
	if out.CreatedAt.IsZero() {
		out.CreatedAt = time.Now()
	}
	out.CreatedAt = out.CreatedAt.Truncate(time.Microsecond).UTC()
	err := q.db.QueryRow(ctx,
		`INSERT INTO hub_comment (network, article_id, user_id, body, created_at)
		 VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		out.Network, out.ArticleID, out.UserID, out.Body, out.CreatedAt).Scan(&out.ID)
	if err != nil {
		return nil, wrap("comment create", err)
	}
	return &out, nil
}

// CommentList lists an article's comments oldest first.
func (q queries) CommentList(ctx context.Context, params store.CommentListParams) ([]*store.Comment, error) {
	rows, err := q.db.Query(ctx,
		`SELECT id, network, article_id, user_id, body, created_at FROM hub_comment
		 WHERE network = $1 AND article_id = $2 AND id > $3
		 ORDER BY id LIMIT $4`,
		params.Network, params.ArticleID, params.AfterID, clampLimit(params.Limit, 100, 1000))
	if err != nil {
		return nil, wrap("comment list", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Comment, error) {
		var c store.Comment
		if err := row.Scan(&c.ID, &c.Network, &c.ArticleID, &c.UserID, &c.Body, &c.CreatedAt); err != nil {
			return nil, err
		}
		c.CreatedAt = c.CreatedAt.UTC()
		return &c, nil
	})
	if err != nil {
		return nil, wrap("comment list", err)
	}
	return list, nil
}
