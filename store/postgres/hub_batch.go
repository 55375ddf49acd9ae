package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

// RemoteProfileGetManyForUpdate reads and locks the rows in user id order
// (SELECT … ORDER BY user_id FOR UPDATE), so that two transactions locking
// overlapping sets wait for each other instead of deadlocking.
func (q queries) RemoteProfileGetManyForUpdate(ctx context.Context, network string, userIDs []string) (map[string]*store.RemoteProfile, error) {
	out := make(map[string]*store.RemoteProfile, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx,
		`SELECT `+remoteProfileColumns+` FROM hub_remote_profile
		 WHERE network = $1 AND user_id = ANY($2)
		 ORDER BY user_id FOR UPDATE`,
		network, userIDs)
	if err != nil {
		return nil, wrap("remote profile get many for update", err)
	}
	list, err := collectRemoteProfiles(rows)
	if err != nil {
		return nil, wrap("remote profile get many for update", err)
	}
	for _, p := range list {
		out[p.UserID] = p
	}
	return out, nil
}

// RemoteProfileRecordPulls records the batch in one statement: the input
// rows as arrays (unnest … WITH ORDINALITY), a CTE that locks the stored
// rows in key order and keeps their data and pulled_seq from before the
// write, and one UPDATE … FROM with the rules of RemoteProfileRecordPull.
func (q queries) RemoteProfileRecordPulls(ctx context.Context, params []store.RemoteProfilePullParams) ([]store.RemoteProfilePullRecorded, error) {
	if len(params) == 0 {
		return nil, nil
	}
	n := len(params)
	var (
		networks     = make([]string, n)
		userIDs      = make([]string, n)
		seqs         = make([]int64, n)
		ats          = make([]time.Time, n)
		statuses     = make([]string, n)
		results      = make([]string, n)
		data         = make([][]byte, n)
		displayNames = make([]string, n)
		avatars      = make([]string, n)
		changed      = make([]string, n)
	)
	seen := make(map[[2]string]struct{}, n)
	for i, p := range params {
		if p.Status != store.RemoteProfileOK && p.Status != store.RemoteProfileMissing {
			return nil, fmt.Errorf("postgres: remote profile record pulls: Status must be %q or %q, got %q",
				store.RemoteProfileOK, store.RemoteProfileMissing, p.Status)
		}
		key := [2]string{p.Network, p.UserID}
		if _, dup := seen[key]; dup {
			return nil, fmt.Errorf("postgres: remote profile record pulls: %s@%s appears twice", p.UserID, p.Network)
		}
		seen[key] = struct{}{}
		fields := p.Changed
		if fields == nil {
			fields = []string{}
		}
		enc, err := json.Marshal(fields)
		if err != nil {
			return nil, fmt.Errorf("postgres: remote profile record pulls: %w", err)
		}
		networks[i], userIDs[i], seqs[i], ats[i] = p.Network, p.UserID, p.Seq, p.At
		statuses[i], results[i], data[i] = string(p.Status), p.Result, []byte(p.Data)
		displayNames[i], avatars[i], changed[i] = p.DisplayName, p.AvatarURL, string(enc)
	}
	rows, err := q.db.Query(ctx,
		`WITH i AS (
		     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[],
		                          $6::text[], $7::bytea[], $8::text[], $9::text[], $10::text[])
		         WITH ORDINALITY AS i(network, user_id, seq, at, status, result, data, display_name, avatar_url, changed, ord)
		 ), locked AS (
		     SELECT p.network, p.user_id, p.data AS cur_data, p.pulled_seq AS cur_pulled
		     FROM hub_remote_profile p JOIN i ON i.network = p.network AND i.user_id = p.user_id
		     ORDER BY p.network, p.user_id
		     FOR UPDATE OF p
		 ), w AS (
		     SELECT i.*, l.cur_pulled,
		            (i.seq >= l.cur_pulled AND i.status = 'ok'
		             AND COALESCE(l.cur_data, ''::bytea) <> COALESCE(i.data, ''::bytea)) AS data_changed
		     FROM i JOIN locked l ON l.network = i.network AND l.user_id = i.user_id
		 )
		 UPDATE hub_remote_profile p SET
		     status = CASE WHEN w.seq < w.cur_pulled THEN p.status ELSE w.status END,
		     pulled_seq = GREATEST(p.pulled_seq, w.seq),
		     ping_received_at = CASE WHEN w.seq >= p.ping_seq THEN NULL ELSE p.ping_received_at END,
		     last_pull_at = w.at,
		     last_pull_result = w.result,
		     data = CASE WHEN w.data_changed THEN w.data ELSE p.data END,
		     display_name = CASE WHEN w.data_changed THEN w.display_name ELSE p.display_name END,
		     avatar_url = CASE WHEN w.data_changed THEN w.avatar_url ELSE p.avatar_url END,
		     last_changed = CASE WHEN w.data_changed
		         THEN (SELECT array_agg(f) FROM jsonb_array_elements_text(w.changed::jsonb) AS f)
		         ELSE p.last_changed END,
		     updated_at = CASE WHEN w.data_changed THEN w.at ELSE p.updated_at END
		 FROM w
		 WHERE p.network = w.network AND p.user_id = w.user_id
		 RETURNING `+prefixed("p.", remoteProfileColumns)+`, w.ord, w.data_changed`,
		networks, userIDs, seqs, ats, statuses, results, data, displayNames, avatars, changed)
	if err != nil {
		return nil, wrap("remote profile record pulls", err)
	}
	type recorded struct {
		store.RemoteProfilePullRecorded
		ord int64
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (recorded, error) {
		var r recorded
		p, err := scanRemoteProfileWith(row, &r.ord, &r.Changed)
		r.Profile = p
		return r, err
	})
	if err != nil {
		return nil, wrap("remote profile record pulls", err)
	}
	// RETURNING comes in no particular order: put it back in params' order.
	byOrd := make([]*store.RemoteProfilePullRecorded, n)
	for k := range list {
		byOrd[list[k].ord-1] = &list[k].RemoteProfilePullRecorded
	}
	out := make([]store.RemoteProfilePullRecorded, 0, len(list))
	for _, r := range byOrd {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}
