package hub

import (
	"context"
	"sync"
	"time"

	"github.com/ssogate/ssogate/store"
)

// pullURLTTL is how long a ping trusts a network's registration read by an
// earlier one. A site registers its pull URL when it is set up, not per
// change; re-registering reaches this replica's pings within pullURLTTL
// (at once on the replica that took it, which forgets its copy), and every ping still reads its
// user's row in its own transaction. Pull jobs and the drain's claims read
// the registration from the store.
const pullURLTTL = time.Second

// pullURLs caches registrations for pings: one store read per network and
// second instead of one per ping. A network without one is not cached, so
// its first registration counts at once.
type pullURLs struct {
	mu sync.Mutex
	m  map[string]cachedPullURL
}

type cachedPullURL struct {
	reg     store.PullURL
	expires time.Time // monotonic: the handler's clock may be a test's
}

// get returns network's registration, from the cache while it is fresh,
// else from q (store.ErrNotFound when there is none).
func (c *pullURLs) get(ctx context.Context, q interface {
	PullURLGet(ctx context.Context, network string) (*store.PullURL, error)
}, network string) (*store.PullURL, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[network]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		reg := e.reg
		return &reg, nil
	}
	reg, err := q.PullURLGet(ctx, network)
	if err != nil {
		return nil, err
	}
	c.put(reg, now)
	return reg, nil
}

// forget drops network's entry: this replica just changed it.
func (c *pullURLs) forget(network string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, network)
}

// put remembers reg as read or written at now.
func (c *pullURLs) put(reg *store.PullURL, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedPullURL{}
	}
	c.m[reg.Network] = cachedPullURL{reg: *reg, expires: now.Add(pullURLTTL)}
}
