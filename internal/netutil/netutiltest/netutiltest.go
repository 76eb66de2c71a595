// Package netutiltest holds test helpers for the protocol servers.
package netutiltest

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// PipelineAll dials addr (over TLS when config is not nil), writes script in
// one go before reading anything, as a pipelining client may, then returns
// the lines it reads (without their line ends) until the server ends the
// connection, or fails with a reset.
//
// A server that stops reading and closes in the middle of script, after
// replies that fill the client's receive window, still has its last reply
// queued when it closes: the test sees whether that reply arrives.
func PipelineAll(t testing.TB, addr string, config *tls.Config, script []byte) []string {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(30 * time.Second))
	// The whole script fits in the socket buffers, so the write does not
	// wait for the server to read (which waits for this client to read).
	raw.(*net.TCPConn).SetWriteBuffer(2 * len(script))
	nc := raw
	if config != nil {
		tc := tls.Client(raw, config)
		require.NoError(t, tc.Handshake())
		nc = tc
	}
	_, err = nc.Write(script)
	require.NoError(t, err)
	var lines []string
	br := bufio.NewReader(nc)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			lines = append(lines, strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			return lines
		}
	}
}

// LastLineLost runs PipelineAll runs times (5 with -short) and returns in how
// many of them the last line read does not satisfy ok, the server's last
// reply having been lost. Each loss is logged.
func LastLineLost(t testing.TB, runs int, addr string, config *tls.Config, script []byte, ok func(last string) bool) (lost int) {
	t.Helper()
	if testing.Short() {
		runs = min(runs, 5)
	}
	for range runs {
		lines := PipelineAll(t, addr, config, script)
		if len(lines) == 0 || !ok(lines[len(lines)-1]) {
			lost++
			t.Logf("run lost its last reply after %d lines: %q", len(lines), lines[max(len(lines)-1, 0):])
		}
	}
	return lost
}
