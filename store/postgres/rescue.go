package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// rescueOwnJobs makes the jobs that clientID was running available again at
// once: called by StartJobs before the client with that id starts, they
// can only be the attempts of a process with the same id that died (a
// restart after kill -9). River's own rescuer would wait
// RescueStuckJobsAfter plus its 30 s interval. The attempt stays counted.
func (s *Store) rescueOwnJobs(ctx context.Context, clientID string) (int, error) {
	table := "river_job"
	if s.cfg.Schema != "" {
		table = pgx.Identifier{s.cfg.Schema, "river_job"}.Sanitize()
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE `+table+` SET state = 'available', scheduled_at = now()
		 WHERE state = 'running' AND attempted_by[array_upper(attempted_by, 1)] = $1`, clientID)
	if err != nil {
		return 0, wrap("rescue own jobs", err)
	}
	return int(tag.RowsAffected()), nil
}
