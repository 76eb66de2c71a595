package dnsmx

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

// clock is a settable time source for Cache.Now.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestCacheTTL(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	clk := newClock()
	c := &Cache{Resolver: srv.Resolver(), TTL: time.Minute, NegativeTTL: 10 * time.Second, Now: clk.Now}
	ctx := testCtx(t)
	mxQueries := func() int { return srv.Queries("sorted.test", dnsmessage.TypeMX) }

	mxs, err := c.LookupMX(ctx, "sorted.test.")
	require.NoError(t, err)
	require.Len(t, mxs, 3)
	_, err = c.LookupMX(ctx, "SORTED.test") // case and trailing dot do not matter
	require.NoError(t, err)
	assert.Equal(t, 1, mxQueries())

	clk.Advance(59 * time.Second)
	_, err = c.LookupMX(ctx, "sorted.test.")
	require.NoError(t, err)
	assert.Equal(t, 1, mxQueries(), "within TTL")

	clk.Advance(time.Second)
	_, err = c.LookupMX(ctx, "sorted.test.")
	require.NoError(t, err)
	assert.Equal(t, 2, mxQueries(), "TTL passed")

	// A changed record is seen once the TTL passes.
	srv.Set("sorted.test", dnsmxtest.MX(5, "new.mx.test"))
	mxs, _ = c.LookupMX(ctx, "sorted.test.")
	assert.Len(t, mxs, 3, "still cached")
	clk.Advance(time.Minute)
	mxs, err = c.LookupMX(ctx, "sorted.test.")
	require.NoError(t, err)
	require.Len(t, mxs, 1)
	assert.Equal(t, "new.mx.test.", mxs[0].Host)
}

func TestCacheNegative(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	clk := newClock()
	c := &Cache{Resolver: srv.Resolver(), NegativeTTL: 10 * time.Second, Now: clk.Now}
	ctx := testCtx(t)

	for range 3 {
		_, err := c.LookupNetIP(ctx, "ip4", "nowhere.test.")
		require.True(t, isNotFound(err), "%v", err)
	}
	assert.Equal(t, 1, srv.Queries("nowhere.test", dnsmessage.TypeA))
	clk.Advance(10 * time.Second)
	_, err := c.LookupNetIP(ctx, "ip4", "nowhere.test.")
	require.True(t, isNotFound(err))
	assert.Equal(t, 2, srv.Queries("nowhere.test", dnsmessage.TypeA), "NegativeTTL passed")

	// A caller changing the returned error does not change the cache.
	de, ok := errors.AsType[*net.DNSError](err)
	require.True(t, ok)
	de.IsNotFound = false
	_, err = c.LookupNetIP(ctx, "ip4", "nowhere.test.")
	assert.True(t, isNotFound(err))

	// Negative caching off.
	off := &Cache{Resolver: srv.Resolver(), NegativeTTL: -1, Now: clk.Now}
	for range 2 {
		_, err := off.LookupTXT(ctx, "nowhere.test.")
		require.Error(t, err)
	}
	assert.Equal(t, 2, srv.Queries("nowhere.test", dnsmessage.TypeTXT))
	assert.Equal(t, 0, off.Len())
}

func TestCacheSkipsTemporaryErrors(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	c := &Cache{Resolver: srv.Resolver(), Now: newClock().Now}
	// Go's resolver may try a failing server more than once per lookup,
	// so compare counts rather than expect one query per lookup.
	var counts []int
	for range 3 {
		_, err := c.LookupMX(testCtx(t), "broken.mx.test.")
		require.True(t, IsTemporary(err), "%v", err)
		counts = append(counts, srv.Queries("broken.mx.test", dnsmessage.TypeMX))
	}
	assert.Equal(t, []int{counts[0], 2 * counts[0], 3 * counts[0]}, counts)
	assert.Equal(t, 0, c.Len())
}

func TestCacheReturnsCopies(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	c := &Cache{Resolver: srv.Resolver()}
	ctx := testCtx(t)

	mxs, err := c.LookupMX(ctx, "sorted.test.")
	require.NoError(t, err)
	mxs[0].Host = "evil.test."
	mxs[1] = nil
	ips, err := c.LookupNetIP(ctx, "ip", "a.mx.test.")
	require.NoError(t, err)
	ips[0] = ips[1]
	txt, err := c.LookupTXT(ctx, "implicit.test.")
	require.NoError(t, err)
	txt[0] = "changed"

	mxs, _ = c.LookupMX(ctx, "sorted.test.")
	for _, mx := range mxs {
		require.NotNil(t, mx)
		assert.NotEqual(t, "evil.test.", mx.Host)
	}
	again, _ := c.LookupNetIP(ctx, "ip", "a.mx.test.")
	assert.NotEqual(t, again[0], again[1])
	txt, _ = c.LookupTXT(ctx, "implicit.test.")
	assert.Equal(t, []string{"no mx here"}, txt)

	// Networks are cached apart.
	v4, err := c.LookupNetIP(ctx, "ip4", "a.mx.test.")
	require.NoError(t, err)
	assert.Len(t, v4, 1)
}

func TestCacheMaxEntries(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	c := &Cache{Resolver: srv.Resolver(), MaxEntries: 3}
	ctx := testCtx(t)
	lookup := func(i int) {
		_, err := c.LookupNetIP(ctx, "ip4", fmt.Sprintf("h%d.many.test.", i))
		require.NoError(t, err)
	}
	for i := range 3 {
		lookup(i)
	}
	lookup(0) // h0 is now the most recently used
	lookup(3) // evicts h1, the least recently used
	assert.Equal(t, 3, c.Len())
	lookup(0)
	lookup(1)
	assert.Equal(t, 1, srv.Queries("h0.many.test", dnsmessage.TypeA), "h0 stayed")
	assert.Equal(t, 2, srv.Queries("h1.many.test", dnsmessage.TypeA), "h1 was evicted")

	c.Flush()
	assert.Equal(t, 0, c.Len())
	lookup(0)
	assert.Equal(t, 2, srv.Queries("h0.many.test", dnsmessage.TypeA))

	var d Cache
	d.Resolver = srv.Resolver()
	_, err := d.LookupTXT(ctx, "implicit.test.")
	require.NoError(t, err)
	assert.Equal(t, 1, d.Len(), "zero Cache works")
}

func TestCacheConcurrent(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	clk := newClock()
	c := &Cache{Resolver: srv.Resolver(), MaxEntries: 8, TTL: time.Second, Now: clk.Now}
	l := Locator{Resolver: c, Family: IPv4Only}
	domains := []string{"sorted.test", "equal.test", "implicit.test", "dup.test", "nullmx.test", "many.test"}
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range rounds {
				d := domains[(g+i)%len(domains)]
				hosts, err := l.Locate(testCtx(t), d)
				if d == "nullmx.test" {
					assert.ErrorIs(t, err, ErrNullMX)
				} else if assert.NoError(t, err, d) {
					assert.NotEmpty(t, hosts)
				}
				clk.Advance(100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 8)
}

func TestLocateWithCache(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	l := Locator{Resolver: &Cache{Resolver: srv.Resolver()}}
	first, err := l.Locate(testCtx(t), "sorted.test")
	require.NoError(t, err)
	second, err := l.Locate(testCtx(t), "sorted.test")
	require.NoError(t, err)
	assert.Equal(t, summary(first), summary(second))
	assert.Equal(t, 1, srv.Queries("sorted.test", dnsmessage.TypeMX))
	assert.Equal(t, 1, srv.Queries("a.mx.test", dnsmessage.TypeAAAA))
}
