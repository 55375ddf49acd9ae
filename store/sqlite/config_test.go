package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/store"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{"Valid", Config{Path: "/tmp/x.db"}, nil},
		{"Memory", Config{Path: ":memory:"}, nil},
		{"Everything", Config{Path: "a?b", BusyTimeout: -time.Second}, []string{"must not contain", "BusyTimeout"}},
		{"NoPath", Config{}, []string{"Path is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.WithDefaults().validate()
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestJobsConfigValidate(t *testing.T) {
	t.Parallel()

	err := validateJobsConfig(store.JobsConfig{}.WithDefaults())
	require.ErrorContains(t, err, "Workers is required")

	cfg := store.JobsConfig{Workers: river.NewWorkers()}.WithDefaults()
	require.NoError(t, validateJobsConfig(cfg))
	require.Equal(t, 5*time.Millisecond, cfg.FetchCooldown)
	require.Equal(t, 200*time.Millisecond, cfg.FetchPollInterval)
	require.Equal(t, 50, cfg.Queues[river.QueueDefault].MaxWorkers)

	err = validateJobsConfig(store.JobsConfig{FetchCooldown: time.Microsecond, FetchPollInterval: time.Nanosecond, CompletedJobRetentionPeriod: -1})
	require.ErrorContains(t, err, "Workers is required")
	require.ErrorContains(t, err, "FetchCooldown")
	require.ErrorContains(t, err, "FetchPollInterval")
	require.ErrorContains(t, err, "retention")
}

func TestOpenMemoryAndMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	s, err := Open(ctx, Config{Path: ":memory:"})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.Equal(t, "sqlite", s.Backend())
	require.NotNil(t, s.RiverClient())

	current, err := s.MigrationsCurrent(ctx)
	require.NoError(t, err)
	require.False(t, current, "nothing applied yet")
	require.NoError(t, s.Migrate(ctx))
	current, err = s.MigrationsCurrent(ctx)
	require.NoError(t, err)
	require.True(t, current)

	all, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	require.Equal(t, 1, all[0].version)
}

func TestCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "c.db")})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	sub, err := s.Listen(ctx, "a")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, ok := <-sub.C()
	require.False(t, ok, "Close ends subscriptions")
	_, err = s.Listen(ctx, "a")
	require.ErrorIs(t, err, store.ErrClosed)
	_, err = s.ProfileGet(ctx, "ann")
	require.ErrorIs(t, err, store.ErrClosed)
}

// TestTxPanicRollsBack checks that a panicking callback leaves no open
// transaction behind: with one connection, a leaked one would block every
// later call.
func TestTxPanicRollsBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "p.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Migrate(ctx))

	require.Panics(t, func() {
		_ = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, _, err := tx.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: "ann", Data: []byte(`{}`), Now: time.Now()}); err != nil {
				return err
			}
			panic("boom")
		})
	})
	_, err = s.ProfileGet(ctx, "ann")
	require.ErrorIs(t, err, store.ErrNotFound)
}
