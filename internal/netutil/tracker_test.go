package netutil

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeConn is a connection that is busy until release, and ends when asked
// once it is idle, or when closed.
type fakeConn struct {
	t       *Tracker
	mu      sync.Mutex
	busy    bool
	asked   int
	closed  bool
	release chan struct{}
	end     chan struct{}
	once    sync.Once
}

func newFakeConn(t *Tracker, busy bool) *fakeConn {
	return &fakeConn{t: t, busy: busy, release: make(chan struct{}), end: make(chan struct{})}
}

func (c *fakeConn) CloseIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	if !c.busy {
		c.once.Do(func() { close(c.end) })
	}
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.once.Do(func() { close(c.end) })
	return nil
}

// serve plays the connection's goroutine: it ends when told to, then leaves
// the Tracker.
func (c *fakeConn) serve() {
	defer c.t.Remove(c)
	for {
		select {
		case <-c.release:
			c.mu.Lock()
			c.busy = false
			c.mu.Unlock()
			c.release = nil
		case <-c.end:
			return
		}
	}
}

func TestTrackerAddLimit(t *testing.T) {
	var tr Tracker
	a, b, c := newFakeConn(&tr, false), newFakeConn(&tr, false), newFakeConn(&tr, false)
	require.NoError(t, tr.Add(a, 2))
	require.NoError(t, tr.Add(b, 2))
	assert.ErrorIs(t, tr.Add(c, 2), ErrLimit)
	assert.NoError(t, tr.Add(c, 0), "no limit")
	assert.Equal(t, 3, tr.Len())
	tr.Remove(c)
	tr.Remove(c)
	assert.Equal(t, 2, tr.Len())

	assert.False(t, tr.Closing())
	require.NoError(t, tr.Close())
	assert.True(t, tr.Closing())
	assert.True(t, a.closed)
	assert.True(t, b.closed)
	assert.ErrorIs(t, tr.Add(c, 0), ErrClosed)
}

// TestTrackerShutdown: Shutdown closes the listener, ends idle connections at
// once, waits for a busy one until it is idle, and gives up when ctx ends.
func TestTrackerShutdown(t *testing.T) {
	var tr Tracker
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	accepted := make(chan net.Conn, 1)
	go func() { served <- tr.Serve(l, func(nc net.Conn) { accepted <- nc }, nil) }()
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	(<-accepted).Close()

	idle, busy := newFakeConn(&tr, false), newFakeConn(&tr, true)
	release := busy.release
	for _, c := range []*fakeConn{idle, busy} {
		require.NoError(t, tr.Add(c, 0))
		go c.serve()
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, tr.Shutdown(ctx), context.Canceled)
	assert.ErrorIs(t, <-served, ErrClosed)
	_, err = net.Dial("tcp", l.Addr().String())
	assert.Error(t, err, "the listener is closed")
	<-idle.end
	assert.False(t, idle.closed, "ended by CloseIdle, not Close")

	// The busy connection is asked again until it ends.
	shut := make(chan error, 1)
	go func() { shut <- tr.Shutdown(context.Background()) }()
	close(release)
	require.NoError(t, <-shut)
	assert.Zero(t, tr.Len())
	assert.False(t, busy.closed)
	busy.mu.Lock()
	assert.GreaterOrEqual(t, busy.asked, 2)
	busy.mu.Unlock()

	// Once closed, Serve refuses to start and closes its listener.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	assert.ErrorIs(t, tr.Serve(l2, func(net.Conn) {}, nil), ErrClosed)
	_, err = l2.Accept()
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.NoError(t, tr.Shutdown(context.Background()), "nothing left to wait for")
}

// TestTrackerClose: Close ends the listener and busy connections at once.
func TestTrackerClose(t *testing.T) {
	var tr Tracker
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- tr.Serve(l, func(nc net.Conn) { nc.Close() }, nil) }()
	busy := newFakeConn(&tr, true)
	require.NoError(t, tr.Add(busy, 0))
	go busy.serve()
	// Serve has its listener registered once a connection is handled.
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	_, err = nc.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	nc.Close()

	require.NoError(t, tr.Close())
	assert.ErrorIs(t, <-served, ErrClosed)
	<-busy.end
	assert.True(t, busy.closed)
}

// flakyListener fails Accept with EMFILE a few times, then with a permanent
// error.
type flakyListener struct {
	net.Listener
	fails int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return nil, io.ErrClosedPipe
}

func TestTrackerServeRetries(t *testing.T) {
	var tr Tracker
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var retries []time.Duration
	err = tr.Serve(&flakyListener{Listener: l, fails: 2}, func(net.Conn) {}, func(err error, d time.Duration) {
		retries = append(retries, d)
	})
	assert.ErrorIs(t, err, io.ErrClosedPipe)
	assert.Equal(t, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}, retries)
	_, err = l.Accept()
	assert.ErrorIs(t, err, net.ErrClosed, "Serve closes its listener")
}

func TestTrackerRefuse(t *testing.T) {
	var tr Tracker
	client, server := tcpPair(t)
	// The client has already sent what the server will not read.
	_, err := client.Write(make([]byte, 64<<10))
	require.NoError(t, err)
	assert.True(t, tr.Refuse(server, []byte("421 busy\r\n")))
	br := bufio.NewReader(client)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "421 busy\r\n", line)
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
	client.Close()
	waitRefusals(t, &tr)

	// TLS: no handshake, no reply.
	client, server = tcpPair(t)
	assert.False(t, tr.Refuse(tls.Server(server, &tls.Config{}), []byte("421 busy\r\n")))
	_, err = client.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)

	// Too many refusals at once: closed without a reply.
	var clients []net.Conn
	for range MaxRefusing {
		client, server = tcpPair(t)
		clients = append(clients, client)
		require.True(t, tr.Refuse(server, []byte("421 busy\r\n")))
	}
	client, server = tcpPair(t)
	assert.False(t, tr.Refuse(server, []byte("421 busy\r\n")))
	_, err = client.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)

	// The refusals have answered and wait for the clients to close; Close
	// ends the waits.
	for _, c := range clients {
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "421 busy\r\n", line)
		_, err = br.ReadByte()
		assert.ErrorIs(t, err, io.EOF)
	}
	require.NoError(t, tr.Close())
	waitRefusals(t, &tr)
	client, server = tcpPair(t)
	assert.False(t, tr.Refuse(server, []byte("421 busy\r\n")), "after Close")
}

// waitRefusals waits until tr has no refusal left.
func waitRefusals(t *testing.T, tr *Tracker) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		tr.mu.Lock()
		n := len(tr.refused)
		tr.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d refusals left", n)
		}
	}
}
