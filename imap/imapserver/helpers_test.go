package imapserver_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap/imapserver"
	"github.com/mailwire/mailwire/imap/imapserver/imapmem"
)

// start serves b on a loopback port.
func start(t *testing.T, srv *imapserver.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String()
}

func newBackend(t *testing.T) *imapmem.Backend {
	b := imapmem.New()
	require.NoError(t, b.AddUser("alice", "secret"))
	return b
}

// client is a raw line client.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	c := &client{t: t, nc: nc, r: bufio.NewReader(nc)}
	require.True(t, strings.HasPrefix(c.line(), "* OK [CAPABILITY IMAP4rev1"))
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	_, err := c.nc.Write([]byte(s))
	require.NoError(c.t, err)
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	require.NoError(c.t, err, "read after %q", l)
	return strings.TrimSuffix(l, "\r\n")
}

// do sends a command line and returns the untagged lines and the tagged
// one; literals in responses are returned within the lines.
func (c *client) do(tag, cmd string) ([]string, string) {
	c.t.Helper()
	c.send(tag + " " + cmd + "\r\n")
	return c.until(tag)
}

func (c *client) until(tag string) ([]string, string) {
	c.t.Helper()
	var lines []string
	for {
		l := c.line()
		if strings.HasPrefix(l, tag+" ") {
			return lines, l
		}
		lines = append(lines, l)
	}
}

func (c *client) login() {
	c.t.Helper()
	_, tagged := c.do("L", "LOGIN alice secret")
	require.True(c.t, strings.HasPrefix(tagged, "L OK"), tagged)
}
