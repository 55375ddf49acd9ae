package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ssogate/ssogate/store"
)

// TimelineAppend stores event and returns it with its ID.
func (q queries) TimelineAppend(ctx context.Context, event *store.TimelineEvent) (*store.TimelineEvent, error) {
	if event.UserID == "" || event.Kind == "" {
		return nil, errors.New("sqlite: append timeline: UserID and Kind are required")
	}
	detail := event.Detail
	if len(detail) == 0 {
		detail = json.RawMessage(`{}`)
	}
	out := *event
	out.Detail = detail
	out.At = truncMicro(event.At)
	err := q.db.QueryRowContext(ctx,
		`INSERT INTO timeline_event (user_id, kind, detail, at) VALUES (?, ?, ?, ?) RETURNING id`,
		event.UserID, event.Kind, string(detail), micros(event.At)).Scan(&out.ID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: append timeline: %w", mapError(err))
	}
	return &out, nil
}

// TimelineList returns a user's events newest first.
func (q queries) TimelineList(ctx context.Context, params store.TimelineListParams) ([]*store.TimelineEvent, error) {
	query := `SELECT id, user_id, kind, detail, at FROM timeline_event WHERE user_id = ? ORDER BY id DESC LIMIT ?`
	args := []any{params.UserID, clampLimit(params.Limit, 100, 1000)}
	if params.Before > 0 {
		query = `SELECT id, user_id, kind, detail, at FROM timeline_event WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?`
		args = []any{params.UserID, params.Before, args[1]}
	}
	rows, err := q.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list timeline: %w", mapError(err))
	}
	out, err := scanTimeline(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list timeline: %w", err)
	}
	return out, nil
}
