package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/ssogate/ssogate/store"
)

// TestProfileUpsertConcurrentWriters has two stores (two replicas) bump one
// profile concurrently: every distinct change must get its own version.
func TestProfileUpsertConcurrentWriters(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	writers := []*Store{openTestStore(t, schema, true), openTestStore(t, schema, false)}
	ctx := context.Background()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

	const perWriter = 25
	var g errgroup.Group
	for w, s := range writers {
		g.Go(func() error {
			for i := range perWriter {
				_, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
					UserID: "alice",
					Data:   json.RawMessage(fmt.Sprintf(`{"writer":%d,"i":%d}`, w, i)),
					Now:    now,
					// Same UpdatedAt for all: never stale, always a change.
					UpdatedAt: now,
				})
				if err != nil {
					return err
				}
				if status != store.ProfileCreated && status != store.ProfileUpdated {
					return fmt.Errorf("writer %d change %d: status %s", w, i, status)
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	p, err := writers[0].ProfileGet(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, int64(2*perWriter), p.Version, "no lost update")
}

// TestProfileUpsertConcurrentCreate races many creators of one new user:
// exactly one creates, the others update or find it unchanged.
func TestProfileUpsertConcurrentCreate(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	now := time.Now()

	statuses := make(chan store.ProfileUpsertStatus, 8)
	var g errgroup.Group
	for range 8 {
		g.Go(func() error {
			_, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "bob", Data: json.RawMessage(`{}`), Now: now})
			statuses <- status
			return err
		})
	}
	require.NoError(t, g.Wait())
	close(statuses)
	created := 0
	for st := range statuses {
		if st == store.ProfileCreated {
			created++
		} else {
			require.Equal(t, store.ProfileUnchanged, st)
		}
	}
	require.Equal(t, 1, created)
}

// TestProfileVersionForUpdateLocks checks that the version read inside InTx
// holds a row lock: a concurrent upsert waits until the transaction ends.
func TestProfileVersionForUpdateLocks(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	now := time.Now()
	_, _, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "carol", Data: json.RawMessage(`{"v":1}`), Now: now})
	require.NoError(t, err)

	upserted := make(chan error, 1)
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		v, err := tx.ProfileVersionForUpdate(ctx, "carol")
		require.NoError(t, err)
		require.Equal(t, int64(1), v)

		go func() {
			_, _, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "carol", Data: json.RawMessage(`{"v":2}`), Now: now})
			upserted <- err
		}()
		// The waiter queues on this transaction's id.
		var xid string
		require.NoError(t, tx.(*pgTx).tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xid))
		eventually(t, "the concurrent upsert to wait on the row lock", func() bool {
			var waiting int
			err := s.pool.QueryRow(ctx,
				`SELECT count(*) FROM pg_locks
				 WHERE locktype = 'transactionid' AND transactionid::text = $1 AND NOT granted`, xid).Scan(&waiting)
			return err == nil && waiting > 0
		})
		select {
		case err := <-upserted:
			t.Fatalf("upsert finished while the row was locked: %v", err)
		default:
		}
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, <-upserted)
	p, err := s.ProfileGet(ctx, "carol")
	require.NoError(t, err)
	require.Equal(t, int64(2), p.Version)
}

func TestProfileUpsertStatuses(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	steps := []struct {
		name      string
		data      string
		updatedAt time.Time
		status    store.ProfileUpsertStatus
		version   int64
		storedAt  time.Time
	}{
		{"create", `{"a":1}`, t0, store.ProfileCreated, 1, t0},
		{"same data later", `{"a":1}`, t0.Add(time.Minute), store.ProfileUnchanged, 1, t0.Add(time.Minute)},
		{"same data earlier is stale", `{"a":1}`, t0, store.ProfileStale, 1, t0.Add(time.Minute)},
		{"new data older is stale", `{"a":2}`, t0, store.ProfileStale, 1, t0.Add(time.Minute)},
		{"new data same time", `{"a":2}`, t0.Add(time.Minute), store.ProfileUpdated, 2, t0.Add(time.Minute)},
		{"byte difference counts", `{"a": 2}`, t0.Add(2 * time.Minute), store.ProfileUpdated, 3, t0.Add(2 * time.Minute)},
	}
	for _, st := range steps {
		p, status, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{
			UserID: "dave", Data: json.RawMessage(st.data), UpdatedAt: st.updatedAt, Now: time.Now(),
		})
		require.NoError(t, err, st.name)
		require.Equal(t, st.status, status, st.name)
		require.Equal(t, st.version, p.Version, st.name)
		require.True(t, st.storedAt.Equal(p.UpdatedAt), "%s: updated_at %v", st.name, p.UpdatedAt)
	}
}

func TestProfileMarkServedNeverBackwards(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	require.ErrorIs(t, s.ProfileMarkServed(ctx, "erin", 1, t0), store.ErrNotFound)

	_, _, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "erin", Data: json.RawMessage(`{}`), Now: t0})
	require.NoError(t, err)
	require.NoError(t, s.ProfileMarkServed(ctx, "erin", 3, t0.Add(time.Second)))
	require.NoError(t, s.ProfileMarkServed(ctx, "erin", 2, t0.Add(2*time.Second)))
	p, err := s.ProfileGet(ctx, "erin")
	require.NoError(t, err)
	require.Equal(t, int64(3), p.ServedVersion)
	require.True(t, t0.Add(time.Second).Equal(p.ServedAt))
}
