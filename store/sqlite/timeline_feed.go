package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ssogate/ssogate/store"
)

// TimelineLastID returns the newest event's ID (0: none). MAX on the
// rowid is one step down the table's b-tree.
func (q queries) TimelineLastID(ctx context.Context) (int64, error) {
	var id int64
	if err := q.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM timeline_event`).Scan(&id); err != nil {
		return 0, fmt.Errorf("sqlite: timeline last id: %w", mapError(err))
	}
	return id, nil
}

// TimelineAfter returns events after params.After, oldest first: a range
// of the rowid, the kinds filtered as it is walked.
func (q queries) TimelineAfter(ctx context.Context, params store.TimelineAfterParams) ([]*store.TimelineEvent, error) {
	limit := clampLimit(params.Limit, 100, 5000)
	var (
		rows *sql.Rows
		err  error
	)
	if len(params.Kinds) == 0 {
		rows, err = q.read.QueryContext(ctx,
			`SELECT id, user_id, kind, detail, at FROM timeline_event WHERE id > ? ORDER BY id LIMIT ?`,
			params.After, limit)
	} else {
		kinds, jerr := json.Marshal(params.Kinds)
		if jerr != nil {
			return nil, fmt.Errorf("sqlite: timeline after: %w", jerr)
		}
		rows, err = q.read.QueryContext(ctx,
			`SELECT id, user_id, kind, detail, at FROM timeline_event
			 WHERE id > ? AND kind IN (SELECT value FROM json_each(?))
			 ORDER BY id LIMIT ?`,
			params.After, string(kinds), limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: timeline after: %w", mapError(err))
	}
	out, err := scanTimeline(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: timeline after: %w", err)
	}
	return out, nil
}

// TimelineByIDs returns the events among ids, oldest first.
func (q queries) TimelineByIDs(ctx context.Context, ids []int64) ([]*store.TimelineEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > store.TimelineByIDsMax {
		return nil, fmt.Errorf("sqlite: timeline by ids: %d ids, at most %d", len(ids), store.TimelineByIDsMax)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: timeline by ids: %w", err)
	}
	rows, err := q.read.QueryContext(ctx,
		`SELECT id, user_id, kind, detail, at FROM timeline_event
		 WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: timeline by ids: %w", mapError(err))
	}
	out, err := scanTimeline(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: timeline by ids: %w", err)
	}
	return out, nil
}

// scanTimeline reads timeline_event rows (id, user_id, kind, detail, at)
// and closes them.
func scanTimeline(rows *sql.Rows) ([]*store.TimelineEvent, error) {
	defer rows.Close()
	var out []*store.TimelineEvent
	for rows.Next() {
		var (
			e      store.TimelineEvent
			detail string
			at     int64
		)
		if err := rows.Scan(&e.ID, &e.UserID, &e.Kind, &detail, &at); err != nil {
			return nil, mapError(err)
		}
		e.Detail = json.RawMessage(detail)
		e.At = fromMicros(at)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}
