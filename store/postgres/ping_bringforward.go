package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ssogate/ssogate/store"
)

// JobsBringForward moves the batch in one statement: the due jobs are
// locked with FOR UPDATE SKIP LOCKED (a job River's scheduler or completer
// holds is skipped, not waited for) and re-checked as retryable by the
// UPDATE. Bit 2 of unique_states is retryable (River's
// river_job_state_in_bitmask).
func (s *Store) JobsBringForward(ctx context.Context, params store.JobsBringForwardParams) (int, error) {
	if len(params.Kinds) == 0 || params.Now.IsZero() {
		return 0, errors.New("postgres: jobs bring forward: Kinds and Now are required")
	}
	table := "river_job"
	if s.cfg.Schema != "" {
		table = pgx.Identifier{s.cfg.Schema, "river_job"}.Sanitize()
	}
	tag, err := s.pool.Exec(ctx,
		`WITH due AS (
		     SELECT id FROM `+table+`
		     WHERE state = 'retryable'
		       AND kind = ANY($1::text[])
		       AND scheduled_at > now()
		       AND coalesce(CASE WHEN jsonb_typeof(metadata->'`+store.JobMetaNotBefore+`') = 'number'
		                         THEN (metadata->>'`+store.JobMetaNotBefore+`')::numeric END, 0) <= $2
		       AND coalesce(CASE WHEN jsonb_typeof(metadata->'`+store.JobMetaBroughtForward+`') = 'number'
		                         THEN (metadata->>'`+store.JobMetaBroughtForward+`')::numeric END, -1) <> attempt - 1
		       AND (unique_key IS NULL OR get_bit(unique_states, 2) = 1)
		     ORDER BY scheduled_at, id
		     LIMIT $3
		     FOR UPDATE SKIP LOCKED
		 )
		 UPDATE `+table+` AS j SET
		     state = 'available',
		     scheduled_at = now(),
		     metadata = j.metadata || jsonb_build_object('`+store.JobMetaBroughtForward+`', j.attempt)
		 FROM due
		 WHERE j.id = due.id AND j.state = 'retryable'`,
		params.Kinds, params.Now.UnixMilli(),
		clampLimit(params.Limit, store.JobsBringForwardDefaultLimit, store.JobsBringForwardMaxLimit))
	if err != nil {
		return 0, wrap("jobs bring forward", err)
	}
	return int(tag.RowsAffected()), nil
}
