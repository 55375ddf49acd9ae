package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

// TimelineLastID returns the newest visible event's ID (0: none), from the
// end of the primary key.
func (q queries) TimelineLastID(ctx context.Context) (int64, error) {
	var id int64
	if err := q.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM timeline_event`).Scan(&id); err != nil {
		return 0, wrap("timeline last id", err)
	}
	return id, nil
}

// TimelineAfter returns events after params.After, oldest first: a range
// of the primary key, the kinds filtered as it is walked. A NULL kind list
// is every kind.
func (q queries) TimelineAfter(ctx context.Context, params store.TimelineAfterParams) ([]*store.TimelineEvent, error) {
	var kinds []string
	if len(params.Kinds) > 0 {
		kinds = params.Kinds
	}
	rows, err := q.db.Query(ctx,
		`SELECT id, user_id, kind, detail, at FROM timeline_event
		 WHERE id > $1 AND ($2::text[] IS NULL OR kind = ANY($2))
		 ORDER BY id LIMIT $3`,
		params.After, kinds, clampLimit(params.Limit, 100, 5000))
	if err != nil {
		return nil, wrap("timeline after", err)
	}
	list, err := collectTimeline(rows)
	if err != nil {
		return nil, wrap("timeline after", err)
	}
	return list, nil
}

// TimelineByIDs returns the visible events among ids, oldest first.
func (q queries) TimelineByIDs(ctx context.Context, ids []int64) ([]*store.TimelineEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > store.TimelineByIDsMax {
		return nil, fmt.Errorf("postgres: timeline by ids: %d ids, at most %d", len(ids), store.TimelineByIDsMax)
	}
	rows, err := q.db.Query(ctx,
		`SELECT id, user_id, kind, detail, at FROM timeline_event WHERE id = ANY($1::bigint[]) ORDER BY id`, ids)
	if err != nil {
		return nil, wrap("timeline by ids", err)
	}
	list, err := collectTimeline(rows)
	if err != nil {
		return nil, wrap("timeline by ids", err)
	}
	return list, nil
}

// collectTimeline reads timeline_event rows (id, user_id, kind, detail,
// at).
func collectTimeline(rows pgx.Rows) ([]*store.TimelineEvent, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.TimelineEvent, error) {
		var e store.TimelineEvent
		if err := row.Scan(&e.ID, &e.UserID, &e.Kind, &e.Detail, &e.At); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		return &e, nil
	})
}
