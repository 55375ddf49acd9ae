// Package storetest is the conformance suite of the storage contract in
// package store. Every backend's tests call Run with a constructor that
// returns a fresh, migrated store; the suite checks each documented
// behaviour of store.Store and store.Tx, including transactions, jobs,
// notifications and concurrent writers. Bench measures the cost of the
// transactional job insert against River's bare insert.
//
// The suite is a library rather than a _test package so that every backend
// runs the same code:
//
//	func TestConformance(t *testing.T) {
//		t.Parallel()
//		storetest.Run(t, func(t *testing.T) store.Store { return testdb.SQLite(t) })
//	}
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/store"
)

// NewStoreFunc returns a fresh, migrated store that the caller closes at
// cleanup. Each call must give an isolated database (or schema).
type NewStoreFunc func(t *testing.T) store.Store

// Run runs the whole conformance suite against the stores newStore makes.
// Every leaf test gets its own store and runs in parallel.
func Run(t *testing.T, newStore NewStoreFunc) {
	t.Helper()

	areas := []struct {
		name string
		run  func(t *testing.T, newStore NewStoreFunc)
	}{
		{"Profile", testProfile},
		{"Timeline", testTimeline},
		{"TimelineFeed", testTimelineFeed},
		{"WebhookReceipt", testWebhookReceipt},
		{"WebhookBatch", testWebhookBatch},
		{"OneTime", testOneTime},
		{"Session", testSession},
		{"Hub", testHub},
		{"RecordPulls", testRecordPulls},
		{"Batch", testBatch},
		{"Collection", testCollection},
		{"Outbox", testOutbox},
		{"Notify", testNotify},
		{"Tx", testTx},
		{"Jobs", testJobs},
		{"Coalesce", testCoalesce},
		{"Store", testStore},
	}
	for _, area := range areas {
		t.Run(area.name, func(t *testing.T) {
			t.Parallel()
			area.run(t, newStore)
		})
	}
}

// testCase is one named leaf test of an area.
type testCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// runCases runs each case in parallel on its own store.
func runCases(t *testing.T, newStore NewStoreFunc, cases []testCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

// baseTime is a fixed instant with microsecond precision, the finest both
// backends keep.
var baseTime = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

// at returns baseTime shifted by d.
func at(d time.Duration) time.Time { return baseTime.Add(d) }

// requireTime asserts that got is the same instant as want.
func requireTime(t *testing.T, want, got time.Time, msgAndArgs ...any) {
	t.Helper()
	if want.IsZero() {
		require.True(t, got.IsZero(), append([]any{"want zero time, got %s", got}, msgAndArgs...)...)
		return
	}
	require.True(t, want.Equal(got), append([]any{"want %s, got %s", want, got}, msgAndArgs...)...)
}

// jsonDoc marshals v, failing the test on error.
func jsonDoc(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// ctxFor returns the test's context with a deadline that bounds every wait.
func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitTimeout bounds each poll for an asynchronous result.
const waitTimeout = 60 * time.Second

// eventually polls cond until it is true or waitTimeout passes.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	asynctest.Eventually(t, waitTimeout, fmt.Sprintf(msg, args...), cond)
}

// receive waits for one value from ch, failing after waitTimeout.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "%s: channel closed", what)
		return v
	case <-timer.C:
		require.FailNow(t, "timed out waiting for "+what)
	}
	var zero T
	return zero
}

// requireNothingReady asserts that ch holds nothing right now.
func requireNothingReady[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		require.FailNow(t, fmt.Sprintf("unexpected %s: %v", what, v))
	default:
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
