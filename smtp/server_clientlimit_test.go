package smtp

import (
	"bufio"
	"encoding/base64"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
)

// rawDialFrom is rawDial from the local address ip (any 127/8 address is
// the loopback interface's on Linux).
func rawDialFrom(t testing.TB, addr, ip string) *rawConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// TestServerConnectionsPerClient: one address cannot hold more than
// MaxConnectionsPerClient connections (before: 1,000 idle connections from
// one address filled MaxConnections and every other client got 421); other
// addresses and exempt ones are served.
func TestServerConnectionsPerClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int      // Limits.MaxConnectionsPerClient
		exempt  []string // Server.LimitExempt
		hold    int      // idle connections held from 127.0.0.1
		refused bool     // the next one from 127.0.0.1 is refused
	}{
		{name: "default", hold: DefaultMaxConnectionsPerClient, refused: true},
		{name: "default, one below", hold: DefaultMaxConnectionsPerClient - 1},
		{name: "explicit", limit: 3, hold: 3, refused: true},
		{name: "no limit", limit: -1, hold: DefaultMaxConnectionsPerClient + 5},
		{name: "exempt address", limit: 3, exempt: []string{"127.0.0.1/32"}, hold: 5},
		{name: "exempt network", limit: 3, exempt: []string{"127.0.0.0/8"}, hold: 5},
		{name: "exemption of another network", limit: 3, exempt: []string{"10.0.0.0/8"}, hold: 3, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rec, addr := newTestServer(t, func(s *Server) {
				s.Limits.MaxConnectionsPerClient = tc.limit
				for _, p := range tc.exempt {
					s.LimitExempt = append(s.LimitExempt, netip.MustParsePrefix(p))
				}
			})
			held := make([]*rawConn, tc.hold)
			for i := range held {
				held[i] = rawDialFrom(t, addr, "127.0.0.1")
				held[i].expect(220)
			}
			next := rawDialFrom(t, addr, "127.0.0.1")
			if !tc.refused {
				next.expect(220)
				return
			}
			r := next.expect(421)
			assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)
			assert.Contains(t, r.Message(), "your address")
			assert.True(t, next.closed())

			// Another client is served meanwhile, and delivers.
			other := rawDialFrom(t, addr, "127.0.0.2")
			other.expect(220)
			other.cmd("EHLO other.test", 250)
			other.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nreal\r\n.\r\n")
			for _, code := range []int{250, 250, 354, 250} {
				other.expect(code)
			}
			require.Len(t, rec.messages(), 1)

			// A connection that ends frees its place.
			held[0].cmd("QUIT", 221)
			require.True(t, held[0].closed())
			require.Eventually(t, func() bool {
				d := rawDialFrom(t, addr, "127.0.0.1")
				defer d.nc.Close()
				return d.read().Code == 220
			}, 10*time.Second, 10*time.Millisecond)
		})
	}
}

// TestServerAuthFailuresPerClient: once an address has failed
// MaxAuthFailuresPerClient AUTH exchanges within AuthFailureWindow, over
// any number of connections, AUTH from it gets 454 4.7.0, even with the
// right password (before: a client reconnected after every
// MaxAuthFailures and guessed on).
func TestServerAuthFailuresPerClient(t *testing.T) {
	users := auth.NewMemoryStore()
	require.NoError(t, users.SetPassword("u", "p"))
	wrong := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00u\x00wrong"))
	right := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00u\x00p"))
	for _, tc := range []struct {
		name    string
		limits  Limits
		exempt  []string
		fails   int  // failures from 127.0.0.1, two per connection
		blocked bool // then AUTH from 127.0.0.1 is refused
	}{
		{name: "default", fails: DefaultMaxAuthFailuresPerClient, blocked: true},
		{name: "default, one below", fails: DefaultMaxAuthFailuresPerClient - 1},
		{name: "explicit", limits: Limits{MaxAuthFailuresPerClient: 3}, fails: 3, blocked: true},
		{name: "no limit", limits: Limits{MaxAuthFailuresPerClient: -1}, fails: 2 * DefaultMaxAuthFailuresPerClient},
		{name: "window off", limits: Limits{AuthFailureWindow: -1}, fails: 2 * DefaultMaxAuthFailuresPerClient},
		{name: "exempt", limits: Limits{MaxAuthFailuresPerClient: 3}, exempt: []string{"127.0.0.1/32"}, fails: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, addr := newTestServerWith(t, &recorder{users: users}, func(s *Server) {
				s.AllowInsecureAuth = true
				lim := tc.limits
				lim.ReadTimeout, lim.WriteTimeout = s.Limits.ReadTimeout, s.Limits.WriteTimeout
				lim.MaxAuthFailures = 2 // per connection: the client reconnects
				s.Limits = lim
				for _, p := range tc.exempt {
					s.LimitExempt = append(s.LimitExempt, netip.MustParsePrefix(p))
				}
			})
			for n := 0; n < tc.fails; {
				c := rawDialFrom(t, addr, "127.0.0.1")
				c.expect(220)
				c.cmd("EHLO c.test", 250)
				c.cmd(wrong, 535)
				n++
				if n == tc.fails {
					break
				}
				c.send(wrong + "\r\n")
				c.expect(535)
				c.expect(421) // MaxAuthFailures of the connection
				n++
			}
			c := rawDialFrom(t, addr, "127.0.0.1")
			c.expect(220)
			c.cmd("EHLO c.test", 250)
			if !tc.blocked {
				c.cmd(right, 235)
				return
			}
			r := c.cmd(right, 454)
			assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)
			assert.True(t, strings.Contains(r.Message(), "your address"), r.Message())
			c.cmd("NOOP", 250) // the connection goes on
			// Another address authenticates.
			o := rawDialFrom(t, addr, "127.0.0.2")
			o.expect(220)
			o.cmd("EHLO o.test", 250)
			o.cmd(right, 235)
		})
	}
}

// TestServerCRAMMD5Hostname: the CRAM-MD5 challenge names the Server's
// Hostname (before: os.Hostname, whatever the configuration said).
func TestServerCRAMMD5Hostname(t *testing.T) {
	users := auth.NewMemoryStore()
	require.NoError(t, users.SetPassword("u", "p"))
	_, _, addr := newTestServerWith(t, &recorder{users: users, allMechs: true}, func(s *Server) {
		s.AllowInsecureAuth = true
		s.Hostname = "mx.configured.test"
	})
	c := rawGreet(t, addr)
	r := c.cmd("AUTH CRAM-MD5", 334)
	ch, err := base64.StdEncoding.DecodeString(r.Message())
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(ch), "@mx.configured.test>"), "%q", ch)
	cl := auth.NewCRAMMD5Client("u", "p")
	resp, err := cl.Next(ch)
	require.NoError(t, err)
	c.cmd(base64.StdEncoding.EncodeToString(resp), 235)
}
