package asynctest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recorder stands in for the test's t: it records what Wait reports
// instead of failing the real test; FailNow ends its goroutine, as the real
// one does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	failed bool
}

func (r *recorder) Helper() {}

func (r *recorder) Error(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, args[0].(string))
}

func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

// wait runs g.Wait on a goroutine of its own, as the recorder's FailNow
// ends the goroutine it runs on.
func wait(g *Group) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Wait()
	}()
	<-done
}

func TestGroupReportsFailuresOnWait(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	g := New(r)
	var after atomic.Bool
	g.Go(func(t testing.TB) {
		require.Equal(t, 1, 2, "one is not two")
		after.Store(true) // never reached: require stopped this goroutine
	})
	g.Go(func(t testing.TB) { t.Fatalf("fatal %d", 7) })
	g.Go(func(t testing.TB) { require.True(t, true) })
	wait(g)

	require.True(t, r.failed, "Wait failed the test")
	require.False(t, after.Load())
	require.Len(t, r.errors, 2)
	require.True(t, containsAny(r.errors, "one is not two"), r.errors)
	require.True(t, containsAny(r.errors, "fatal 7"), r.errors)
}

func TestGroupPassesWhenNothingFails(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	g := New(r)
	var n atomic.Int32
	for range 10 {
		g.Go(func(t testing.TB) {
			require.True(t, true)
			n.Add(1)
		})
	}
	wait(g)
	require.False(t, r.failed)
	require.Empty(t, r.errors)
	require.Equal(t, int32(10), n.Load(), "Wait waited for every goroutine")
}

func TestGroupSkipFails(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	g := New(r)
	g.Go(func(t testing.TB) { t.Skip("no database") })
	wait(g)
	require.True(t, r.failed)
	require.True(t, containsAny(r.errors, "Skip on a goroutine"))
}

func containsAny(msgs []string, sub string) bool {
	for _, m := range msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

func TestEventually(t *testing.T) {
	t.Parallel()

	var n int
	Eventually(t, 5*time.Second, "three calls", func() bool {
		n++ // the test's goroutine: no race, and require may be used here
		require.Positive(t, n)
		return n == 3
	})
	require.Equal(t, 3, n)

	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Eventually(r, 30*time.Millisecond, "never", func() bool { return false })
	}()
	<-done
	require.Contains(t, r.msg, "timed out after 30ms waiting for never")
}

// fatalRecorder records Fatalf and ends its goroutine, as the real one.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
