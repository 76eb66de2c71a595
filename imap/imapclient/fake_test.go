package imapclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fake is the server end of a net.Pipe, scripted by a test.
type fake struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

const fakeGreeting = "* OK [CAPABILITY IMAP4rev1 IDLE SASL-IR AUTH=PLAIN UIDPLUS MOVE ESEARCH ENABLE ID NAMESPACE CONDSTORE STARTTLS] ready\r\n"

// newFake returns a Client connected to a scripted server that has sent
// greeting ("" for fakeGreeting).
func newFake(t testing.TB, greeting string, o *Options) (*Client, *fake) {
	t.Helper()
	cc, sc := net.Pipe()
	f := &fake{t: t, conn: sc, br: bufio.NewReader(sc)}
	if greeting == "" {
		greeting = fakeGreeting
	}
	go io.WriteString(sc, greeting)
	if o == nil {
		o = &Options{}
	}
	c, err := NewClient(context.Background(), cc, o)
	require.NoError(t, err)
	t.Cleanup(func() {
		c.Close()
		sc.Close()
	})
	return c, f
}

// line reads one line from the client, without CRLF.
func (f *fake) line() string {
	f.t.Helper()
	l, err := f.br.ReadString('\n')
	require.NoError(f.t, err)
	require.True(f.t, strings.HasSuffix(l, "\r\n"), "line %q without CRLF", l)
	return strings.TrimSuffix(l, "\r\n")
}

// expect reads a line, checks its text after the tag and returns the tag.
func (f *fake) expect(want string) string {
	f.t.Helper()
	l := f.line()
	tag, rest, _ := strings.Cut(l, " ")
	require.Equal(f.t, want, rest, "command line %q", l)
	return tag
}

// write sends server output; "$T" stands for tag.
func (f *fake) write(tag, s string) {
	f.t.Helper()
	_, err := io.WriteString(f.conn, strings.ReplaceAll(s, "$T", tag))
	require.NoError(f.t, err)
}

// read reads n bytes of literal data.
func (f *fake) read(n int) string {
	f.t.Helper()
	b := make([]byte, n)
	_, err := io.ReadFull(f.br, b)
	require.NoError(f.t, err)
	return string(b)
}

// async runs fn in a goroutine; the returned channel yields its error.
func async(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newPipe(t testing.TB) (net.Conn, net.Conn) {
	cc, sc := net.Pipe()
	t.Cleanup(func() { cc.Close(); sc.Close() })
	return cc, sc
}
