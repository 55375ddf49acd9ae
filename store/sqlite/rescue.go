package sqlite

import (
	"context"
	"fmt"
)

// rescueOwnJobs makes the jobs that clientID was running available again at
// once: called by StartJobs before the client with that id starts, they
// can only be the attempts of a process with the same id that died (a
// restart after kill -9). River's own rescuer would wait
// RescueStuckJobsAfter plus its 30 s interval. The attempt stays counted.
func (s *Store) rescueOwnJobs(ctx context.Context, clientID string) (int, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec')
		 WHERE state = 'running' AND json_extract(attempted_by, '$[#-1]') = ?`, clientID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: rescue own jobs: %w", mapError(err))
	}
	n, err := res.RowsAffected()
	return int(n), err
}
