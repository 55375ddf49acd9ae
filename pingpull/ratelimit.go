package pingpull

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// tokenBucket is a token bucket (golang.org/x/time/rate) on an injected
// clock: rate tokens a second, at most burst stored.
type tokenBucket struct {
	limiter *rate.Limiter
	rate    float64
	now     func() time.Time
}

// newTokenBucket returns nil (no limit) when r is negative.
func newTokenBucket(r float64, burst int, now func() time.Time) *tokenBucket {
	if r < 0 {
		return nil
	}
	return &tokenBucket{limiter: rate.NewLimiter(rate.Limit(r), burst), rate: r, now: now}
}

// take takes one token. When none is left it returns false and how long
// until one will be, rounded up to whole seconds (Retry-After's unit).
func (b *tokenBucket) take() (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	now := b.now()
	if b.limiter.AllowN(now, 1) {
		return true, 0
	}
	if b.rate == 0 {
		return false, time.Minute
	}
	wait := math.Ceil((1 - b.limiter.TokensAt(now)) / b.rate)
	return false, time.Duration(max(wait, 1)) * time.Second
}

// maxFailureClients bounds the clients whose failure buckets are kept; the
// least recently failing are forgotten first (a forgotten client starts
// again with a full bucket).
const maxFailureClients = 10_000

// clientBuckets is one token bucket per client, for requests that failed
// before they were authenticated: a client that keeps sending unsigned or
// badly signed webhooks runs out of its own tokens and gets 429, while
// authenticated deliveries (from the site's backend) never spend them.
type clientBuckets struct {
	rate  float64
	burst int
	now   func() time.Time
	mu    sync.Mutex // makes get-or-add atomic
	lru   *lru.Cache[netip.Prefix, *tokenBucket]
}

// newClientBuckets returns nil (no limit) when r is negative.
func newClientBuckets(r float64, burst int, now func() time.Time) *clientBuckets {
	if r < 0 {
		return nil
	}
	cache, err := lru.New[netip.Prefix, *tokenBucket](maxFailureClients)
	if err != nil {
		panic("pingpull: client buckets: " + err.Error()) // only for a size < 1
	}
	return &clientBuckets{rate: r, burst: burst, now: now, lru: cache}
}

// take takes one token from the bucket of the client at remoteAddr (an
// http.Request's RemoteAddr), as tokenBucket.take.
func (c *clientBuckets) take(remoteAddr string) (bool, time.Duration) {
	if c == nil {
		return true, 0
	}
	key := clientKey(remoteAddr)
	c.mu.Lock()
	b, ok := c.lru.Get(key)
	if !ok {
		b = newTokenBucket(c.rate, c.burst, c.now)
		c.lru.Add(key, b)
	}
	c.mu.Unlock()
	return b.take()
}

// clientKey is the client's IPv4 address, or the /64 of its IPv6 address
// (one host usually holds a whole /64, so single addresses would let it
// choose a fresh bucket for every request).
func clientKey(remoteAddr string) netip.Prefix {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{} // unparsable addresses share one bucket
	}
	addr = addr.Unmap().WithZone("")
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}
