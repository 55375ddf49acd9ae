// Package asynctest runs test code on goroutines of its own and reports
// what failed there on the test's goroutine.
//
// testing.T's FailNow (and so require, t.Fatal) must be called from the
// goroutine running the test: called from another, it stops only that
// goroutine, and a test waiting for a result from it can hang or, when
// nothing waits, end before the failure is noticed. A Group hands each of
// its goroutines a testing.TB that records failures and stops that
// goroutine; Wait, on the test's goroutine, waits for them all and fails
// the test with every recorded message.
//
// Eventually waits for an asynchronous result the other way round: it polls
// a condition on the test's goroutine (require.Eventually runs it on a
// goroutine of its own, where require must not be called), so the
// condition may use require.
package asynctest

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// PollInterval is how often Eventually checks its condition.
const PollInterval = 10 * time.Millisecond

// Eventually calls cond on the calling goroutine, now and every
// PollInterval, until it returns true, and fails the test (t.Fatalf) when
// timeout passes first. It returns at once when t's context ends.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("asynctest: timed out after %s waiting for %s", timeout, what)
		case <-t.Context().Done():
			t.Fatalf("asynctest: test ended waiting for %s", what)
		case <-tick.C:
		}
	}
}

// Group runs functions on goroutines; see the package doc.
type Group struct {
	t  testing.TB
	wg sync.WaitGroup

	mu     sync.Mutex
	failed bool
	msgs   []string
}

// New returns a Group whose failures Wait reports on t.
func New(t testing.TB) *Group { return &Group{t: t} }

// Go runs f on a new goroutine with a testing.TB whose Fatal, FailNow (and
// require's assertions) record the failure and end that goroutine only.
// Log, Cleanup, Context, TempDir and the rest go to the test's t, which
// allows them from any goroutine.
func (g *Group) Go(f func(t testing.TB)) {
	g.wg.Go(func() { f(&goroutineT{TB: g.t, g: g}) })
}

// Wait waits for every goroutine started by Go and then, on the calling
// goroutine (the test's), fails the test with each recorded message.
func (g *Group) Wait() {
	g.t.Helper()
	g.wg.Wait()
	g.mu.Lock()
	failed, msgs := g.failed, g.msgs
	g.mu.Unlock()
	for _, m := range msgs {
		g.t.Error(m)
	}
	if failed {
		g.t.FailNow()
	}
}

func (g *Group) record(msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failed = true
	if msg != "" {
		g.msgs = append(g.msgs, msg)
	}
}

// goroutineT is the testing.TB of one goroutine of a Group.
type goroutineT struct {
	testing.TB
	g *Group
}

func (c *goroutineT) Helper() {}

func (c *goroutineT) Fail() { c.g.record("") }

func (c *goroutineT) FailNow() {
	c.g.record("")
	runtime.Goexit()
}

func (c *goroutineT) Failed() bool {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	return c.g.failed || c.TB.Failed()
}

func (c *goroutineT) Error(args ...any) { c.g.record(fmt.Sprintln(args...)) }

func (c *goroutineT) Errorf(format string, args ...any) { c.g.record(fmt.Sprintf(format, args...)) }

func (c *goroutineT) Fatal(args ...any) {
	c.Error(args...)
	c.FailNow()
}

func (c *goroutineT) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	c.FailNow()
}

// A skip on a goroutine cannot skip the test; it fails it, saying so.
func (c *goroutineT) Skip(args ...any) {
	c.Fatal(append([]any{"asynctest: Skip on a goroutine:"}, args...)...)
}

func (c *goroutineT) Skipf(format string, args ...any) {
	c.Fatalf("asynctest: Skipf on a goroutine: "+format, args...)
}

func (c *goroutineT) SkipNow() { c.Fatal("asynctest: SkipNow on a goroutine") }
