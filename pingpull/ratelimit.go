package pingpull

import (
	"math"
	"sync"
	"time"
)

// tokenBucket is a token bucket on an injected clock: rate tokens a second,
// at most burst stored.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// newTokenBucket returns nil (no limit) when rate is negative.
func newTokenBucket(rate float64, burst int, now func() time.Time) *tokenBucket {
	if rate < 0 {
		return nil
	}
	return &tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), now: now}
}

// take takes one token. When none is left it returns false and how long
// until one will be, rounded up to whole seconds (Retry-After's unit).
func (b *tokenBucket) take() (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if b.rate == 0 {
		return false, time.Minute
	}
	wait := math.Ceil((1 - b.tokens) / b.rate)
	return false, time.Duration(max(wait, 1)) * time.Second
}
