package livefyre

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StandardWebhooksSchedule is the retry schedule of the Standard Webhooks
// spec: the delay before each retry after a failed attempt (the first
// retry is immediate). The gateway's pings and logouts and the hub's pulls
// follow it (design.md: pull jobs follow the same rules as pings).
var StandardWebhooksSchedule = []time.Duration{
	0,
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	14 * time.Hour,
	20 * time.Hour,
	24 * time.Hour,
}

// MaxRetryAfter caps the wait a Retry-After header can ask for, on both
// sides: 48 hours, twice the schedule's longest step, so that a peer
// asking for a day and some slack is obeyed, and one asking for a year
// does not park a job for good.
const MaxRetryAfter = 48 * time.Hour

// Backoff is schedule's delay after failed attempt number attempt
// (1-based): schedule[attempt-1], the first entry below 1 and the last past
// the end. schedule must not be empty.
func Backoff(schedule []time.Duration, attempt int) time.Duration {
	return schedule[min(max(attempt-1, 0), len(schedule)-1)]
}

// JitteredDelay is Backoff plus a jitter in [0, max(delay/10, 1s)) drawn
// with randN (math/rand/v2's Int64N in production), so that jobs that
// failed together do not retry together.
func JitteredDelay(schedule []time.Duration, attempt int, randN func(int64) int64) time.Duration {
	d := Backoff(schedule, attempt)
	spread := max(d/10, time.Second)
	return d + time.Duration(randN(int64(spread)))
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3):
// delay-seconds or an HTTP date, relative to now. ok is false when v is
// absent, negative or unreadable; otherwise d is in [0, MaxRetryAfter] (a
// date in the past is 0).
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter), true
}
