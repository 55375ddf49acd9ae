package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/ssogate/ssogate/store"
)

// TimelineAppendMany inserts the events in one INSERT … SELECT from
// unnest, ordered by their position so the identities follow it.
func (q queries) TimelineAppendMany(ctx context.Context, events []*store.TimelineEvent) error {
	if len(events) == 0 {
		return nil
	}
	users := make([]string, len(events))
	kinds := make([]string, len(events))
	details := make([][]byte, len(events))
	ats := make([]time.Time, len(events))
	for i, e := range events {
		if e.UserID == "" || e.Kind == "" {
			return errors.New("postgres: timeline append many: UserID and Kind are required")
		}
		users[i], kinds[i], details[i], ats[i] = e.UserID, e.Kind, []byte(e.Detail), e.At
	}
	_, err := q.db.Exec(ctx,
		`INSERT INTO timeline_event (user_id, kind, detail, at)
		 SELECT u, k, d, a FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[])
		     WITH ORDINALITY AS i(u, k, d, a, n)
		 ORDER BY n`,
		users, kinds, details, ats)
	if err != nil {
		return wrap("timeline append many", err)
	}
	return nil
}

// ProfileMarkServedMany raises served_version for the batch in one
// statement: each user's highest version (DISTINCT ON), the rows locked in
// user id order, unknown users and versions already served left alone.
func (q queries) ProfileMarkServedMany(ctx context.Context, served []store.ProfileServed) error {
	if len(served) == 0 {
		return nil
	}
	users := make([]string, len(served))
	versions := make([]int64, len(served))
	ats := make([]*time.Time, len(served))
	for i, s := range served {
		users[i], versions[i], ats[i] = s.UserID, s.Version, nullTime(s.At)
	}
	_, err := q.db.Exec(ctx,
		`WITH i AS (
		     SELECT DISTINCT ON (u) u, v, a
		     FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS i(u, v, a)
		     ORDER BY u, v DESC
		 ), locked AS (
		     SELECT p.user_id FROM profile p JOIN i ON i.u = p.user_id
		     WHERE p.served_version < i.v
		     ORDER BY p.user_id
		     FOR UPDATE OF p
		 )
		 UPDATE profile p SET served_version = i.v, served_at = i.a
		 FROM i JOIN locked l ON l.user_id = i.u
		 WHERE p.user_id = i.u AND p.served_version < i.v`,
		users, versions, ats)
	if err != nil {
		return wrap("profile mark served many", err)
	}
	return nil
}
