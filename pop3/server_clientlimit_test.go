package pop3

import (
	"bufio"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dialWireFrom is dialWire from the local address ip (any 127/8 address
// is the loopback interface's on Linux).
func dialWireFrom(t *testing.T, addr, ip string) (*wire, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	w := &wire{t: t, nc: nc, r: bufio.NewReader(nc)}
	return w, w.line()
}

// TestConnectionsPerClient: one address cannot hold more than
// MaxConnectionsPerClient connections (before: its idle connections could
// fill MaxConnections); other addresses and exempt ones are served.
func TestConnectionsPerClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int
		exempt  []string
		hold    int
		refused bool
	}{
		{name: "default", hold: DefaultMaxConnectionsPerClient, refused: true},
		{name: "default, one below", hold: DefaultMaxConnectionsPerClient - 1},
		{name: "explicit", limit: 2, hold: 2, refused: true},
		{name: "no limit", limit: -1, hold: DefaultMaxConnectionsPerClient + 5},
		{name: "exempt", limit: 2, exempt: []string{"127.0.0.0/8"}, hold: 4},
		{name: "exemption of another network", limit: 2, exempt: []string{"10.0.0.0/8"}, hold: 2, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, addr := newTestServer(t, func(s *Server) {
				s.Limits.MaxConnectionsPerClient = tc.limit
				for _, p := range tc.exempt {
					s.LimitExempt = append(s.LimitExempt, netip.MustParsePrefix(p))
				}
			})
			held := make([]*wire, tc.hold)
			for i := range held {
				var greeting string
				held[i], greeting = dialWireFrom(t, addr, "127.0.0.1")
				require.True(t, strings.HasPrefix(greeting, "+OK "), greeting)
			}
			next, greeting := dialWireFrom(t, addr, "127.0.0.1")
			if !tc.refused {
				assert.True(t, strings.HasPrefix(greeting, "+OK "), greeting)
				return
			}
			assert.Equal(t, "-ERR [SYS/TEMP] too many connections from your address, try later", greeting)
			assert.True(t, next.closed())

			other, greeting := dialWireFrom(t, addr, "127.0.0.2")
			require.True(t, strings.HasPrefix(greeting, "+OK "), greeting)
			other.login("alice", "secret")

			assert.True(t, strings.HasPrefix(held[0].cmd("QUIT"), "+OK"))
			require.True(t, held[0].closed())
			require.Eventually(t, func() bool {
				w, greeting := dialWireFrom(t, addr, "127.0.0.1")
				w.nc.Close()
				return strings.HasPrefix(greeting, "+OK ")
			}, 10*time.Second, 10*time.Millisecond)
		})
	}
}

// TestAuthFailuresPerClient: once an address has failed
// MaxAuthFailuresPerClient logins within AuthFailureWindow, over any number
// of connections and whatever the command, every login from it gets -ERR
// [SYS/TEMP], even with the right password (before: a client reconnected
// after MaxAuthFailures and guessed on).
func TestAuthFailuresPerClient(t *testing.T) {
	plain := func(user, pass string) string {
		return "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass))
	}
	const refused = "-ERR [SYS/TEMP] too many failed logins from your address, try later"
	for _, tc := range []struct {
		name    string
		limits  Limits
		exempt  []string
		fails   int
		blocked bool
	}{
		{name: "default", fails: DefaultMaxAuthFailuresPerClient, blocked: true},
		{name: "default, one below", fails: DefaultMaxAuthFailuresPerClient - 1},
		{name: "explicit", limits: Limits{MaxAuthFailuresPerClient: 3}, fails: 3, blocked: true},
		{name: "no limit", limits: Limits{MaxAuthFailuresPerClient: -1}, fails: 2 * DefaultMaxAuthFailuresPerClient},
		{name: "window off", limits: Limits{AuthFailureWindow: -1}, fails: 2 * DefaultMaxAuthFailuresPerClient},
		{name: "exempt", limits: Limits{MaxAuthFailuresPerClient: 3}, exempt: []string{"127.0.0.1/32"}, fails: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, addr := newTestServer(t, func(s *Server) {
				s.Limits = tc.limits
				s.Limits.MaxAuthFailures = 2 // per connection: the client reconnects
				for _, p := range tc.exempt {
					s.LimitExempt = append(s.LimitExempt, netip.MustParsePrefix(p))
				}
			})
			// Failures by USER/PASS, AUTH and APOP all count.
			for n := 0; n < tc.fails; {
				w, _ := dialWireFrom(t, addr, "127.0.0.1")
				require.Equal(t, "+OK send PASS", w.cmd("USER alice"))
				assert.True(t, strings.HasPrefix(w.cmd("PASS wrong"), "-ERR [AUTH]"))
				n++
				if n == tc.fails {
					break
				}
				if n%4 == 1 {
					assert.True(t, strings.HasPrefix(w.cmd("APOP alice 0123456789abcdef0123456789abcdef"), "-ERR [AUTH]"))
				} else {
					assert.True(t, strings.HasPrefix(w.cmd(plain("alice", "wrong")), "-ERR [AUTH]"))
				}
				assert.True(t, w.closed(), "MaxAuthFailures of the connection")
				n++
			}
			w, _ := dialWireFrom(t, addr, "127.0.0.1")
			if !tc.blocked {
				w.login("alice", "secret")
				return
			}
			require.Equal(t, "+OK send PASS", w.cmd("USER alice"))
			assert.Equal(t, refused, w.cmd("PASS secret"))
			assert.Equal(t, refused, w.cmd(plain("alice", "secret")))
			assert.Equal(t, refused, w.cmd("APOP alice 0123456789abcdef0123456789abcdef"))
			assert.True(t, strings.HasPrefix(w.cmd("CAPA"), "+OK"), "the connection goes on")
			w.multi()
			other, _ := dialWireFrom(t, addr, "127.0.0.2")
			other.login("alice", "secret")
		})
	}
}

// TestCRAMMD5Hostname: the CRAM-MD5 challenge names the Server's Hostname
// (before: os.Hostname, whatever the configuration said).
func TestCRAMMD5Hostname(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Hostname = "pop.configured.test" })
	w, _ := dialWire(t, addr)
	line := w.cmd("AUTH CRAM-MD5")
	require.True(t, strings.HasPrefix(line, "+ "), line)
	ch, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "+ "))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(ch), "@pop.configured.test>"), "%q", ch)
	mac := hmac.New(md5.New, []byte("secret"))
	mac.Write(ch)
	resp := "alice " + hex.EncodeToString(mac.Sum(nil))
	assert.True(t, strings.HasPrefix(w.cmd(base64.StdEncoding.EncodeToString([]byte(resp))), "+OK"))
}
