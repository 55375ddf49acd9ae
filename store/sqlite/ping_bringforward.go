package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ssogate/ssogate/store"
)

// bringForwardDue is the selection of store.JobBringForward on river_job:
// retryable, of the given kinds (a JSON array), retry still ahead, no
// Retry-After running (the Unix milliseconds compared), last attempt not
// brought forward, and a unique key, if any, that covers retryable (bit 5
// of unique_states, River's SQLite encoding).
const bringForwardDue = `state = 'retryable'
	AND kind IN (SELECT value FROM json_each(?))
	AND scheduled_at > datetime('now', 'subsec')
	AND coalesce(json_extract(metadata, '$.` + store.JobMetaNotBefore + `'), 0) <= ?
	AND coalesce(json_extract(metadata, '$.` + store.JobMetaBroughtForward + `'), -1) <> attempt - 1
	AND (unique_key IS NULL OR coalesce(unique_states, 0) & 32 <> 0)`

// JobsBringForward looks on a read connection first, so that a call that
// finds nothing takes no write lock (it runs after successful pings), then
// moves the batch in one UPDATE. Timestamps are written as River's SQLite
// driver writes them (datetime('now', 'subsec')).
func (s *Store) JobsBringForward(ctx context.Context, params store.JobsBringForwardParams) (int, error) {
	if len(params.Kinds) == 0 || params.Now.IsZero() {
		return 0, errors.New("sqlite: jobs bring forward: Kinds and Now are required")
	}
	kinds, err := json.Marshal(params.Kinds)
	if err != nil {
		return 0, fmt.Errorf("sqlite: jobs bring forward: %w", err)
	}
	now := params.Now.UnixMilli()
	var one int
	err = s.readDB.QueryRowContext(ctx, `SELECT 1 FROM river_job WHERE `+bringForwardDue+` LIMIT 1`, string(kinds), now).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: jobs bring forward: %w", mapError(err))
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE river_job SET
		   state = 'available',
		   scheduled_at = datetime('now', 'subsec'),
		   metadata = jsonb_set(metadata, '$.`+store.JobMetaBroughtForward+`', attempt)
		 WHERE id IN (SELECT id FROM river_job WHERE `+bringForwardDue+`
		   ORDER BY scheduled_at, id LIMIT ?)`,
		string(kinds), now, clampLimit(params.Limit, store.JobsBringForwardDefaultLimit, store.JobsBringForwardMaxLimit))
	if err != nil {
		return 0, fmt.Errorf("sqlite: jobs bring forward: %w", mapError(err))
	}
	return rowsAffected(res)
}
