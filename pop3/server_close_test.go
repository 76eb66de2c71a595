package pop3

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/netutil/netutiltest"
)

// TestLastResponseSurvivesPipelining: a client pipelines more commands than
// the server takes before it hangs up (MaxErrors), and only then reads. The
// responses before the last -ERR fill the client's receive window, so the
// -ERR is still queued on the server when it closes; a close with the
// client's commands unread would send a TCP reset, which discards it. The
// server half-closes and drains instead, and the -ERR arrives.
func TestLastResponseSurvivesPipelining(t *testing.T) {
	_, _, addr := newTestServer(t)
	var script []byte
	// About 300 KiB of CAPA responses, more than a receive window holds.
	script = append(script, bytes.Repeat([]byte("CAPA\r\n"), 2000)...)
	script = append(script, bytes.Repeat([]byte("JUNK\r\n"), DefaultMaxErrors)...)
	// Commands the server never reads.
	script = append(script, bytes.Repeat([]byte("NOOP\r\n"), 4000)...)
	lost := netutiltest.LastLineLost(t, 30, addr, nil, script, func(last string) bool {
		return strings.HasPrefix(last, "-ERR ") && strings.Contains(last, "too many errors")
	})
	assert.Zero(t, lost, "last -ERR lost in %d of 30 runs", lost)
}

// TestRefusalSurvivesPipelining: a client over MaxConnections that has
// already sent its commands still reads the -ERR.
func TestRefusalSurvivesPipelining(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxConnections = 1 })
	held, _ := dialWire(t, addr)
	script := bytes.Repeat([]byte("CAPA\r\n"), 10000)
	for range 10 {
		lines := netutiltest.PipelineAll(t, addr, nil, script)
		require.Len(t, lines, 1)
		assert.Equal(t, "-ERR [SYS/TEMP] too many connections, try later", lines[0])
	}
	held.login("alice", "secret")
	assert.Equal(t, "+OK", held.cmd("NOOP"))
}
