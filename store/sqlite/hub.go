package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/store"
)

// PullURLSet creates or replaces the network's registration; an empty
// Template keeps the stored one.
func (q queries) PullURLSet(ctx context.Context, p *store.PullURL) error {
	if p.Network == "" {
		return errors.New("sqlite: set pull url: Network is required")
	}
	_, err := q.db.ExecContext(ctx,
		`INSERT INTO pull_url (network, template, affiliation_url, updated_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (network) DO UPDATE SET
		   template = CASE WHEN excluded.template = '' THEN pull_url.template ELSE excluded.template END,
		   affiliation_url = excluded.affiliation_url,
		   updated_at = excluded.updated_at`,
		p.Network, p.Template, p.AffiliationURL, micros(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: set pull url: %w", mapError(err))
	}
	return nil
}

// PullURLGet returns store.ErrNotFound when the network registered nothing.
func (q queries) PullURLGet(ctx context.Context, network string) (*store.PullURL, error) {
	var (
		p         store.PullURL
		updatedAt int64
	)
	err := q.read.QueryRowContext(ctx,
		`SELECT network, template, affiliation_url, updated_at FROM pull_url WHERE network = ?`, network,
	).Scan(&p.Network, &p.Template, &p.AffiliationURL, &updatedAt)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get pull url: %w", mapError(err))
	}
	p.UpdatedAt = fromMicros(updatedAt)
	return &p, nil
}

const remoteProfileColumns = `network, user_id, status, data, display_name, avatar_url, ping_seq, pulled_seq,
	ping_received_at, last_pull_at, last_pull_result, last_changed, first_seen_at, updated_at`

func scanRemoteProfile(row rowScanner) (*store.RemoteProfile, error) {
	var (
		p                                     store.RemoteProfile
		status, lastChanged                   string
		data                                  sql.NullString
		pingReceivedAt, lastPullAt, updatedAt sql.NullInt64
		firstSeenAt                           int64
	)
	err := row.Scan(&p.Network, &p.UserID, &status, &data, &p.DisplayName, &p.AvatarURL, &p.PingSeq, &p.PulledSeq,
		&pingReceivedAt, &lastPullAt, &p.LastPullResult, &lastChanged, &firstSeenAt, &updatedAt)
	if err != nil {
		return nil, mapError(err)
	}
	p.Status = store.RemoteProfileStatus(status)
	if data.Valid {
		p.Data = json.RawMessage(data.String)
	}
	if err := json.Unmarshal([]byte(lastChanged), &p.LastChanged); err != nil {
		return nil, fmt.Errorf("decode last_changed: %w", err)
	}
	p.PingReceivedAt = fromNullMicros(pingReceivedAt)
	p.LastPullAt = fromNullMicros(lastPullAt)
	p.FirstSeenAt = fromMicros(firstSeenAt)
	p.UpdatedAt = fromNullMicros(updatedAt)
	return &p, nil
}

func scanRemoteProfiles(rows *sql.Rows) ([]*store.RemoteProfile, error) {
	defer rows.Close()
	var out []*store.RemoteProfile
	for rows.Next() {
		p, err := scanRemoteProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

// RemoteProfileTouch creates the row as pending or increments PingSeq, in
// one statement.
func (q queries) RemoteProfileTouch(ctx context.Context, params store.RemoteProfileTouchParams) (*store.RemoteProfile, error) {
	if params.Network == "" || params.UserID == "" {
		return nil, errors.New("sqlite: touch remote profile: Network and UserID are required")
	}
	p, err := scanRemoteProfile(q.db.QueryRowContext(ctx, remoteProfileTouchSQL+remoteProfileColumns, touchArgs(params)...))
	if err != nil {
		return nil, fmt.Errorf("sqlite: touch remote profile: %w", err)
	}
	return p, nil
}

// RemoteProfilePing is RemoteProfileTouch's statement returning ping_seq.
func (q queries) RemoteProfilePing(ctx context.Context, params store.RemoteProfileTouchParams) (int64, error) {
	if params.Network == "" || params.UserID == "" {
		return 0, errors.New("sqlite: remote profile ping: Network and UserID are required")
	}
	var seq int64
	if err := q.db.QueryRowContext(ctx, remoteProfileTouchSQL+`ping_seq`, touchArgs(params)...).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: remote profile ping: %w", err)
	}
	return seq, nil
}

// remoteProfileTouchSQL is the touch up to its RETURNING list.
const remoteProfileTouchSQL = `INSERT INTO remote_profile (network, user_id, status, display_name, ping_seq, ping_received_at, first_seen_at, pull_lease_until)
	 VALUES (?, ?, ?, ?, 1, ?, ?, ?)
	 ON CONFLICT (network, user_id) DO UPDATE SET
	   ping_seq = remote_profile.ping_seq + 1,
	   ping_received_at = coalesce(remote_profile.ping_received_at, excluded.ping_received_at),
	   pull_lease_until = excluded.pull_lease_until
	 RETURNING `

func touchArgs(params store.RemoteProfileTouchParams) []any {
	return []any{params.Network, params.UserID, string(store.RemoteProfilePending), params.DisplayName,
		micros(params.At), micros(params.At), nullMicros(params.PullLeaseUntil)}
}

// pullLeaseKey is the claim order's leading key: a NULL lease counts as Go's
// zero time. It repeats remote_profile_pull_due_idx's expression exactly, so
// SQLite reads the claim from that index.
const pullLeaseKey = `coalesce(pull_lease_until, -62135596800000000)`

// RemoteProfileClaimPulls selects the due rows from the partial index and
// moves their lease in one transaction; the write lock taken at BEGIN
// serializes claimers.
func (q queries) RemoteProfileClaimPulls(ctx context.Context, params store.RemoteProfileClaimParams) ([]store.RemoteProfilePullClaim, error) {
	if params.Now.IsZero() || params.LeaseUntil.IsZero() {
		return nil, errors.New("sqlite: claim pulls: Now and LeaseUntil are required")
	}
	// A look on a read connection first: a claim that finds nothing takes
	// no write lock.
	if q.tx == nil {
		var one int
		err := q.read.QueryRowContext(ctx, `SELECT 1 FROM remote_profile
			 WHERE ping_seq > pulled_seq AND `+pullLeaseKey+` <= ? LIMIT 1`, micros(params.Now)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: claim pulls: %w", mapError(err))
		}
	}
	var out []store.RemoteProfilePullClaim
	err := q.atomic(ctx, func(db querier) error {
		out = nil
		rows, err := db.QueryContext(ctx,
			`SELECT network, user_id, ping_seq FROM remote_profile
			 WHERE ping_seq > pulled_seq AND `+pullLeaseKey+` <= ?
			 ORDER BY `+pullLeaseKey+`, ping_received_at, network, user_id LIMIT ?`,
			micros(params.Now), clampLimit(params.Limit, claimDefault, claimMax))
		if err != nil {
			return mapError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var c store.RemoteProfilePullClaim
			if err := rows.Scan(&c.Network, &c.UserID, &c.PingSeq); err != nil {
				return mapError(err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return mapError(err)
		}
		if len(out) == 0 {
			return nil
		}
		keys := make([][2]string, len(out))
		for i, c := range out {
			keys[i] = [2]string{c.Network, c.UserID}
		}
		keysJSON, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx,
			`UPDATE remote_profile SET pull_lease_until = ?
			 WHERE (network, user_id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
			micros(params.LeaseUntil), string(keysJSON))
		return mapError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim pulls: %w", err)
	}
	return out, nil
}

// RemoteProfileLeasePull sets the row's pull lease; a zero until clears it.
func (q queries) RemoteProfileLeasePull(ctx context.Context, network, userID string, until time.Time) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE remote_profile SET pull_lease_until = ? WHERE network = ? AND user_id = ?`,
		nullMicros(until), network, userID)
	if err != nil {
		return fmt.Errorf("sqlite: lease pull: %w", mapError(err))
	}
	return requireOneRow(res, "lease pull")
}

// RemoteProfilePendingCount counts the rows in the partial index's range.
func (q queries) RemoteProfilePendingCount(ctx context.Context) (int, error) {
	var n int
	if err := q.read.QueryRowContext(ctx,
		`SELECT count(*) FROM remote_profile WHERE ping_seq > pulled_seq`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: pending pulls: %w", mapError(err))
	}
	return n, nil
}

// RemoteProfileOldestPending reads the partial index's range.
func (q queries) RemoteProfileOldestPending(ctx context.Context, leaseBefore time.Time) (time.Time, error) {
	var oldest sql.NullInt64
	if err := q.read.QueryRowContext(ctx,
		`SELECT min(ping_received_at) FROM remote_profile
		 WHERE ping_seq > pulled_seq AND (pull_lease_until IS NULL OR pull_lease_until < ?)`,
		micros(leaseBefore)).Scan(&oldest); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: oldest pending pull: %w", mapError(err))
	}
	return fromNullMicros(oldest), nil
}

// RemoteProfilePingSeqForUpdate returns PingSeq. SQLite has no row locks; a
// transaction already holds the database's write lock.
func (q queries) RemoteProfilePingSeqForUpdate(ctx context.Context, network, userID string) (int64, error) {
	var seq int64
	err := q.db.QueryRowContext(ctx,
		`SELECT ping_seq FROM remote_profile WHERE network = ? AND user_id = ?`, network, userID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("sqlite: remote profile ping seq: %w", mapError(err))
	}
	return seq, nil
}

// RemoteProfileRecordPull stores a pull's result in one transaction.
func (q queries) RemoteProfileRecordPull(ctx context.Context, params store.RemoteProfilePullParams) (*store.RemoteProfile, bool, error) {
	var (
		result  *store.RemoteProfile
		changed bool
	)
	err := q.atomic(ctx, func(db querier) error {
		var err error
		result, changed, err = recordPull(ctx, db, params)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: record pull: %w", err)
	}
	return result, changed, nil
}

// RemoteProfileRecordPulls records each pull as RemoteProfileRecordPull
// does, in one transaction (SQLite has one writer: there is no lock order
// to keep).
func (q queries) RemoteProfileRecordPulls(ctx context.Context, params []store.RemoteProfilePullParams) ([]store.RemoteProfilePullRecorded, error) {
	seen := make(map[[2]string]struct{}, len(params))
	for _, p := range params {
		key := [2]string{p.Network, p.UserID}
		if _, dup := seen[key]; dup {
			return nil, fmt.Errorf("sqlite: record pulls: %s@%s appears twice", p.UserID, p.Network)
		}
		seen[key] = struct{}{}
	}
	var out []store.RemoteProfilePullRecorded
	err := q.atomic(ctx, func(db querier) error {
		out = make([]store.RemoteProfilePullRecorded, 0, len(params))
		for _, p := range params {
			row, changed, err := recordPull(ctx, db, p)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, store.RemoteProfilePullRecorded{Profile: row, Changed: changed})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: record pulls: %w", err)
	}
	return out, nil
}

// RemoteProfileGetManyForUpdate is RemoteProfileGetMany: SQLite's one
// writer already serializes the transactions that write these rows.
func (q queries) RemoteProfileGetManyForUpdate(ctx context.Context, network string, userIDs []string) (map[string]*store.RemoteProfile, error) {
	return q.RemoteProfileGetMany(ctx, network, userIDs)
}

// recordPull stores one pull's result through db (see
// RemoteProfileRecordPull).
func recordPull(ctx context.Context, db querier, params store.RemoteProfilePullParams) (result *store.RemoteProfile, changed bool, err error) {
	if params.Status != store.RemoteProfileOK && params.Status != store.RemoteProfileMissing {
		return nil, false, fmt.Errorf("status %q is neither ok nor missing", params.Status)
	}
	cur, err := scanRemoteProfile(db.QueryRowContext(ctx,
		`SELECT `+remoteProfileColumns+` FROM remote_profile WHERE network = ? AND user_id = ?`,
		params.Network, params.UserID))
	if err != nil {
		return nil, false, err
	}
	pulledSeq := max(cur.PulledSeq, params.Seq)
	pingReceivedAt := nullMicros(cur.PingReceivedAt)
	if params.Seq >= cur.PingSeq {
		pingReceivedAt = nil
	}
	// A pull that started from an older ping than the last one recorded
	// (two pulls overlapped) must not write its older answer over it.
	stale := params.Seq < cur.PulledSeq
	changed = !stale && params.Status == store.RemoteProfileOK && len(params.Data) > 0 && !bytes.Equal(cur.Data, params.Data)
	if !changed {
		status := params.Status
		if stale {
			status = cur.Status
		}
		result, err = scanRemoteProfile(db.QueryRowContext(ctx,
			`UPDATE remote_profile SET status = ?, pulled_seq = ?, ping_received_at = ?, last_pull_at = ?, last_pull_result = ?
			 WHERE network = ? AND user_id = ? RETURNING `+remoteProfileColumns,
			string(status), pulledSeq, pingReceivedAt, micros(params.At), params.Result,
			params.Network, params.UserID))
		return result, changed, err
	}
	lastChanged := params.Changed
	if lastChanged == nil {
		lastChanged = []string{}
	}
	lastChangedJSON, err := json.Marshal(lastChanged)
	if err != nil {
		return nil, false, err
	}
	result, err = scanRemoteProfile(db.QueryRowContext(ctx,
		`UPDATE remote_profile SET status = ?, pulled_seq = ?, ping_received_at = ?, last_pull_at = ?, last_pull_result = ?,
		   data = ?, display_name = ?, avatar_url = ?, last_changed = ?, updated_at = ?
		 WHERE network = ? AND user_id = ? RETURNING `+remoteProfileColumns,
		string(params.Status), pulledSeq, pingReceivedAt, micros(params.At), params.Result,
		string(params.Data), params.DisplayName, params.AvatarURL, string(lastChangedJSON), micros(params.At),
		params.Network, params.UserID))
	return result, changed, err
}

// RemoteProfileRecordPullError records a failed attempt.
func (q queries) RemoteProfileRecordPullError(ctx context.Context, network, userID, result string, at time.Time) error {
	res, err := q.db.ExecContext(ctx,
		`UPDATE remote_profile SET last_pull_at = ?, last_pull_result = ? WHERE network = ? AND user_id = ?`,
		micros(at), result, network, userID)
	if err != nil {
		return fmt.Errorf("sqlite: record pull error: %w", mapError(err))
	}
	return requireOneRow(res, "record pull error")
}

// RemoteProfileGet returns store.ErrNotFound when unknown.
func (q queries) RemoteProfileGet(ctx context.Context, network, userID string) (*store.RemoteProfile, error) {
	p, err := scanRemoteProfile(q.read.QueryRowContext(ctx,
		`SELECT `+remoteProfileColumns+` FROM remote_profile WHERE network = ? AND user_id = ?`, network, userID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get remote profile: %w", err)
	}
	return p, nil
}

// RemoteProfileGetMany returns the rows that exist among userIDs.
func (q queries) RemoteProfileGetMany(ctx context.Context, network string, userIDs []string) (map[string]*store.RemoteProfile, error) {
	out := map[string]*store.RemoteProfile{}
	if len(userIDs) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(userIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get remote profiles: %w", err)
	}
	rows, err := q.read.QueryContext(ctx,
		`SELECT `+remoteProfileColumns+` FROM remote_profile
		 WHERE network = ? AND user_id IN (SELECT value FROM json_each(?))`, network, string(ids))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get remote profiles: %w", mapError(err))
	}
	ps, err := scanRemoteProfiles(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get remote profiles: %w", err)
	}
	for _, p := range ps {
		out[p.UserID] = p
	}
	return out, nil
}

// RemoteProfileList pages through a network's profiles by user id and
// returns how many match Query (a case-sensitive user id prefix).
func (q queries) RemoteProfileList(ctx context.Context, params store.RemoteProfileListParams) ([]*store.RemoteProfile, int, error) {
	// substr compares exactly: no LIKE wildcards to escape, case-sensitive.
	const where = `network = ? AND (? = '' OR substr(user_id, 1, length(?)) = ?)`
	args := []any{params.Network, params.Query, params.Query, params.Query}
	var total int
	if err := q.read.QueryRowContext(ctx, `SELECT count(*) FROM remote_profile WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list remote profiles: %w", mapError(err))
	}
	rows, err := q.read.QueryContext(ctx,
		`SELECT `+remoteProfileColumns+` FROM remote_profile WHERE `+where+` ORDER BY user_id LIMIT ? OFFSET ?`,
		append(args, clampLimit(params.Limit, 50, 1000), max(params.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list remote profiles: %w", mapError(err))
	}
	ps, err := scanRemoteProfiles(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list remote profiles: %w", err)
	}
	return ps, total, nil
}

// CommentCreate stores a comment; a zero CreatedAt becomes now.
func (q queries) CommentCreate(ctx context.Context, c *store.Comment) (*store.Comment, error) {
	if c.Network == "" || c.ArticleID == "" || c.UserID == "" {
		return nil, errors.New("sqlite: create comment: Network, ArticleID and UserID are required")
	}
	out := *c
	if out.CreatedAt.IsZero() {
		out.CreatedAt = time.Now()
	}
	out.CreatedAt = truncMicro(out.CreatedAt)
	err := q.db.QueryRowContext(ctx,
		`INSERT INTO comment (network, article_id, user_id, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		c.Network, c.ArticleID, c.UserID, c.Body, micros(out.CreatedAt)).Scan(&out.ID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create comment: %w", mapError(err))
	}
	return &out, nil
}

// CommentList lists an article's comments oldest first.
func (q queries) CommentList(ctx context.Context, params store.CommentListParams) ([]*store.Comment, error) {
	rows, err := q.read.QueryContext(ctx,
		`SELECT id, network, article_id, user_id, body, created_at FROM comment
		 WHERE network = ? AND article_id = ? AND id > ? ORDER BY id LIMIT ?`,
		params.Network, params.ArticleID, params.AfterID, clampLimit(params.Limit, 100, 1000))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list comments: %w", mapError(err))
	}
	defer rows.Close()
	var out []*store.Comment
	for rows.Next() {
		var (
			c         store.Comment
			createdAt int64
		)
		if err := rows.Scan(&c.ID, &c.Network, &c.ArticleID, &c.UserID, &c.Body, &createdAt); err != nil {
			return nil, fmt.Errorf("sqlite: list comments: %w", mapError(err))
		}
		c.CreatedAt = fromMicros(createdAt)
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list comments: %w", mapError(err))
	}
	return out, nil
}
