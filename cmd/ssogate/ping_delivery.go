package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/store"
)

// deliveryStage is how far one user's ping has got since ssogate ping
// queued it, read from the user's timeline in the gateway's store:
//
//	queued  ping.requested (EnqueuePings, in the transaction that queued the job)
//	pinged  ping.attempt with result ok or coalesced (the hub accepted the ping)
//	pulled  pull.served or pull.not_found (the hub pulled the profile)
//	failed  ping.dead_letter (the ping gave up; the admin API replays it)
//
// Only events after the user's newest ping.requested count, so an earlier
// sync's pulls do not.
type deliveryStage int

const (
	stageQueued deliveryStage = iota
	stagePinged
	stagePulled
	stageFailed
)

// deliveryCounts are the users at each stage.
type deliveryCounts struct {
	Queued, Pinged, Pulled, Failed int
	// NotFound of the pulled had no profile at the gateway (the pull
	// answered 404).
	NotFound int
}

// Done is how many users reached a final stage (pulled or failed).
func (c deliveryCounts) Done() int { return c.Pulled + c.Failed }

func (c deliveryCounts) String() string {
	s := fmt.Sprintf("queued %d, pinged %d, pulled %d", c.Queued, c.Pinged, c.Pulled)
	if c.NotFound > 0 {
		s += fmt.Sprintf(" (%d without a profile)", c.NotFound)
	}
	return s + fmt.Sprintf(", failed %d", c.Failed)
}

// deliveryTimeline is what the follower reads: the whole timeline forward,
// the IDs it skipped again, and one user's timeline for the fallback.
type deliveryTimeline interface {
	TimelineAfter(ctx context.Context, params store.TimelineAfterParams) ([]*store.TimelineEvent, error)
	TimelineByIDs(ctx context.Context, ids []int64) ([]*store.TimelineEvent, error)
	TimelineList(ctx context.Context, params store.TimelineListParams) ([]*store.TimelineEvent, error)
}

// deliveryKinds are the timeline events that move a user's stage.
var deliveryKinds = []string{"ping.requested", "ping.attempt", "pull.served", "pull.not_found", "ping.dead_letter"}

const (
	// deliveryPage is how many events one read of the timeline returns,
	// deliveryPages how many reads one poll makes at most (a backlog is
	// read over several polls, the progress shown in between).
	deliveryPage  = 5000
	deliveryPages = 20
	// deliveryGapWait is how long an ID skipped below the newest read is
	// looked for again. On PostgreSQL IDs come from a sequence, so ID N+1
	// can commit before N; a transaction that long open is not ours to
	// wait for (and a rolled-back one leaves its ID unused for good): the
	// fallback finds what such an event says.
	deliveryGapWait = 5 * time.Second
	// deliveryMaxGaps bounds the skipped IDs kept; beyond it the fallback
	// covers.
	deliveryMaxGaps = 100_000
	// deliveryFallbackAfter is how long the timeline may bring no progress
	// before the pending users' own timelines are read, up to
	// deliveryPollUsers of them per round.
	deliveryFallbackAfter = 5 * time.Second
	// deliveryPollUsers bounds the timelines one fallback round reads,
	// round-robin over the pending users.
	deliveryPollUsers = 500
	// deliveryEvents is how many of a user's newest events the fallback
	// reads.
	deliveryEvents = 100
)

// delivery follows a set of users' pings by reading the gateway's timeline
// forward from where it was, in ID order, a page per statement; events of
// other users are skipped. IDs skipped below the newest read (another
// kind, or on PostgreSQL an event whose transaction commits later) are
// read again by ID for deliveryGapWait. When the timeline brings no
// progress for deliveryFallbackAfter, the users still pending are read one
// by one, so an event the forward read missed is still found.
type delivery struct {
	timeline deliveryTimeline
	now      func() time.Time
	users    []string
	state    map[string]*userDelivery
	c        deliveryCounts

	// after is the newest ID read; gaps the IDs below it not seen yet,
	// with when they were first skipped.
	after int64
	gaps  map[int64]time.Time
	// quietSince is when the timeline last moved a user (or the fallback
	// last ran).
	quietSince time.Time
	// next is where the next fallback round starts among the users.
	next int
}

type userDelivery struct {
	stage    deliveryStage
	notFound bool
	// requested is the ID of the user's newest ping.requested event (0: not
	// read yet); pinged, served, notFoundID and failed the newest of the
	// events that make each stage. Only those after requested count.
	requested, pinged, served, notFoundID, failed int64
}

// newDelivery follows users' pings from the timeline events after the ID
// after (TimelineLastID before the pings were queued).
func newDelivery(timeline deliveryTimeline, users []string, after int64, now func() time.Time) *delivery {
	d := &delivery{
		timeline: timeline, now: now, users: users,
		state: make(map[string]*userDelivery, len(users)),
		after: after, gaps: map[int64]time.Time{}, quietSince: now(),
	}
	for _, u := range users {
		d.state[u] = &userDelivery{}
	}
	d.c.Queued = len(d.state)
	return d
}

// counts returns the users at each stage; each user counts once, at the
// furthest stage it reached (a pulled user counts in Pinged too, as it was
// pinged).
func (d *delivery) counts() deliveryCounts { return d.c }

// follow polls every interval until every user is pulled or failed, or ctx
// ends (its error is returned), calling report after each poll.
func (d *delivery) follow(ctx context.Context, interval time.Duration, report func(deliveryCounts)) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if err := d.poll(ctx); err != nil {
			return err
		}
		c := d.counts()
		report(c)
		if c.Done() == len(d.state) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// poll reads the timeline forward, then the IDs skipped, then, when that
// brought nothing for a while, pending users one by one.
func (d *delivery) poll(ctx context.Context) error {
	moved := false
	for range deliveryPages {
		events, err := d.timeline.TimelineAfter(ctx, store.TimelineAfterParams{After: d.after, Kinds: deliveryKinds, Limit: deliveryPage})
		if err != nil {
			return fmt.Errorf("ping: read the timeline: %w", err)
		}
		now := d.now()
		for _, e := range events {
			d.skipped(e.ID, now)
			d.after = e.ID
			moved = d.observe(e) || moved
		}
		if len(events) < deliveryPage {
			break
		}
	}
	m, err := d.recheck(ctx)
	if err != nil {
		return err
	}
	now := d.now()
	if moved || m {
		d.quietSince = now
		return nil
	}
	if d.c.Done() < len(d.state) && now.Sub(d.quietSince) >= deliveryFallbackAfter {
		d.quietSince = now
		return d.fallback(ctx)
	}
	return nil
}

// skipped remembers the IDs between the newest read and id.
func (d *delivery) skipped(id int64, now time.Time) {
	for g := d.after + 1; g < id && len(d.gaps) < deliveryMaxGaps; g++ {
		d.gaps[g] = now
	}
}

// recheck reads the skipped IDs again, forgetting those found (of any
// kind) and those skipped longer than deliveryGapWait ago.
func (d *delivery) recheck(ctx context.Context) (moved bool, err error) {
	if len(d.gaps) == 0 {
		return false, nil
	}
	now := d.now()
	ids := make([]int64, 0, len(d.gaps))
	for id, at := range d.gaps {
		if now.Sub(at) >= deliveryGapWait {
			delete(d.gaps, id)
			continue
		}
		ids = append(ids, id)
	}
	for start := 0; start < len(ids); start += store.TimelineByIDsMax {
		events, err := d.timeline.TimelineByIDs(ctx, ids[start:min(start+store.TimelineByIDsMax, len(ids))])
		if err != nil {
			return moved, fmt.Errorf("ping: read the timeline again: %w", err)
		}
		for _, e := range events {
			delete(d.gaps, e.ID)
			moved = d.observe(e) || moved
		}
	}
	return moved, nil
}

// fallback reads the timelines of up to deliveryPollUsers pending users,
// round-robin.
func (d *delivery) fallback(ctx context.Context) error {
	read := 0
	for i := 0; i < len(d.users) && read < deliveryPollUsers; i++ {
		user := d.users[(d.next+i)%len(d.users)]
		s := d.state[user]
		if s.final() {
			continue
		}
		read++
		events, err := d.timeline.TimelineList(ctx, store.TimelineListParams{UserID: user, Limit: deliveryEvents})
		if err != nil {
			return fmt.Errorf("ping: read the timeline of %s: %w", user, err)
		}
		d.set(s, func() { s.update(events) })
		if read == deliveryPollUsers {
			d.next = (d.next + i + 1) % len(d.users)
		}
	}
	return nil
}

// observe applies one event to its user, if it is one of ours; it reports
// whether the user's stage changed.
func (d *delivery) observe(e *store.TimelineEvent) bool {
	s := d.state[e.UserID]
	if s == nil || s.final() {
		return false
	}
	return d.set(s, func() { s.observe(e); s.settle() })
}

// set runs change on s and keeps the counts; it reports whether the stage
// changed.
func (d *delivery) set(s *userDelivery, change func()) bool {
	stage, notFound := s.stage, s.notFound
	d.c.add(stage, notFound, -1)
	change()
	d.c.add(s.stage, s.notFound, 1)
	return s.stage != stage || s.notFound != notFound
}

// add counts n users (1 or -1) at stage.
func (c *deliveryCounts) add(stage deliveryStage, notFound bool, n int) {
	switch stage {
	case stagePinged:
		c.Pinged += n
	case stagePulled:
		c.Pinged += n
		c.Pulled += n
		if notFound {
			c.NotFound += n
		}
	case stageFailed:
		c.Failed += n
	}
}

func (s *userDelivery) final() bool { return s.stage == stagePulled || s.stage == stageFailed }

// update sets the stage from some of the user's events, in any order (the
// fallback reads the newest first). A final stage stays.
func (s *userDelivery) update(events []*store.TimelineEvent) {
	if s.final() {
		return
	}
	for _, e := range events {
		s.observe(e)
	}
	s.settle()
}

// observe keeps the newest ID of each kind of event that makes a stage.
func (s *userDelivery) observe(e *store.TimelineEvent) {
	newest := func(id *int64) { *id = max(*id, e.ID) }
	switch e.Kind {
	case "ping.requested":
		newest(&s.requested)
	case "ping.attempt":
		var detail struct {
			Result string `json:"result"`
		}
		if json.Unmarshal(e.Detail, &detail) == nil && (detail.Result == "ok" || detail.Result == "coalesced") {
			newest(&s.pinged)
		}
	case "pull.served":
		newest(&s.served)
	case "pull.not_found":
		newest(&s.notFoundID)
	case "ping.dead_letter":
		newest(&s.failed)
	}
}

// settle sets the stage from the events after the newest ping.requested
// (so an earlier sync's pulls do not count). It never goes back to queued.
func (s *userDelivery) settle() {
	if s.requested == 0 {
		return // not visible yet
	}
	pinged := s.pinged > s.requested
	served := s.served > s.requested
	pulled := served || s.notFoundID > s.requested
	failed := s.failed > s.requested
	switch {
	// A pull's record may land before the ping's own (the hub pulls while
	// the gateway still commits the attempt): pulled needs both.
	case pinged && pulled:
		s.stage, s.notFound = stagePulled, !served
	case failed:
		s.stage = stageFailed
	case pinged:
		s.stage = stagePinged
	}
}
