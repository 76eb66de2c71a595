package netutil

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tcp(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{tcp("192.0.2.7:25"), "192.0.2.7/32"},
		{tcp("[::ffff:192.0.2.7]:25"), "192.0.2.7/32"},
		{tcp("[2001:db8:1:2:3:4:5:6]:25"), "2001:db8:1:2::/64"},
		{tcp("[2001:db8:1:2:ffff::1]:25"), "2001:db8:1:2::/64"},
		{&net.UDPAddr{IP: net.ParseIP("198.51.100.1"), Port: 1}, "198.51.100.1/32"},
		{&net.UnixAddr{Name: "/tmp/sock", Net: "unix"}, ""},
		{nil, ""},
	} {
		k, ok := ClientKey(tc.addr)
		if tc.want == "" {
			assert.False(t, ok, "%v", tc.addr)
			continue
		}
		require.True(t, ok, "%v", tc.addr)
		assert.Equal(t, tc.want, k.String())
	}
}

func TestClientLimitsConns(t *testing.T) {
	l := &ClientLimits{MaxConns: 2, Exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	a := tcp("192.0.2.1:1000")
	r1, ok := l.Acquire(a)
	require.True(t, ok)
	r2, ok := l.Acquire(tcp("192.0.2.1:1001"))
	require.True(t, ok)
	_, ok = l.Acquire(tcp("192.0.2.1:1002"))
	assert.False(t, ok, "a third connection from one address")
	_, ok = l.Acquire(tcp("192.0.2.2:1000"))
	assert.True(t, ok, "another address has its own count")
	// IPv6 clients count per /64.
	_, ok = l.Acquire(tcp("[2001:db8::1]:1"))
	require.True(t, ok)
	_, ok = l.Acquire(tcp("[2001:db8::2]:1"))
	require.True(t, ok)
	_, ok = l.Acquire(tcp("[2001:db8::3]:1"))
	assert.False(t, ok, "the same /64")
	_, ok = l.Acquire(tcp("[2001:db8:0:1::3]:1"))
	assert.True(t, ok, "another /64")
	// Exempt networks are not counted.
	for range 5 {
		_, ok = l.Acquire(tcp("10.1.2.3:1"))
		require.True(t, ok)
	}
	assert.Equal(t, 0, l.Conns(tcp("10.1.2.3:1")))

	r1()
	r1() // a second release counts nothing
	assert.Equal(t, 1, l.Conns(a))
	_, ok = l.Acquire(a)
	assert.True(t, ok, "a slot freed")
	r2()
	// No limit: everything passes.
	var none ClientLimits
	for range 100 {
		_, ok := none.Acquire(a)
		require.True(t, ok)
	}
}

func TestClientLimitsAuth(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := &ClientLimits{MaxAuthFailures: 3, AuthWindow: time.Minute, Now: func() time.Time { return now },
		Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	a, b := tcp("192.0.2.1:1"), tcp("192.0.2.2:1")
	for _, tc := range []struct {
		name    string
		advance time.Duration
		fail    net.Addr
		blocked bool // a after the step
	}{
		{"first failure", 0, a, false},
		{"second", time.Second, a, false},
		{"another client's failure", 0, b, false},
		{"third blocks", time.Second, a, true},
		{"still blocked later", 30 * time.Second, nil, true},
		{"unblocked after the window", time.Minute, nil, false},
		{"a failure after that starts afresh", 0, a, false},
		{"two failures spread wider than the window do not add up", 2 * time.Minute, a, false},
		{"", time.Second, a, false},
		{"third in the new window", time.Second, a, true},
	} {
		now = now.Add(tc.advance)
		if tc.fail != nil {
			l.AuthFailed(tc.fail)
		}
		assert.Equal(t, tc.blocked, l.AuthBlocked(a), tc.name)
	}
	assert.False(t, l.AuthBlocked(b))
	for range 10 {
		l.AuthFailed(tcp("127.0.0.1:5"))
	}
	assert.False(t, l.AuthBlocked(tcp("127.0.0.1:6")), "exempt")
}

func TestClientLimitsBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := &ClientLimits{MaxAuthFailures: 2, AuthWindow: time.Minute, MaxTracked: 100, Now: func() time.Time { return now }}
	blocked := tcp("192.0.2.1:1")
	l.AuthFailed(blocked)
	l.AuthFailed(blocked)
	require.True(t, l.AuthBlocked(blocked))
	for i := range 1000 {
		now = now.Add(time.Millisecond)
		l.AuthFailed(tcp(fmt.Sprintf("198.51.%d.%d:1", i/256, i%256)))
		require.LessOrEqual(t, l.Tracked(), 100)
	}
	// The oldest went to make room.
	assert.False(t, l.AuthBlocked(blocked))
	// Expired records go before live ones.
	now = now.Add(2 * time.Minute)
	l.AuthFailed(blocked)
	l.AuthFailed(blocked)
	assert.True(t, l.AuthBlocked(blocked))
	assert.Equal(t, 1, l.Tracked(), "the expired records were swept")
}
