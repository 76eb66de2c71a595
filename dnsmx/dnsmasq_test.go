package dnsmx

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"github.com/mailwire/mailwire/internal/peer"
)

// startDnsmasq runs dnsmasq on a free loopback port serving a local zone
// under .test, and returns a Go resolver pointed at it.
func startDnsmasq(t *testing.T) *net.Resolver {
	t.Helper()
	addr := startDnsmasqAddr(t)
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// startDnsmasqAddr runs dnsmasq as startDnsmasq does, with extra
// arguments, and returns its address. peer.StartServer waits until dnsmasq
// has bound both the UDP and the TCP socket, and starts it again on a new
// port when another process took the port first.
func startDnsmasqAddr(t *testing.T, extra ...string) string {
	t.Helper()
	bin := peer.Path(t, "dnsmasq")
	_, ports := peer.StartServer(t, peer.ServerOptions{UDP: true}, func(ports []int) *exec.Cmd {
		cmd := exec.Command(bin, "-k", "--port="+strconv.Itoa(ports[0]), "--listen-address=127.0.0.1",
			"--bind-interfaces", "--no-resolv", "--no-hosts", "--pid-file=",
			"--local=/test/", // names under .test not configured here are NXDOMAIN
			"--mx-host=example.test,mx2.example.test,20",
			"--mx-host=example.test,mx1.example.test,10",
			"--mx-host=example.test,mx3.example.test,20",
			"--mx-host=nullmx.test,.,0",
			"--host-record=mx1.example.test,192.0.2.25,2001:db8::25",
			"--host-record=mx2.example.test,192.0.2.26",
			"--host-record=mx3.example.test,192.0.2.27",
			"--host-record=implicit.test,192.0.2.80",
			"--host-record=xn--bcher-kva.test,192.0.2.81",
			"--txt-record=example.test,v=spf1 -all",
			"--txt-record=_dmarc.example.test,v=DMARC1; ,p=reject",
		)
		cmd.Args = append(cmd.Args, extra...)
		return cmd
	})
	return peer.Addr(ports[0])
}

func TestDnsmasq(t *testing.T) {
	r := startDnsmasq(t)
	ctx := testCtx(t)

	t.Run("MX order", func(t *testing.T) {
		// Go's resolver already shuffles equal preferences, so the order
		// Rand is applied to varies: enough rounds that both hosts come
		// first but once in 2^63 runs.
		seen := map[string]bool{}
		for i := range 64 {
			l := Locator{Resolver: r, Rand: func(n int) int { return i % n }}
			hosts, err := l.Locate(ctx, "Example.TEST")
			require.NoError(t, err)
			require.Len(t, hosts, 3)
			assert.Equal(t, "mx1.example.test/10: 2001:db8::25 192.0.2.25", summary(hosts)[0])
			assert.ElementsMatch(t, []string{"mx2.example.test/20: 192.0.2.26", "mx3.example.test/20: 192.0.2.27"}, summary(hosts)[1:])
			seen[hosts[1].Name] = true
		}
		assert.Len(t, seen, 2, "equal preferences are shuffled")
	})

	t.Run("null MX", func(t *testing.T) {
		_, err := (&Locator{Resolver: r}).Locate(ctx, "nullmx.test")
		requireKind(t, err, ErrNullMX, false)
	})

	t.Run("implicit MX and A records", func(t *testing.T) {
		hosts, err := (&Locator{Resolver: r}).Locate(ctx, "implicit.test")
		require.NoError(t, err)
		assert.Equal(t, []Host{{Name: "implicit.test", Implicit: true, Addrs: addrs("192.0.2.80")}}, hosts)

		hosts, err = (&Locator{Resolver: r}).Locate(ctx, "bücher.test")
		require.NoError(t, err)
		assert.Equal(t, []string{"xn--bcher-kva.test/0: 192.0.2.81"}, summary(hosts))
	})

	t.Run("no such domain", func(t *testing.T) {
		_, err := (&Locator{Resolver: r}).Locate(ctx, "nothing.test")
		requireKind(t, err, ErrNoSuchDomain, false)
	})

	t.Run("self pruning", func(t *testing.T) {
		hosts, err := (&Locator{Resolver: r, LocalNames: []string{"mx2.example.test"}}).Locate(ctx, "example.test")
		require.NoError(t, err)
		assert.Equal(t, []string{"mx1.example.test/10: 2001:db8::25 192.0.2.25"}, summary(hosts))
	})

	t.Run("TXT", func(t *testing.T) {
		c := &Cache{Resolver: r}
		txt, err := c.LookupTXT(ctx, "example.test.")
		require.NoError(t, err)
		assert.Equal(t, []string{"v=spf1 -all"}, txt)
		txt, err = c.LookupTXT(ctx, "_dmarc.example.test.")
		require.NoError(t, err)
		assert.Equal(t, []string{"v=DMARC1; p=reject"}, txt, "two character-strings, joined")
	})
}

// TestDnsmasqAgreesWithDnsmxtest asks dnsmasq and dnsmxtest, serving the
// same data, the same questions through Go's resolver: the test server must
// answer as a real one does.
func TestDnsmasqAgreesWithDnsmxtest(t *testing.T) {
	real := startDnsmasq(t)
	fake := dnsmxtest.NewServer(t, dnsmxtest.Zone{
		"example.test": {
			dnsmxtest.MX(20, "mx2.example.test"), dnsmxtest.MX(10, "mx1.example.test"), dnsmxtest.MX(20, "mx3.example.test"),
			dnsmxtest.TXT("v=spf1 -all"),
		},
		"nullmx.test":         {dnsmxtest.MX(0, ".")},
		"mx1.example.test":    {dnsmxtest.A("192.0.2.25"), dnsmxtest.AAAA("2001:db8::25")},
		"mx2.example.test":    {dnsmxtest.A("192.0.2.26")},
		"mx3.example.test":    {dnsmxtest.A("192.0.2.27")},
		"implicit.test":       {dnsmxtest.A("192.0.2.80")},
		"xn--bcher-kva.test":  {dnsmxtest.A("192.0.2.81")},
		"_dmarc.example.test": {dnsmxtest.TXT("v=DMARC1; ", "p=reject")},
	}).Resolver()
	ctx := testCtx(t)
	outcome := func(v any, err error) string {
		if err != nil {
			return fmt.Sprintf("error notfound=%v temporary=%v", isNotFound(err), IsTemporary(err))
		}
		return fmt.Sprint(v)
	}
	for _, name := range []string{"example.test.", "nullmx.test.", "implicit.test.", "mx1.example.test.", "nothing.test.", "_dmarc.example.test.", "xn--bcher-kva.test."} {
		for _, q := range []func(r *net.Resolver) string{
			func(r *net.Resolver) string {
				mxs, err := r.LookupMX(ctx, name)
				var s []string
				for _, mx := range mxs {
					s = append(s, fmt.Sprintf("%d %s", mx.Pref, mx.Host))
				}
				slices.Sort(s)
				return "MX " + outcome(s, err)
			},
			func(r *net.Resolver) string {
				a, err := r.LookupNetIP(ctx, "ip", name)
				for i := range a {
					a[i] = a[i].Unmap()
				}
				slices.SortFunc(a, netip.Addr.Compare)
				return "IP " + outcome(a, err)
			},
			func(r *net.Resolver) string {
				txt, err := r.LookupTXT(ctx, name)
				return "TXT " + outcome(txt, err)
			},
		} {
			assert.Equal(t, q(real), q(fake), name)
		}
	}
}

// StubResolver against dnsmasq: TTLs from --local-ttl, and the same outcomes
// as through *net.Resolver.
func TestDnsmasqClient(t *testing.T) {
	addr := startDnsmasqAddr(t, "--local-ttl=77")
	c := &StubResolver{Servers: []string{addr}}
	ctx := testCtx(t)

	ips, ttl, err := c.LookupNetIPTTL(ctx, "ip", "mx1.example.test")
	require.NoError(t, err)
	assert.Equal(t, addrs("2001:db8::25", "192.0.2.25"), ips)
	assert.Equal(t, 77*time.Second, ttl)

	mxs, ttl, err := c.LookupMXTTL(ctx, "example.test")
	require.NoError(t, err)
	assert.Len(t, mxs, 3)
	assert.Equal(t, 77*time.Second, ttl)

	txts, _, err := c.LookupTXTTTL(ctx, "_dmarc.example.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"v=DMARC1; p=reject"}, txts)

	_, ttl, err = c.LookupMXTTL(ctx, "nothing.test")
	require.True(t, isNotFound(err), "%v", err)
	assert.Zero(t, ttl, "dnsmasq sends no SOA for --local names")

	hosts, err := (&Locator{Resolver: c}).Locate(ctx, "implicit.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"implicit.test/0: 192.0.2.80"}, summary(hosts))
	_, err = (&Locator{Resolver: c}).Locate(ctx, "nullmx.test")
	requireKind(t, err, ErrNullMX, false)
	_, err = (&Locator{Resolver: c}).Locate(ctx, "nothing.test")
	requireKind(t, err, ErrNoSuchDomain, false)

	// The cache honours dnsmasq's TTL.
	clk := newClock()
	cc := &countingClient{StubResolver: c}
	cache := &Cache{Resolver: cc, Now: clk.Now}
	for _, step := range []time.Duration{0, 76 * time.Second, time.Second} {
		clk.Advance(step)
		got, err := cache.LookupNetIP(ctx, "ip4", "mx2.example.test")
		require.NoError(t, err)
		assert.Equal(t, addrs("192.0.2.26"), got)
	}
	assert.Equal(t, int32(2), cc.n.Load(), "asked again once 77 s passed")
}

// countingClient counts the address lookups reaching the StubResolver.
type countingClient struct {
	*StubResolver
	n atomic.Int32
}

func (c *countingClient) LookupNetIPTTL(ctx context.Context, network, host string) ([]netip.Addr, time.Duration, error) {
	c.n.Add(1)
	return c.StubResolver.LookupNetIPTTL(ctx, network, host)
}
