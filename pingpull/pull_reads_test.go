package pingpull

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/testdb"
	"github.com/ssogate/ssogate/store"
)

// TestProfileReadsNeverOlderThanArrival holds both reads in flight after
// they read, changes ann, and asks for her again: that pull waits for a
// read of its own and sees the change, while the earlier pulls answer
// what their reads saw.
func TestProfileReadsNeverOlderThanArrival(t *testing.T) {
	s := testdb.SQLite(t)
	ctx := context.Background()
	now := time.Now()
	upsert := func(user, name string) *store.Profile {
		p, _, err := s.ProfileUpsert(ctx, store.ProfileUpsertParams{UserID: user, Data: json.RawMessage(`{"display_name":"` + name + `"}`), Now: now})
		require.NoError(t, err)
		return p
	}
	ann1 := upsert("ann", "Ann")
	bob := upsert("bob", "Bob")

	gate := make(chan struct{})
	started := make(chan string, 16)
	hold := func(ids []string) {
		for _, id := range ids {
			started <- id
		}
		<-gate
	}
	r := &profileReads{
		getOne: func(ctx context.Context, id string) (*store.Profile, error) {
			p, err := s.ProfileGet(ctx, id)
			hold([]string{id})
			return p, err
		},
		getMany: func(ctx context.Context, ids []string) (map[string]*store.Profile, error) {
			ps, err := s.ProfileGetMany(ctx, ids)
			hold(ids)
			return ps, err
		},
	}
	type answer struct {
		p   *store.Profile
		err error
	}
	get := func(id string) chan answer {
		ch := make(chan answer, 1)
		go func() {
			p, err := r.get(ctx, id)
			ch <- answer{p, err}
		}()
		return ch
	}
	first, second := get("ann"), get("bob")
	// Both reads have read and are held: every read slot is taken.
	got := map[string]bool{}
	for range maxPullReadsInFlight {
		select {
		case id := <-started:
			got[id] = true
		case <-time.After(10 * time.Second):
			t.Fatal("the first reads did not start")
		}
	}
	require.Equal(t, map[string]bool{"ann": true, "bob": true}, got)
	ann2 := upsert("ann", "Ann B")
	later, missing := get("ann"), get("nobody")
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.pending) == 2
	}, 10*time.Second, time.Millisecond, "the later pulls wait for a read of their own")
	close(gate)

	a := <-first
	require.NoError(t, a.err)
	require.Equal(t, ann1.Version, a.p.Version)
	b := <-second
	require.NoError(t, b.err)
	require.Equal(t, bob.Version, b.p.Version)
	l := <-later
	require.NoError(t, l.err)
	require.Equal(t, ann2.Version, l.p.Version, "a pull that arrived after the change sees it")
	m := <-missing
	require.ErrorIs(t, m.err, store.ErrNotFound)
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.running == 0 && len(r.pending) == 0
	}, 10*time.Second, time.Millisecond)
}

// TestProfileReadsCanceledPullLeavesOthers cancels a waiting pull: it
// returns its context's error, and the read it waited for still answers
// the others.
func TestProfileReadsCanceledPullLeavesOthers(t *testing.T) {
	gate := make(chan struct{})
	boom := errors.New("store down")
	r := &profileReads{
		getOne: func(ctx context.Context, id string) (*store.Profile, error) {
			<-gate
			return &store.Profile{UserID: id, Version: 1}, nil
		},
		getMany: func(ctx context.Context, ids []string) (map[string]*store.Profile, error) {
			<-gate
			return nil, boom
		},
	}
	done := make(chan error, 8)
	for range maxPullReadsInFlight {
		go func() {
			_, err := r.get(context.Background(), "ann")
			done <- err
		}()
	}
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.running == maxPullReadsInFlight
	}, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error, 1)
	go func() {
		_, err := r.get(ctx, "bob")
		canceled <- err
	}()
	go func() {
		_, err := r.get(context.Background(), "cal")
		done <- err
	}()
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.pending) == 2
	}, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-canceled, context.Canceled)
	close(gate)
	var nils, booms int
	for range maxPullReadsInFlight + 1 {
		switch err := <-done; {
		case err == nil:
			nils++
		case errors.Is(err, boom):
			booms++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	require.Equal(t, maxPullReadsInFlight, nils, "the first reads answered")
	require.Equal(t, 1, booms, "cal's read (bob's, too) failed as one batch")
}
