package testenv

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records how the test ended instead of
// ending the real one; Fatalf and Skipf stop its goroutine as the real ones
// do.
type recorder struct {
	testing.TB
	mu              sync.Mutex
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed, r.msg = true, format
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped, r.msg = true, format
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls fn on a fresh recorder in its own goroutine (Goexit ends only
// that one) and returns the recorder once fn has ended.
func run(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func TestMissingFailsUnderCI(t *testing.T) {
	r := run(t, func(tb testing.TB) { missing(tb, true, "no database") })
	require.True(t, r.failed, "under CI a missing dependency fails the test")
	require.False(t, r.skipped)
}

func TestMissingSkipsOutsideCI(t *testing.T) {
	r := run(t, func(tb testing.TB) { missing(tb, false, "no database") })
	require.True(t, r.skipped, "outside CI a missing dependency skips, saying why")
	require.False(t, r.failed)
}

// TestDatabaseURLUnsetUnderCI is the rule as the PostgreSQL tests meet it:
// CI set, TEST_DATABASE_URL unset.
func TestDatabaseURLUnsetUnderCI(t *testing.T) {
	t.Setenv(EnvCI, "true")
	t.Setenv(EnvDatabaseURL, "")
	r := run(t, func(tb testing.TB) { DatabaseURL(tb) })
	require.True(t, r.failed)
	require.False(t, r.skipped)
}

func TestDatabaseURLUnsetOutsideCI(t *testing.T) {
	t.Setenv(EnvCI, "")
	t.Setenv(EnvDatabaseURL, "")
	r := run(t, func(tb testing.TB) { DatabaseURL(tb) })
	require.True(t, r.skipped)
	require.False(t, r.failed)
}

func TestDatabaseURLSet(t *testing.T) {
	t.Setenv(EnvCI, "true")
	t.Setenv(EnvDatabaseURL, "postgres://example/test")
	var got string
	r := run(t, func(tb testing.TB) { got = DatabaseURL(tb) })
	require.False(t, r.failed || r.skipped)
	require.Equal(t, "postgres://example/test", got)
}

func TestOptionalDatabaseURL(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "")
	t.Setenv(EnvCI, "")
	var got string
	r := run(t, func(tb testing.TB) { got = OptionalDatabaseURL(tb) })
	require.False(t, r.failed || r.skipped, "outside CI the test goes on without PostgreSQL")
	require.Empty(t, got)

	t.Setenv(EnvCI, "true")
	r = run(t, func(tb testing.TB) { OptionalDatabaseURL(tb) })
	require.True(t, r.failed, "under CI PostgreSQL must be covered")
}
