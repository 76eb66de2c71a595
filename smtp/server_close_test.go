package smtp

import (
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/netutil/netutiltest"
)

// TestServerLastReplySurvivesPipelining: a client pipelines more commands
// than the server takes before it hangs up with 421 (too many errors), and
// only then reads. The replies before the 421 fill the client's receive
// window, so the 421 is still queued on the server when it closes; a close
// with the client's commands unread would send a TCP reset, which discards
// it. The server half-closes and drains instead, and the 421 arrives.
func TestServerLastReplySurvivesPipelining(t *testing.T) {
	t.Run("TCP", func(t *testing.T) {
		_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxJunkCommands = -1 })
		lastReplySurvives(t, addr, nil)
	})
	t.Run("TLS", func(t *testing.T) {
		srvTLS, cliTLS := testTLS(t)
		srv := &Server{Hostname: "mx.test", Backend: &recorder{}, TLSConfig: srvTLS, Limits: Limits{MaxJunkCommands: -1}}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(tls.NewListener(l, srv.tlsConfig())) }()
		t.Cleanup(func() {
			srv.Close()
			assert.ErrorIs(t, <-done, ErrServerClosed)
		})
		lastReplySurvives(t, l.Addr().String(), cliTLS)
	})
}

func lastReplySurvives(t *testing.T, addr string, config *tls.Config) {
	var script []byte
	// About 400 KiB of EHLO replies, more than a receive window holds.
	script = append(script, bytes.Repeat([]byte("EHLO client.test\r\n"), 2000)...)
	script = append(script, bytes.Repeat([]byte("JUNK\r\n"), DefaultMaxErrors)...)
	// Commands the server never reads.
	script = append(script, bytes.Repeat([]byte("NOOP\r\n"), 4000)...)
	lost := netutiltest.LastLineLost(t, 30, addr, config, script, func(last string) bool {
		return strings.HasPrefix(last, "421 4.7.0 ")
	})
	assert.Zero(t, lost, "421 lost in %d of 30 runs", lost)
}

// TestServerRefusalSurvivesPipelining: a client over MaxConnections that has
// already sent its commands still reads the 421.
func TestServerRefusalSurvivesPipelining(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxConnections = 1 })
	held := rawGreet(t, addr)
	script := bytes.Repeat([]byte("EHLO client.test\r\n"), 4000)
	for range 10 {
		lines := netutiltest.PipelineAll(t, addr, nil, script)
		require.Len(t, lines, 1)
		assert.Equal(t, "421 4.7.0 mx.test Too many connections, try again later", lines[0])
	}
	held.cmd("NOOP", 250)
}
