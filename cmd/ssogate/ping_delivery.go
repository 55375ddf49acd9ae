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

// delivery follows a set of users' pings through their timelines.
type delivery struct {
	timeline store.TimelineQueries
	users    []string
	state    map[string]*userDelivery
	// next is where the next poll starts among the users still pending, so
	// that a long list is read round-robin within a bounded poll.
	next int
}

type userDelivery struct {
	stage    deliveryStage
	notFound bool
	// requested is the ID of the user's ping.requested event (0: not read
	// yet).
	requested int64
}

// deliveryPollUsers bounds the timelines one poll reads: a sync of 100,000
// users moves through them round-robin instead of reading all each time.
const deliveryPollUsers = 500

// deliveryEvents is how many of a user's newest events one poll reads.
const deliveryEvents = 100

func newDelivery(timeline store.TimelineQueries, users []string) *delivery {
	d := &delivery{timeline: timeline, users: users, state: make(map[string]*userDelivery, len(users))}
	for _, u := range users {
		d.state[u] = &userDelivery{}
	}
	return d
}

// counts returns the users at each stage; each user counts once, at the
// furthest stage it reached (a pulled user counts in Pinged too, as it was
// pinged).
func (d *delivery) counts() deliveryCounts {
	var c deliveryCounts
	for _, s := range d.state {
		c.Queued++
		switch s.stage {
		case stagePinged:
			c.Pinged++
		case stagePulled:
			c.Pinged++
			c.Pulled++
			if s.notFound {
				c.NotFound++
			}
		case stageFailed:
			c.Failed++
		}
	}
	return c
}

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
		if c.Done() == len(d.users) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// poll reads the timelines of up to deliveryPollUsers pending users.
func (d *delivery) poll(ctx context.Context) error {
	read := 0
	for i := 0; i < len(d.users) && read < deliveryPollUsers; i++ {
		user := d.users[(d.next+i)%len(d.users)]
		s := d.state[user]
		if s.stage == stagePulled || s.stage == stageFailed {
			continue
		}
		read++
		events, err := d.timeline.TimelineList(ctx, store.TimelineListParams{UserID: user, Limit: deliveryEvents})
		if err != nil {
			return fmt.Errorf("ping: read the timeline of %s: %w", user, err)
		}
		s.update(events)
		if read == deliveryPollUsers {
			d.next = (d.next + i + 1) % len(d.users)
		}
	}
	return nil
}

// update sets the stage from the user's newest events (newest first).
func (s *userDelivery) update(events []*store.TimelineEvent) {
	if s.requested == 0 {
		for _, e := range events {
			if e.Kind == "ping.requested" {
				s.requested = e.ID
				break
			}
		}
		if s.requested == 0 {
			return // not visible yet
		}
	}
	var pinged, served, notFound, failed bool
	for _, e := range events {
		if e.ID <= s.requested {
			break
		}
		switch e.Kind {
		case "ping.attempt":
			var detail struct {
				Result string `json:"result"`
			}
			if json.Unmarshal(e.Detail, &detail) == nil && (detail.Result == "ok" || detail.Result == "coalesced") {
				pinged = true
			}
		case "pull.served":
			served = true
		case "pull.not_found":
			notFound = true
		case "ping.dead_letter":
			failed = true
		}
	}
	pulled := served || notFound
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
