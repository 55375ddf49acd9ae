package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/store"
)

// RemoteProfilePingMany records the pings in one statement. INSERT … ON
// CONFLICT DO UPDATE cannot touch one row twice, so the pings are grouped
// by (network, user_id) first: a group counts its pings (n), and takes
// from its first ping (input order) what RemoteProfilePing's first ping
// would leave (display_name, first_seen_at, updated_at and the
// ping_received_at a row without one gets) and from its last the pull
// lease, as those pings one after the other would. The groups are
// inserted in key order, so that concurrent batches (and
// RemoteProfileRecordPulls, RemoteProfileGetManyForUpdate) take the rows'
// locks in one order. Each group's final ping_seq S is handed out in Go:
// its k pings get S-k+1 … S in input order.
func (q queries) RemoteProfilePingMany(ctx context.Context, pings []store.RemoteProfileTouchParams) ([]int64, error) {
	if len(pings) == 0 {
		return nil, nil
	}
	n := len(pings)
	var (
		networks     = make([]string, n)
		userIDs      = make([]string, n)
		displayNames = make([]string, n)
		ats          = make([]time.Time, n)
		leases       = make([]*time.Time, n)
	)
	for i, p := range pings {
		if p.Network == "" || p.UserID == "" {
			return nil, errors.New("postgres: remote profile ping many: Network and UserID are required")
		}
		networks[i], userIDs[i], displayNames[i] = p.Network, p.UserID, p.DisplayName
		ats[i], leases[i] = p.At, nullTime(p.PullLeaseUntil)
	}
	rows, err := q.db.Query(ctx,
		`WITH i AS (
		     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
		         WITH ORDINALITY AS i(network, user_id, display_name, at, lease, ord)
		 ), g AS (
		     SELECT network, user_id, count(*) AS n,
		            (array_agg(display_name ORDER BY ord))[1] AS display_name,
		            (array_agg(at ORDER BY ord))[1] AS at,
		            (array_agg(lease ORDER BY ord DESC))[1] AS lease
		     FROM i GROUP BY network, user_id
		 )
		 INSERT INTO hub_remote_profile AS r (network, user_id, status, display_name, ping_seq,
		     ping_received_at, first_seen_at, updated_at, pull_lease_until)
		 SELECT network, user_id, $6::text, display_name, n, at, at, at, lease
		 FROM g ORDER BY network COLLATE "C", user_id COLLATE "C"
		 ON CONFLICT (network, user_id) DO UPDATE SET
		     ping_seq = r.ping_seq + EXCLUDED.ping_seq,
		     ping_received_at = COALESCE(r.ping_received_at, EXCLUDED.ping_received_at),
		     pull_lease_until = EXCLUDED.pull_lease_until
		 RETURNING network, user_id, ping_seq`,
		networks, userIDs, displayNames, ats, leases, string(store.RemoteProfilePending))
	if err != nil {
		return nil, wrap("remote profile ping many", err)
	}
	final := make(map[[2]string]int64, n)
	var (
		network, userID string
		seq             int64
	)
	for rows.Next() {
		if err := rows.Scan(&network, &userID, &seq); err != nil {
			rows.Close()
			return nil, wrap("remote profile ping many", err)
		}
		final[[2]string{network, userID}] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("remote profile ping many", err)
	}
	count := make(map[[2]string]int64, len(final))
	for _, p := range pings {
		count[[2]string{p.Network, p.UserID}]++
	}
	seqs := make([]int64, n)
	for i, p := range pings {
		key := [2]string{p.Network, p.UserID}
		s, ok := final[key]
		if !ok {
			return nil, fmt.Errorf("postgres: remote profile ping many: no row returned for %s@%s", p.UserID, p.Network)
		}
		// count[key] pings of key are still to number; this one is the
		// earliest of them.
		seqs[i] = s - count[key] + 1
		count[key]--
	}
	return seqs, nil
}
