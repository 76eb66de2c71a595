package smtp

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/sasltest"
)

// pipeListener hands out the server ends of net.Pipe connections. A pipe
// delivers one Write to one Read whole when the reader's buffer is large
// enough, which makes the server's batching of replies observable.
type pipeListener struct {
	conns     chan net.Conn
	closeOnce sync.Once
	done      chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25} }

// dial returns the client end of a new pipe whose server end records each
// Write the server makes.
func (l *pipeListener) dial(t *testing.T) (net.Conn, *writeLog) {
	cli, srv := net.Pipe()
	w := &writeLog{Conn: srv}
	select {
	case l.conns <- w:
	case <-time.After(10 * time.Second):
		t.Fatal("the server does not accept")
	}
	t.Cleanup(func() { cli.Close() })
	cli.SetDeadline(time.Now().Add(30 * time.Second))
	return cli, w
}

type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes []string
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, string(p))
	w.mu.Unlock()
	return w.Conn.Write(p)
}

func (w *writeLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ws := w.writes
	w.writes = nil
	return ws
}

// TestServerPipeliningOneWrite: the replies to a pipelined group go out in
// one write, flushed when the server has no more input and before it waits
// for the message (RFC 2920 §3.1).
func TestServerPipeliningOneWrite(t *testing.T) {
	srv := &Server{Hostname: "mx.test", Backend: &recorder{}}
	l := newPipeListener()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		assert.ErrorIs(t, <-done, ErrServerClosed)
	})
	nc, log := l.dial(t)
	br := bufio.NewReader(nc)
	readReplies := func(n int) []int {
		var codes []int
		for range n {
			r, err := ReadReply(br)
			require.NoError(t, err)
			codes = append(codes, r.Code)
		}
		return codes
	}
	assert.Equal(t, []int{220}, readReplies(1))
	_, err := nc.Write([]byte("EHLO c.test\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []int{250}, readReplies(1))
	log.take()

	_, err = nc.Write([]byte("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nRCPT TO:<c@b.test>\r\nDATA\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []int{250, 250, 250, 354}, readReplies(4))
	ws := log.take()
	require.Len(t, ws, 1, "one write for the group: %q", ws)
	assert.Equal(t, 4, strings.Count(ws[0], "\r\n"))

	// The end of data, RSET and NOOP pipelined: again one write.
	_, err = nc.Write([]byte("hi\r\n.\r\nRSET\r\nNOOP\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []int{250, 250, 250}, readReplies(3))
	ws = log.take()
	require.Len(t, ws, 1, "one write for the group: %q", ws)
}

type emptyIRSession struct {
	*recSession
	srv *sasltest.EmptyServer
}

func (s *emptyIRSession) SASLMechanisms() []string { return []string{sasltest.Mechanism} }

func (s *emptyIRSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	if mech != sasltest.Mechanism {
		return nil, errors.New("unexpected mechanism")
	}
	return s.srv, nil
}

// TestAuthEmptyInitialResponse: "=" is an initial response of zero length,
// unlike no initial response at all (RFC 4954 §4), both ways.
func TestAuthEmptyInitialResponse(t *testing.T) {
	var mu sync.Mutex
	var servers []*sasltest.EmptyServer
	backend := BackendFunc(func(c *Conn) (Session, error) {
		s := &sasltest.EmptyServer{ID: "anonymous"}
		mu.Lock()
		servers = append(servers, s)
		mu.Unlock()
		return &emptyIRSession{recSession: &recSession{r: &recorder{}, c: c}, srv: s}, nil
	})
	srv := &Server{Hostname: "mx.test", Backend: backend, AllowInsecureAuth: true}
	addr := startServer(t, srv)
	last := func() *sasltest.EmptyServer {
		mu.Lock()
		defer mu.Unlock()
		return servers[len(servers)-1]
	}

	c := rawGreet(t, addr)
	r := c.cmd("AUTH X-EMPTY =", 235)
	assert.Equal(t, EnhancedCode{2, 7, 0}, r.EnhancedCode)
	got := last().Responses()
	require.Len(t, got, 1)
	assert.NotNil(t, got[0], "an empty initial response, not a missing one")
	assert.Empty(t, got[0])

	c = rawGreet(t, addr)
	r = c.cmd("AUTH X-EMPTY", 334)
	assert.Empty(t, r.Message(), "an empty challenge")
	c.cmd("", 235)
	got = last().Responses()
	require.Len(t, got, 2)
	assert.Nil(t, got[0], "no initial response")
	assert.Equal(t, []byte{}, got[1])

	// Our client sends "=" for an empty initial response.
	ctx := context.Background()
	cl, err := Dial(ctx, addr, &ClientOptions{AllowInsecureAuth: true})
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, cl.Auth(ctx, sasltest.EmptyClient{}))
	got = last().Responses()
	require.Len(t, got, 1)
	assert.Equal(t, []byte{}, got[0])
}
