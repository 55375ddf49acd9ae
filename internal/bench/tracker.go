package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Results of a webhook, beyond the gateway's own statuses ("queued",
// "unchanged", "stale").
const resultTransport = "transport_error"

// change is one webhook of a step.
type change struct {
	user     int
	intended time.Time
	// done is when the webhook's answer arrived (or the request failed).
	done    time.Time
	status  int    // HTTP status; 0 before the answer and on transport errors
	result  string // the gateway's status for a 202, else what went wrong
	version int64
	// seen is when the hub's update stream first showed this very change.
	seen time.Time
	// reread: seen was set by reading the hub's profile after the drain,
	// because the stream never showed it.
	reread bool
	// pingAt and pulledAt are the hub's ping_received_at (the oldest ping
	// the pull answered) and pulled_at from the event that showed this
	// change; zero when the event had none.
	pingAt, pulledAt time.Time
}

// accepted reports whether the gateway took the change: "queued" (stored,
// ping promised), or "stale" / "unchanged", when the stored profile was
// already newer (a later change of the user committed first) or the same;
// the version is then the stored one, and the change reaches the hub with
// it.
func (c *change) accepted() bool {
	return c.status == http.StatusAccepted && (c.result == "queued" || c.result == "stale" || c.result == "unchanged")
}

// userTrack follows one user's newest accepted and newest seen versions.
type userTrack struct {
	maxAccepted int64
	maxSeen     int64
}

// tracker matches webhook answers with update events.
type tracker struct {
	mu      sync.Mutex
	changes []change
	users   []userTrack
	pending int // webhooks sent and not answered
	lagged  int
	events  int
	// foreign counts profile events that match no change of the step.
	foreign int
	// warmup receives the display names of "warmup" events.
	warmup chan string
}

func newTracker(n, users int) *tracker {
	return &tracker{changes: make([]change, n), users: make([]userTrack, users), warmup: make(chan string, 64)}
}

// userID is the id of user n; displayName the name change seq gives it.
func userID(n int) string              { return "u" + strconv.Itoa(n) }
func displayName(n, seq int) string    { return userID(n) + " #" + strconv.Itoa(seq) }
func (t *tracker) userOf(seq int) int  { return seq % len(t.users) }
func (t *tracker) scheduledCount() int { return len(t.changes) }
func warmupName(k int) string          { return "warmup #" + strconv.Itoa(k) }
func (t *tracker) intendedOf(seq int) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changes[seq].intended
}

// parseName reads "u{n} #{seq}" back.
func parseName(name string) (user, seq int, ok bool) {
	u, s, found := strings.Cut(name, " #")
	if !found || !strings.HasPrefix(u, "u") {
		return 0, 0, false
	}
	user, err1 := strconv.Atoi(u[1:])
	seq, err2 := strconv.Atoi(s)
	if err1 != nil || err2 != nil || user < 0 || seq < 0 {
		return 0, 0, false
	}
	return user, seq, true
}

func (t *tracker) sent(seq int, intended time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.changes[seq].user = t.userOf(seq)
	t.changes[seq].intended = intended
	t.pending++
}

func (t *tracker) answered(seq int, at time.Time, status int, result string, version int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &t.changes[seq]
	c.done, c.status, c.result, c.version = at, status, result, version
	t.pending--
	if !c.accepted() {
		return
	}
	u := &t.users[c.user]
	u.maxAccepted = max(u.maxAccepted, version)
	if !c.seen.IsZero() {
		u.maxSeen = max(u.maxSeen, version)
	}
}

// event records a profile event seen at at.
func (t *tracker) event(userIDStr, name string, at, pingAt, pulledAt time.Time) {
	if userIDStr == "warmup" {
		select {
		case t.warmup <- name:
		default:
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events++
	user, seq, ok := parseName(name)
	if !ok || seq >= len(t.changes) || t.changes[seq].user != user || userID(user) != userIDStr || t.changes[seq].intended.IsZero() {
		t.foreign++
		return
	}
	c := &t.changes[seq]
	if !c.seen.IsZero() {
		return
	}
	c.seen, c.pingAt, c.pulledAt = at, pingAt, pulledAt
	if c.accepted() {
		u := &t.users[c.user]
		u.maxSeen = max(u.maxSeen, c.version)
	}
}

func (t *tracker) lag() {
	t.mu.Lock()
	t.lagged++
	t.mu.Unlock()
}

// outstanding counts unanswered webhooks and users whose newest accepted
// change the hub has not shown yet.
func (t *tracker) outstanding() (pending, users int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.users {
		if t.users[i].maxAccepted > t.users[i].maxSeen {
			users++
		}
	}
	return t.pending, users
}

// behindUsers lists the users whose newest accepted change was not shown.
func (t *tracker) behindUsers() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int
	for i := range t.users {
		if t.users[i].maxAccepted > t.users[i].maxSeen {
			out = append(out, i)
		}
	}
	return out
}

// rereadName records what the hub's profile of user showed when read
// after the drain: the change it names counts as seen at at.
func (t *tracker) rereadName(user int, name string, at time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, seq, ok := parseName(name)
	if !ok || u != user || seq >= len(t.changes) || t.changes[seq].user != user {
		return false
	}
	c := &t.changes[seq]
	if !c.seen.IsZero() || !c.accepted() {
		return false
	}
	c.seen, c.reread = at, true
	t.users[user].maxSeen = max(t.users[user].maxSeen, c.version)
	return true
}

// snapshot records what the hub's profile of user showed when read during
// the run (after the update stream reconnected or lagged): the change it
// names counts as seen at at, like an event without the hub's timestamps.
// It reports whether that was news.
func (t *tracker) snapshot(user int, name string, at time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, seq, ok := parseName(name)
	if !ok || u != user || seq >= len(t.changes) || t.changes[seq].user != user || t.changes[seq].intended.IsZero() {
		return false
	}
	c := &t.changes[seq]
	if !c.seen.IsZero() {
		return false
	}
	c.seen, c.reread = at, true
	if c.accepted() {
		t.users[user].maxSeen = max(t.users[user].maxSeen, c.version)
	}
	return true
}

// delivery is when each change reached the hub: when the hub showed it or
// any change of the same user with a version at least its own (zero:
// never). Only accepted changes get a time.
func (t *tracker) delivery() []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Time, len(t.changes))
	byUser := make([][]int, len(t.users))
	for seq := range t.changes {
		if t.changes[seq].accepted() {
			byUser[t.changes[seq].user] = append(byUser[t.changes[seq].user], seq)
		}
	}
	for _, seqs := range byUser {
		// Newest version first; carry the earliest sighting of any change at
		// least as new. Equal versions (a stale answer carries the version
		// that superseded it) share their group's earliest sighting.
		slices.SortFunc(seqs, func(a, b int) int { return int(t.changes[b].version - t.changes[a].version) })
		var earliest time.Time
		for i := 0; i < len(seqs); {
			j := i
			for ; j < len(seqs) && t.changes[seqs[j]].version == t.changes[seqs[i]].version; j++ {
				if s := t.changes[seqs[j]].seen; !s.IsZero() && (earliest.IsZero() || s.Before(earliest)) {
					earliest = s
				}
			}
			for ; i < j; i++ {
				out[seqs[i]] = earliest
			}
		}
	}
	return out
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name, data string
}

// readSSE parses a server-sent event stream, calling onEvent for each
// event (comments are skipped) and onOpen at the first line. It returns
// when r ends.
func readSSE(r io.Reader, onOpen func(), onEvent func(sseEvent)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var ev sseEvent
	opened := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if !opened {
			opened = true
			onOpen()
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				if ev.name == "" {
					ev.name = "message"
				}
				onEvent(ev)
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.name = value
			case "data":
				if ev.data != "" {
					ev.data += "\n"
				}
				ev.data += value
			}
		}
	}
}

// updateEvent feeds one event of the hub's update stream to t and
// reports whether it was "lagged".
func (t *tracker) updateEvent(ev sseEvent) (lagged bool) {
	at := time.Now()
	switch ev.name {
	case "profile":
		var p struct {
			UserID         string    `json:"user_id"`
			DisplayName    string    `json:"display_name"`
			PulledAt       time.Time `json:"pulled_at"`
			PingReceivedAt time.Time `json:"ping_received_at"`
		}
		if json.Unmarshal([]byte(ev.data), &p) == nil {
			t.event(p.UserID, p.DisplayName, at, p.PingReceivedAt, p.PulledAt)
		}
	case "lagged":
		t.lag()
		return true
	}
	return false
}

// followUpdates opens the hub's update stream and feeds t until ctx ends.
// It returns once the stream is open (its first line arrived).
func followUpdates(ctx context.Context, streamURL string, t *tracker) (done <-chan error, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, streamURL, nil)
	if err != nil {
		return nil, fmt.Errorf("bench: update stream: %w", err)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: update stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("bench: update stream %s answered %d (does the hub serve GET /api/networks/{network}/updates?)", streamURL, resp.StatusCode)
	}
	opened := make(chan struct{})
	ch := make(chan error, 1)
	go func() {
		defer func() { _ = resp.Body.Close() }()
		var once sync.Once
		ch <- readSSE(resp.Body, func() { once.Do(func() { close(opened) }) }, func(ev sseEvent) { t.updateEvent(ev) })
		once.Do(func() { close(opened) })
	}()
	select {
	case <-opened:
		return ch, nil
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("bench: update stream %s sent nothing in 30s", streamURL)
	}
}
