package dnsmx

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

func TestReverseName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.3", "3.2.0.192.in-addr.arpa."},
		{"::ffff:192.0.2.3", "3.2.0.192.in-addr.arpa."},
		{"2001:db8::cb01", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
	} {
		got, ok := reverseName(tc.in)
		require.True(t, ok, tc.in)
		assert.Equal(t, tc.want, got)
		assert.Equal(t, tc.want, dnsmxtest.ReverseName(tc.in))
	}
	for _, in := range []string{"", "example.test", "fe80::1%eth0", "192.0.2"} {
		_, ok := reverseName(in)
		assert.False(t, ok, in)
	}
}

func TestLookupAddr(t *testing.T) {
	srv := dnsmxtest.NewServer(t, dnsmxtest.Zone{
		dnsmxtest.ReverseName("192.0.2.1"):   {dnsmxtest.PTR("mx1.example.test").WithTTL(60), dnsmxtest.PTR("mail.example.test").WithTTL(90)},
		dnsmxtest.ReverseName("2001:db8::1"): {dnsmxtest.PTR("mx6.example.test")},
		dnsmxtest.ReverseName("192.0.2.66"):  {dnsmxtest.ServFail()},
		"2.0.192.in-addr.arpa":               {dnsmxtest.SOA("ns.example.test", "hostmaster.example.test", 30)},
	})
	c := &StubResolver{Servers: []string{srv.Addr()}, Timeout: 2 * time.Second}
	ctx := testCtx(t)

	names, ttl, err := c.LookupAddrTTL(ctx, "192.0.2.1")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"mx1.example.test.", "mail.example.test."}, names)
	assert.Equal(t, 60*time.Second, ttl)

	names, err = c.LookupAddr(ctx, "2001:db8::1")
	require.NoError(t, err)
	assert.Equal(t, []string{"mx6.example.test."}, names)

	_, ttl, err = c.LookupAddrTTL(ctx, "192.0.2.2")
	assert.True(t, isNotFound(err), "%v", err)
	assert.Equal(t, 30*time.Second, ttl)

	_, err = c.LookupAddr(ctx, "192.0.2.66")
	require.Error(t, err)
	assert.True(t, IsTemporary(err))

	_, err = c.LookupAddr(ctx, "not-an-address")
	require.Error(t, err)

	// *net.Resolver pointed at the same server agrees.
	names, err = srv.Resolver().LookupAddr(ctx, "2001:db8::1")
	require.NoError(t, err)
	assert.Equal(t, []string{"mx6.example.test."}, names)

	// The cache asks once for each address, whatever its spelling.
	cache := &Cache{Resolver: c}
	for _, a := range []string{"192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1"} {
		names, err := cache.LookupAddr(ctx, a)
		require.NoError(t, err)
		assert.Len(t, names, 2)
	}
	assert.Equal(t, 2, srv.Queries(dnsmxtest.ReverseName("192.0.2.1"), dnsmessage.TypePTR))
}
