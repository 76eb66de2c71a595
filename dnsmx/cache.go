package dnsmx

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Default settings of a Cache.
const (
	DefaultTTL         = 5 * time.Minute
	DefaultNegativeTTL = time.Minute
	DefaultMaxEntries  = 10000
	// DefaultMinTTL and DefaultMaxTTL bound the record TTLs reported by
	// a TTLResolver: a zero TTL still spares the servers a burst of
	// identical queries, and a day-long TTL does not hide a changed MX
	// for long.
	DefaultMinTTL = 5 * time.Second
	DefaultMaxTTL = time.Hour
)

// Cache is a Resolver that remembers the answers of another Resolver.
//
// When Resolver is a TTLResolver, such as *StubResolver, the Cache honours the
// TTLs of the records, kept between MinTTL and MaxTTL, and keeps a "no
// such records" answer (NXDOMAIN or NODATA) for the negative TTL derived
// from the SOA record of the reply (RFC 2308 §5), bounded the same way; a
// negative answer without SOA is not cached (RFC 2308 §5). TTL is then
// unused, and NegativeTTL only disables negative caching when negative.
//
// *net.Resolver does not report the TTLs of the records it returns, so
// with other Resolvers a Cache keeps a positive answer for TTL and a "no
// such records" answer for NegativeTTL, the same for every name. Keep
// them shorter than the TTLs of the zones you send to (a few minutes) so a
// changed MX is picked up soon. Temporary failures (SERVFAIL, timeouts)
// are never cached, so a queue's retry asks again.
//
// The cache holds at most MaxEntries answers and evicts the least recently
// used. Concurrent misses for the same name each query the Resolver. Set the
// fields before first use; a Cache is then safe for concurrent use.
type Cache struct {
	Resolver    Resolver      // nil means net.DefaultResolver
	TTL         time.Duration // 0 means DefaultTTL
	NegativeTTL time.Duration // 0 means DefaultNegativeTTL; negative disables negative caching
	MaxEntries  int           // 0 means DefaultMaxEntries
	// MinTTL and MaxTTL bound the TTLs reported by a TTLResolver; 0
	// means DefaultMinTTL and DefaultMaxTTL.
	MinTTL time.Duration
	MaxTTL time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]*list.Element
	lru     list.List // of *cacheEntry, most recently used first
}

type cacheKey struct {
	qtype string // "mx", "txt", "ptr", or the network of LookupNetIP
	name  string // lower case, rooted; for "ptr", the address
}

type cacheEntry struct {
	key     cacheKey
	val     any
	err     error
	expires time.Time
}

// LookupMX implements Resolver.
func (c *Cache) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	v, err := cached(c, cacheKey{"mx", foldName(name)}, func() ([]*net.MX, time.Duration, bool, error) {
		if r, ok := c.resolver().(TTLResolver); ok {
			v, ttl, err := r.LookupMXTTL(ctx, name)
			return v, ttl, true, err
		}
		v, err := c.resolver().LookupMX(ctx, name)
		return v, 0, false, err
	})
	// Copies, so callers cannot change the cached records.
	mxs := make([]*net.MX, len(v))
	for i, mx := range v {
		if mx != nil {
			mxs[i] = &net.MX{Host: mx.Host, Pref: mx.Pref}
		}
	}
	return mxs, err
}

// LookupNetIP implements Resolver.
func (c *Cache) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	v, err := cached(c, cacheKey{network, foldName(host)}, func() ([]netip.Addr, time.Duration, bool, error) {
		if r, ok := c.resolver().(TTLResolver); ok {
			v, ttl, err := r.LookupNetIPTTL(ctx, network, host)
			return v, ttl, true, err
		}
		v, err := c.resolver().LookupNetIP(ctx, network, host)
		return v, 0, false, err
	})
	return slices.Clone(v), err
}

// LookupTXT implements Resolver.
func (c *Cache) LookupTXT(ctx context.Context, name string) ([]string, error) {
	v, err := cached(c, cacheKey{"txt", foldName(name)}, func() ([]string, time.Duration, bool, error) {
		if r, ok := c.resolver().(TTLResolver); ok {
			v, ttl, err := r.LookupTXTTTL(ctx, name)
			return v, ttl, true, err
		}
		v, err := c.resolver().LookupTXT(ctx, name)
		return v, 0, false, err
	})
	return slices.Clone(v), err
}

// LookupAddr implements Resolver.
func (c *Cache) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	key := addr
	if a, err := netip.ParseAddr(addr); err == nil {
		key = a.Unmap().String() // one entry for each spelling of an address
	}
	v, err := cached(c, cacheKey{"ptr", key}, func() ([]string, time.Duration, bool, error) {
		if r, ok := c.resolver().(TTLResolver); ok {
			v, ttl, err := r.LookupAddrTTL(ctx, addr)
			return v, ttl, true, err
		}
		v, err := c.resolver().LookupAddr(ctx, addr)
		return v, 0, false, err
	})
	return slices.Clone(v), err
}

// Len returns the number of answers held, expired ones included until they
// are looked up again or evicted.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Flush forgets all answers.
func (c *Cache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
	c.lru.Init()
}

func (c *Cache) resolver() Resolver {
	if c.Resolver == nil {
		return net.DefaultResolver
	}
	return c.Resolver
}

func (c *Cache) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func foldName(name string) string { return rooted(strings.ToLower(name)) }

// ttlFor returns how long to keep an answer: for a TTLResolver's answer
// (reported true), its TTL bounded by MinTTL and MaxTTL.
func (c *Cache) ttlFor(ttl time.Duration, reported bool, err error) time.Duration {
	minTTL, maxTTL := cmp.Or(c.MinTTL, DefaultMinTTL), cmp.Or(c.MaxTTL, DefaultMaxTTL)
	switch {
	case err == nil && reported:
		return min(max(ttl, minTTL), maxTTL)
	case err == nil:
		return cmp.Or(c.TTL, DefaultTTL)
	case !isNotFound(err) || c.NegativeTTL < 0:
		return 0
	case reported && ttl <= 0:
		return 0 // RFC 2308 §5: no SOA, do not cache
	case reported:
		return min(max(ttl, minTTL), maxTTL)
	}
	return cmp.Or(c.NegativeTTL, DefaultNegativeTTL)
}

func cached[T any](c *Cache, k cacheKey, fetch func() (T, time.Duration, bool, error)) (T, error) {
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*cacheEntry)
		if c.now().Before(e.expires) {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.val.(T), copyErr(e.err)
		}
		c.lru.Remove(el)
		delete(c.entries, k)
	}
	c.mu.Unlock()

	v, rttl, reported, err := fetch()
	ttl := c.ttlFor(rttl, reported, err)
	if ttl <= 0 {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[cacheKey]*list.Element)
	}
	if el, ok := c.entries[k]; ok {
		// A concurrent miss stored it first; replace.
		c.lru.Remove(el)
	}
	c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, val: v, err: copyErr(err), expires: c.now().Add(ttl)})
	for c.lru.Len() > max(cmp.Or(c.MaxEntries, DefaultMaxEntries), 1) {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.entries, old.Value.(*cacheEntry).key)
	}
	return v, err
}

// copyErr copies a *net.DNSError, whose fields are exported, so that a
// caller changing it does not change the cached one.
func copyErr(err error) error {
	if de, ok := errors.AsType[*net.DNSError](err); ok && err == error(de) {
		cp := *de
		return &cp
	}
	return err
}
