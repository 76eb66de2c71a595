package pop3

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLimitsRule checks every field for its zero value (the default), a
// negative value (no limit, 0 inside the server) and an explicit value.
func TestLimitsRule(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Limits, int)
		get  func(*Limits) int64
		def  int64
	}{
		{"ReadTimeout", func(l *Limits, v int) { l.ReadTimeout = time.Duration(v) }, func(l *Limits) int64 { return int64(l.ReadTimeout) }, int64(DefaultReadTimeout)},
		{"WriteTimeout", func(l *Limits, v int) { l.WriteTimeout = time.Duration(v) }, func(l *Limits) int64 { return int64(l.WriteTimeout) }, int64(DefaultWriteTimeout)},
		{"TLSHandshakeTimeout", func(l *Limits, v int) { l.TLSHandshakeTimeout = time.Duration(v) }, func(l *Limits) int64 { return int64(l.TLSHandshakeTimeout) }, int64(DefaultTLSHandshakeTimeout)},
		{"MaxConnections", func(l *Limits, v int) { l.MaxConnections = v }, func(l *Limits) int64 { return int64(l.MaxConnections) }, DefaultMaxConnections},
		{"MaxErrors", func(l *Limits, v int) { l.MaxErrors = v }, func(l *Limits) int64 { return int64(l.MaxErrors) }, DefaultMaxErrors},
		{"MaxAuthFailures", func(l *Limits, v int) { l.MaxAuthFailures = v }, func(l *Limits) int64 { return int64(l.MaxAuthFailures) }, DefaultMaxAuthFailures},
		{"MaxConnectionsPerClient", func(l *Limits, v int) { l.MaxConnectionsPerClient = v }, func(l *Limits) int64 { return int64(l.MaxConnectionsPerClient) }, DefaultMaxConnectionsPerClient},
		{"MaxAuthFailuresPerClient", func(l *Limits, v int) { l.MaxAuthFailuresPerClient = v }, func(l *Limits) int64 { return int64(l.MaxAuthFailuresPerClient) }, DefaultMaxAuthFailuresPerClient},
		{"AuthFailureWindow", func(l *Limits, v int) { l.AuthFailureWindow = time.Duration(v) }, func(l *Limits) int64 { return int64(l.AuthFailureWindow) }, int64(DefaultAuthFailureWindow)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Limits{}.withDefaults()
			assert.Equal(t, tt.def, tt.get(&l), "zero: the default")
			l = Limits{}
			tt.set(&l, -1)
			l = l.withDefaults()
			assert.Zero(t, tt.get(&l), "negative: no limit")
			l = Limits{}
			tt.set(&l, 7)
			l = l.withDefaults()
			assert.Equal(t, int64(7), tt.get(&l), "explicit")
		})
	}
}

// TestNegativeLimitsServe: with every count unlimited, a client may send
// many bad commands and fail to log in many times without being cut off
// (a negative value once closed the connection at the first one).
func TestNegativeLimitsServe(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) {
		s.Limits = Limits{MaxErrors: -1, MaxAuthFailures: -1, ReadTimeout: -1}
	})
	w, _ := dialWire(t, addr)
	for range 2*DefaultMaxErrors + 1 {
		assert.Equal(t, "-ERR unknown command", w.cmd("XYZ"))
	}
	for range 2*DefaultMaxAuthFailures + 1 {
		assert.Equal(t, "-ERR [AUTH] authentication failed", w.cmd("AUTH PLAIN AGFsaWNlAHdyb25n"))
	}
	assert.Equal(t, "+OK maildrop has 3 messages (147 octets)", w.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="))
}

// TestTrustedProxies: a connection from a trusted proxy is served as its
// PROXY header's client.
func TestTrustedProxies(t *testing.T) {
	_, b, addr := newTestServer(t, func(s *Server) {
		s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("PROXY TCP6 2001:db8::7 2001:db8::1 40000 110\r\n"))
	require.NoError(t, err)
	w := &wire{t: t, nc: nc, r: bufio.NewReader(nc)}
	require.True(t, strings.HasPrefix(w.line(), "+OK"))
	w.login("alice", "secret")
	b.mu.Lock()
	c := b.lastConn
	b.mu.Unlock()
	assert.Equal(t, "[2001:db8::7]:40000", c.RemoteAddr().String())
	assert.Equal(t, "[2001:db8::1]:110", c.LocalAddr().String())
}
