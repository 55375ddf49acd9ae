package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints. SQLite copies the WAL back into the database file in a
// checkpoint, and by default the connection whose commit takes the WAL past
// 1000 pages runs it inside that commit: with synchronous=NORMAL it is the
// only fsync on the write path, and the one writer connection every
// request and River share waits through it. Instead a connection of its own
// runs a PASSIVE checkpoint (it takes no write lock: writers go on
// appending meanwhile) every checkpointInterval. The writer keeps an
// automatic checkpoint at autoCheckpointPages only as a bound on the WAL's
// size, should the background ones fall behind.
const (
	checkpointInterval  = 100 * time.Millisecond
	autoCheckpointPages = 10000
)

// checkpointDSN is the data source name of the checkpointer's connection.
func (cfg Config) checkpointDSN() string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	return "file:" + cfg.Path + "?" + q.Encode()
}

// checkpointer runs the background checkpoints of one Store.
type checkpointer struct {
	db       *sql.DB
	logger   *slog.Logger
	interval time.Duration
	cancel   context.CancelFunc
	done     sync.WaitGroup

	// last is the outcome of the latest checkpoint (for tests and
	// debugging): the WAL's frames and how many of them are in the
	// database file.
	last atomic.Pointer[checkpointResult]
}

type checkpointResult struct {
	busy, log, checkpointed int
}

// startCheckpointer opens the checkpointer's connection and starts it.
func startCheckpointer(cfg Config, interval time.Duration) (*checkpointer, error) {
	db, err := openDB(cfg.checkpointDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, logger: cfg.Logger, interval: interval, cancel: cancel}
	c.done.Go(func() { c.run(ctx) })
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var r checkpointResult
		err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&r.busy, &r.log, &r.checkpointed)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			// Said once per failing spell: the writer's own automatic
			// checkpoint still bounds the WAL.
			if !failing {
				c.logger.WarnContext(ctx, "sqlite: background checkpoint failed", slog.String("error", err.Error()))
			}
			failing = true
		default:
			failing = false
			c.last.Store(&r)
		}
	}
}

// close stops the checkpoints and closes the connection.
func (c *checkpointer) close() error {
	c.cancel()
	c.done.Wait()
	return c.db.Close()
}
