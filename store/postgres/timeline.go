package postgres

import (
	"time"

	"context"

	"github.com/ssogate/ssogate/store"
)

// TimelineAppend stores event and returns it with its ID.
func (q queries) TimelineAppend(ctx context.Context, event *store.TimelineEvent) (*store.TimelineEvent, error) {
	out := *event
	err := q.db.QueryRow(ctx,
		`INSERT INTO timeline_event (user_id, kind, detail, at) VALUES ($1, $2, $3, $4) RETURNING id`,
		event.UserID, event.Kind, []byte(event.Detail), event.At).Scan(&out.ID)
	if err != nil {
		return nil, wrap("timeline append", err)
	}
	out.At = out.At.Truncate(time.Microsecond).UTC()
	return &out, nil
}

// TimelineList returns one user's events newest first.
func (q queries) TimelineList(ctx context.Context, params store.TimelineListParams) ([]*store.TimelineEvent, error) {
	rows, err := q.db.Query(ctx,
		`SELECT id, user_id, kind, detail, at FROM timeline_event
		 WHERE user_id = $1 AND ($2 = 0 OR id < $2)
		 ORDER BY id DESC LIMIT $3`,
		params.UserID, params.Before, clampLimit(params.Limit, 100, 1000))
	if err != nil {
		return nil, wrap("timeline list", err)
	}
	list, err := collectTimeline(rows)
	if err != nil {
		return nil, wrap("timeline list", err)
	}
	return list, nil
}
