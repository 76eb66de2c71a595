package netutil

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/selfsigned"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, _ := l.Accept()
		accepted <- nc
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { client.Close(); server.Close() })
	deadline := time.Now().Add(30 * time.Second)
	client.SetDeadline(deadline)
	server.SetDeadline(deadline)
	return client, server
}

// goClose runs closeLinger in a goroutine and returns its result channel.
func goClose(nc net.Conn, timeout time.Duration, maxBytes int64) chan error {
	done := make(chan error, 1)
	go func() { done <- closeLinger(nc, timeout, maxBytes) }()
	return done
}

func wait(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("CloseLinger did not return")
		return nil
	}
}

// TestCloseLingerLastReply: the client has sent data the server never read;
// after the server's reply the client reads the reply and a clean end of
// stream, not a reset, and CloseLinger returns once the client closes.
func TestCloseLingerLastReply(t *testing.T) {
	client, server := tcpPair(t)
	_, err := client.Write(bytes.Repeat([]byte("NOOP\r\n"), 10000))
	require.NoError(t, err)
	_, err = server.Write([]byte("421 closing\r\n"))
	require.NoError(t, err)
	done := goClose(server, time.Minute, 1<<20)

	br := bufio.NewReader(client)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "421 closing\r\n", line)
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, client.Close())
	assert.NoError(t, wait(t, done))
}

// TestCloseLingerTimeout: a client that neither sends nor closes holds the
// server's side only for the timeout.
func TestCloseLingerTimeout(t *testing.T) {
	client, server := tcpPair(t)
	done := goClose(server, 10*time.Millisecond, 1<<20)
	assert.NoError(t, wait(t, done))
	_, err := client.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
}

// TestCloseLingerBytes: a client that keeps sending holds the server's side
// only until the byte limit is read.
func TestCloseLingerBytes(t *testing.T) {
	client, server := tcpPair(t)
	stop := make(chan struct{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		buf := make([]byte, 4096)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := client.Write(buf); err != nil {
				return
			}
		}
	}()
	done := goClose(server, time.Minute, 64<<10)
	assert.NoError(t, wait(t, done))
	close(stop)
	client.Close()
	<-wrote
}

// TestCloseLingerInterrupted: Close from another goroutine ends the wait.
func TestCloseLingerInterrupted(t *testing.T) {
	client, server := tcpPair(t)
	done := goClose(server, time.Minute, 1<<20)
	// The client's end of stream says the server is waiting now.
	_, err := client.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
	server.Close()
	err = wait(t, done)
	if err != nil {
		assert.ErrorIs(t, err, net.ErrClosed)
	}
}

// TestCloseLingerTLS: over TLS the client reads the reply and then the
// close_notify, as a clean end of stream.
func TestCloseLingerTLS(t *testing.T) {
	pair, err := selfsigned.NewPair()
	require.NoError(t, err)
	rawClient, rawServer := tcpPair(t)
	client := tls.Client(rawClient, pair.Client)
	server := tls.Server(rawServer, pair.Server)
	hs := make(chan error, 1)
	go func() { hs <- server.Handshake() }()
	require.NoError(t, client.Handshake())
	require.NoError(t, <-hs)

	_, err = client.Write(bytes.Repeat([]byte("NOOP\r\n"), 10000))
	require.NoError(t, err)
	_, err = server.Write([]byte("-ERR bye\r\n"))
	require.NoError(t, err)
	done := goClose(server, time.Minute, 1<<20)

	br := bufio.NewReader(client)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "-ERR bye\r\n", line)
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, client.Close())
	assert.NoError(t, wait(t, done))
}

// TestCloseLingerTLSBeforeHandshake: a TLS connection whose handshake never
// happened is closed all the same.
func TestCloseLingerTLSBeforeHandshake(t *testing.T) {
	pair, err := selfsigned.NewPair()
	require.NoError(t, err)
	rawClient, rawServer := tcpPair(t)
	done := goClose(tls.Server(rawServer, pair.Server), 10*time.Millisecond, 1<<20)
	assert.NoError(t, wait(t, done))
	_, err = rawClient.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
}

// TestCloseLingerNoHalfClose: a connection without CloseWrite is closed at
// once.
func TestCloseLingerNoHalfClose(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	assert.NoError(t, CloseLinger(server))
	_, err := client.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
}
