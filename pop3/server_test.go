package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/internal/sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	msg1 = "From: a@example.org\r\nSubject: one\r\n\r\nHello\r\n.dotted line\r\n"
	msg2 = "From: b@example.org\nSubject: two\n\nbare LF body\n.\nend\n"
	msg3 = "Subject: three\r\n\r\nl1\r\nl2\r\nl3\r\n"
)

// startServer serves srv on a loopback port and returns its address.
func startServer(t *testing.T, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		assert.ErrorIs(t, <-done, ErrServerClosed)
	})
	return l.Addr().String()
}

// newTestServer starts a server over a memBackend holding alice's three
// messages and bob's empty maildrop; configure, if not nil, adjusts the
// server before it starts.
func newTestServer(t *testing.T, configure ...func(*Server)) (*Server, *memBackend, string) {
	t.Helper()
	b := newMemBackend()
	b.addUser("alice", "secret", msg1, msg2, msg3)
	b.addUser("bob", "hunter2")
	srv := &Server{Backend: b, AllowInsecureAuth: true, Hostname: "pop.test"}
	for _, f := range configure {
		f(srv)
	}
	return srv, b, startServer(t, srv)
}

// wire is a raw protocol conversation.
type wire struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialWire(t *testing.T, addr string) (*wire, string) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	w := &wire{t: t, nc: nc, r: bufio.NewReader(nc)}
	return w, w.line()
}

func (w *wire) send(s string) {
	w.t.Helper()
	_, err := io.WriteString(w.nc, s)
	require.NoError(w.t, err)
}

func (w *wire) line() string {
	w.t.Helper()
	l, err := w.r.ReadString('\n')
	require.NoError(w.t, err, "read so far: %q", l)
	require.True(w.t, strings.HasSuffix(l, "\r\n"), "line %q without CRLF", l)
	return strings.TrimSuffix(l, "\r\n")
}

// cmd sends a command line and returns the first response line.
func (w *wire) cmd(s string) string {
	w.t.Helper()
	w.send(s + "\r\n")
	return w.line()
}

// multi reads a multi-line body up to the terminator, raw (still stuffed).
func (w *wire) multi() []string {
	w.t.Helper()
	var lines []string
	for {
		l := w.line()
		if l == "." {
			return lines
		}
		lines = append(lines, l)
	}
}

// closed reports whether the server closed the connection.
func (w *wire) closed() bool {
	_, err := w.r.ReadByte()
	return err == io.EOF
}

func (w *wire) login(user, pass string) {
	w.t.Helper()
	require.Equal(w.t, "+OK send PASS", w.cmd("USER "+user))
	require.True(w.t, strings.HasPrefix(w.cmd("PASS "+pass), "+OK "), "login")
}

func TestGreetingAndAPOP(t *testing.T) {
	_, _, addr := newTestServer(t)
	w, greeting := dialWire(t, addr)
	m := regexp.MustCompile(`^\+OK pop\.test POP3 server ready (<[^<>]+@pop\.test>)$`).FindStringSubmatch(greeting)
	require.NotNil(t, m, greeting)
	// A wrong digest, then the right one (RFC 1939 §7).
	assert.Equal(t, "-ERR [AUTH] authentication failed", w.cmd("APOP alice "+apopDigest(m[1], "wrong")))
	assert.Equal(t, "+OK maildrop has 3 messages (147 octets)", w.cmd("APOP alice "+strings.ToUpper(apopDigest(m[1], "secret"))))
	assert.Equal(t, "+OK 3 147", w.cmd("STAT"))

	// The timestamp differs on each connection.
	_, g2 := dialWire(t, addr)
	assert.NotEqual(t, greeting, g2)
}

func TestTransaction(t *testing.T) {
	_, b, addr := newTestServer(t)
	w, _ := dialWire(t, addr)
	w.login("alice", "secret")
	assert.Equal(t, "+OK 3 147", w.cmd("STAT"))
	assert.Equal(t, "+OK maildrop has 3 messages (147 octets)", w.cmd("LIST"))
	assert.Equal(t, []string{"1 58", "2 59", "3 30"}, w.multi())
	assert.Equal(t, "+OK 2 59", w.cmd("LIST 2"))
	assert.Equal(t, "+OK unique-id listing follows", w.cmd("UIDL"))
	assert.Equal(t, []string{"1 uid-alice-1", "2 uid-alice-2", "3 uid-alice-3"}, w.multi())
	assert.Equal(t, "+OK 3 uid-alice-3", w.cmd("UIDL 3"))

	assert.Equal(t, "+OK 58 octets", w.cmd("RETR 1"))
	assert.Equal(t, []string{"From: a@example.org", "Subject: one", "", "Hello", "..dotted line"}, w.multi())
	// Stored with bare LF, sent with CRLF (w.line checks), dot-stuffed.
	assert.Equal(t, "+OK 59 octets", w.cmd("RETR 2"))
	assert.Equal(t, []string{"From: b@example.org", "Subject: two", "", "bare LF body", "..", "end"}, w.multi())

	assert.Equal(t, "+OK top of message follows", w.cmd("TOP 3 1"))
	assert.Equal(t, []string{"Subject: three", "", "l1"}, w.multi())
	assert.Equal(t, "+OK top of message follows", w.cmd("TOP 3 0"))
	assert.Equal(t, []string{"Subject: three", ""}, w.multi())
	assert.Equal(t, "+OK top of message follows", w.cmd("TOP 3 99999999999999999999"))
	assert.Equal(t, []string{"Subject: three", "", "l1", "l2", "l3"}, w.multi())

	// DELE: the message vanishes from STAT, LIST and UIDL; numbers stay.
	assert.Equal(t, "+OK message 2 deleted", w.cmd("DELE 2"))
	assert.Equal(t, "-ERR message 2 already deleted", w.cmd("DELE 2"))
	assert.Equal(t, "-ERR message 2 already deleted", w.cmd("RETR 2"))
	assert.Equal(t, "-ERR message 2 already deleted", w.cmd("LIST 2"))
	assert.Equal(t, "-ERR message 2 already deleted", w.cmd("TOP 2 0"))
	assert.Equal(t, "+OK 2 88", w.cmd("STAT"))
	w.cmd("LIST")
	assert.Equal(t, []string{"1 58", "3 30"}, w.multi())
	w.cmd("UIDL")
	assert.Equal(t, []string{"1 uid-alice-1", "3 uid-alice-3"}, w.multi())
	assert.Equal(t, "+OK 3 uid-alice-3", w.cmd("UIDL 3"))

	// RSET restores.
	assert.Equal(t, "+OK maildrop has 3 messages (147 octets)", w.cmd("RSET"))
	assert.Equal(t, "+OK 3 147", w.cmd("STAT"))
	assert.Equal(t, "+OK", w.cmd("NOOP"))

	// Deletion happens only at QUIT.
	assert.Equal(t, "+OK message 1 deleted", w.cmd("DELE 1"))
	assert.Equal(t, "+OK message 3 deleted", w.cmd("dele 3"))
	assert.Equal(t, 3, b.count("alice"))
	assert.Equal(t, "+OK bye (1 messages left)", w.cmd("QUIT"))
	assert.True(t, w.closed())
	assert.Equal(t, 1, b.count("alice"))
	assert.False(t, b.isLocked("alice"))

	w, _ = dialWire(t, addr)
	w.login("alice", "secret")
	assert.Equal(t, "+OK 1 59", w.cmd("STAT"))
	assert.Equal(t, "+OK 1 uid-alice-2", w.cmd("UIDL 1"))
}

func TestDroppedConnectionDeletesNothing(t *testing.T) {
	_, b, addr := newTestServer(t)
	w, _ := dialWire(t, addr)
	w.login("alice", "secret")
	assert.Equal(t, "+OK message 1 deleted", w.cmd("DELE 1"))
	w.nc.Close()
	// The lock is released once the server sees the close; a new session
	// (which waits for it via IN-USE retries) still finds every message.
	var w2 *wire
	for i := 0; ; i++ {
		w2, _ = dialWire(t, addr)
		w2.cmd("USER alice")
		resp := w2.cmd("PASS secret")
		if strings.HasPrefix(resp, "+OK") {
			break
		}
		require.Equal(t, "-ERR [IN-USE] maildrop already locked", resp)
		require.Less(t, i, 1000)
		w2.nc.Close()
	}
	assert.Equal(t, "+OK 3 147", w2.cmd("STAT"))
	assert.Equal(t, 3, b.count("alice"))
}

func TestConcurrentLoginInUse(t *testing.T) {
	_, _, addr := newTestServer(t)
	w1, _ := dialWire(t, addr)
	w1.login("alice", "secret")
	w2, _ := dialWire(t, addr)
	w2.cmd("USER alice")
	assert.Equal(t, "-ERR [IN-USE] maildrop already locked", w2.cmd("PASS secret"))
	// RFC 1939 §4: the session stays in AUTHORIZATION; another user works.
	assert.Equal(t, "-ERR not allowed before authentication", w2.cmd("STAT"))
	w2.login("bob", "hunter2")
	assert.Equal(t, "+OK 0 0", w2.cmd("STAT"))
	// The first session is unaffected.
	assert.Equal(t, "+OK 3 147", w1.cmd("STAT"))
	assert.Equal(t, "+OK bye (3 messages left)", w1.cmd("QUIT"))
}

func TestWrongStateAndBadInput(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxErrors = 1000 })
	w, _ := dialWire(t, addr)
	for _, c := range []string{"STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 1", "UIDL"} {
		assert.Equal(t, "-ERR not allowed before authentication", w.cmd(c), c)
	}
	assert.Equal(t, "-ERR send USER first", w.cmd("PASS secret"))
	assert.Equal(t, "-ERR unknown command", w.cmd("XYZZ"))
	assert.Equal(t, "-ERR syntax error", w.cmd("TOOLONGKEYWORD"))
	assert.Equal(t, "-ERR syntax error", w.cmd("\xff\x00\x01garbage"))
	assert.Equal(t, "-ERR syntax error", w.cmd(""))
	assert.Equal(t, "-ERR STLS not supported", w.cmd("STLS"))
	// A failed PASS forgets the USER (RFC 1939 §7).
	w.cmd("USER alice")
	assert.Equal(t, "-ERR [AUTH] authentication failed", w.cmd("PASS wrong"))
	assert.Equal(t, "-ERR send USER first", w.cmd("PASS secret"))

	w.login("alice", "secret")
	for c, want := range map[string]string{
		"RETR 0":                       "-ERR invalid message number",
		"RETR -1":                      "-ERR invalid message number",
		"RETR +1":                      "-ERR invalid message number",
		"RETR 4":                       "-ERR no such message, only 3 messages in maildrop",
		"RETR 4294967297":              "-ERR invalid message number",
		"RETR 99999999999999999999999": "-ERR invalid message number",
		"RETR":                         "-ERR usage: RETR msg",
		"RETR 1 2":                     "-ERR usage: RETR msg",
		"TOP 1":                        "-ERR usage: TOP msg lines",
		"TOP 1 -1":                     "-ERR invalid line count",
		"TOP 9 1":                      "-ERR no such message, only 3 messages in maildrop",
		"DELE x":                       "-ERR invalid message number",
		"LIST 1 2":                     "-ERR usage: LIST [msg]",
		"UIDL 0":                       "-ERR invalid message number",
		"STAT 1":                       "-ERR STAT takes no arguments",
		"USER bob":                     "-ERR already authenticated",
		"PASS x":                       "-ERR already authenticated",
		"APOP a b":                     "-ERR already authenticated",
		"AUTH PLAIN":                   "-ERR already authenticated",
		"STLS":                         "-ERR already authenticated",
	} {
		assert.Equal(t, want, w.cmd(c), c)
	}
	assert.Equal(t, "+OK 3 147", w.cmd("STAT"))
}

func TestLineLimit(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxErrors = 1000 })
	w, _ := dialWire(t, addr)
	// RFC 2449 §4: 255 octets including CRLF is allowed.
	assert.Equal(t, "+OK send PASS", w.cmd("USER "+strings.Repeat("u", MaxCommandLine-2-5)))
	assert.Equal(t, "-ERR line too long", w.cmd("USER "+strings.Repeat("u", MaxCommandLine-2-4)))
	// A very long line is skipped without being buffered, and the session
	// goes on.
	w.send("NOOP " + strings.Repeat("x", 1<<20))
	assert.Equal(t, "-ERR line too long", w.cmd(""))
	w.login("alice", "secret")
}

func TestMaxErrors(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxErrors = 3 })
	w, _ := dialWire(t, addr)
	assert.Equal(t, "-ERR unknown command", w.cmd("XXXX"))
	assert.Equal(t, "-ERR unknown command", w.cmd("XXXX"))
	assert.Equal(t, "-ERR unknown command; too many errors, closing connection", w.cmd("XXXX"))
	assert.True(t, w.closed())
}

func TestMaxAuthAttempts(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxAuthFailures = 2 })
	w, _ := dialWire(t, addr)
	w.cmd("USER alice")
	assert.Equal(t, "-ERR [AUTH] authentication failed", w.cmd("PASS x"))
	w.cmd("USER alice")
	assert.Equal(t, "-ERR [AUTH] authentication failed; too many failures, closing connection", w.cmd("PASS y"))
	assert.True(t, w.closed())
}

func TestPassWithSpaces(t *testing.T) {
	b := newMemBackend()
	b.addUser("carol", "two  words ")
	addr := startServer(t, &Server{Backend: b, AllowInsecureAuth: true})
	w, _ := dialWire(t, addr)
	w.login("carol", "two  words ")
}

func TestCapa(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Expire = "NEVER"; s.LoginDelay = 15 * time.Minute })
	w, _ := dialWire(t, addr)
	assert.Equal(t, "+OK capability list follows", w.cmd("CAPA"))
	caps := w.multi()
	assert.Equal(t, []string{"TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER",
		"SASL SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN", "EXPIRE NEVER", "LOGIN-DELAY 900", "IMPLEMENTATION mailwire"}, caps)
	w.login("alice", "secret")
	assert.Equal(t, "+OK capability list follows", w.cmd("CAPA"))
	assert.Contains(t, w.multi(), "TOP")
	assert.Equal(t, "-ERR CAPA takes no arguments", w.cmd("CAPA X"))
}

func TestInsecureAuthRefused(t *testing.T) {
	b := newMemBackend()
	b.addUser("alice", "secret", msg1)
	pair, _ := peer.TLS(t)
	srv := &Server{Backend: b, TLSConfig: pair.Server, Implementation: "-"}
	addr := startServer(t, srv)
	w, _ := dialWire(t, addr)
	w.cmd("CAPA")
	assert.Equal(t, []string{"TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS"}, w.multi())
	assert.Equal(t, "-ERR [AUTH] cleartext authentication not allowed, use STLS first", w.cmd("USER alice"))
	assert.Equal(t, "-ERR [AUTH] cleartext authentication not allowed, use STLS first", w.cmd("PASS secret"))
	assert.Equal(t, "-ERR [AUTH] cleartext authentication not allowed, use STLS first", w.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="))

	// STLS, with a command injected before the handshake: it must be dropped.
	w.send("STLS\r\nUSER evil\r\n")
	assert.Equal(t, "+OK begin TLS negotiation", w.line())
	require.Zero(t, w.r.Buffered())
	tc := tls.Client(w.nc, pair.Client)
	require.NoError(t, tc.Handshake())
	tw := &wire{t: t, nc: tc, r: bufio.NewReader(tc)}
	assert.Equal(t, "-ERR send USER first", tw.cmd("PASS secret"))
	tw.cmd("CAPA")
	caps := tw.multi()
	assert.Contains(t, caps, "USER")
	assert.NotContains(t, caps, "STLS")
	assert.Contains(t, caps, "SASL SCRAM-SHA-256-PLUS SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN")
	assert.Equal(t, "-ERR TLS already active", tw.cmd("STLS"))
	tw.login("alice", "secret")
	assert.Equal(t, "+OK 1 58", tw.cmd("STAT"))
	b.mu.Lock()
	cs := b.lastConn
	b.mu.Unlock()
	require.NotNil(t, cs.TLS(), "the session sees the TLS state")
	assert.True(t, cs.TLS().HandshakeComplete)
	assert.Equal(t, w.nc.LocalAddr().String(), cs.RemoteAddr().String())
	assert.Equal(t, "alice", cs.Identity())
}

func TestImplicitTLS(t *testing.T) {
	b := newMemBackend()
	b.addUser("alice", "secret", msg1)
	pair, _ := peer.TLS(t)
	srv := &Server{Backend: b, TLSConfig: pair.Server}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(tls.NewListener(l, pair.Server))
	t.Cleanup(func() { srv.Close() })
	tc, err := tls.Dial("tcp", l.Addr().String(), pair.Client)
	require.NoError(t, err)
	defer tc.Close()
	w := &wire{t: t, nc: tc, r: bufio.NewReader(tc)}
	assert.True(t, strings.HasPrefix(w.line(), "+OK "))
	w.cmd("CAPA")
	assert.NotContains(t, w.multi(), "STLS")
	w.login("alice", "secret")
	assert.Equal(t, "+OK 1 58", w.cmd("STAT"))
}

func TestPipelining(t *testing.T) {
	_, _, addr := newTestServer(t)
	w, _ := dialWire(t, addr)
	// RFC 2449 §6.6: a client may send a batch of commands at once.
	w.send("USER alice\r\nPASS secret\r\nSTAT\r\nRETR 3\r\nDELE 3\r\nLIST\r\nBOGU\r\nQUIT\r\n")
	assert.Equal(t, "+OK send PASS", w.line())
	assert.Equal(t, "+OK maildrop has 3 messages (147 octets)", w.line())
	assert.Equal(t, "+OK 3 147", w.line())
	assert.Equal(t, "+OK 30 octets", w.line())
	assert.Equal(t, []string{"Subject: three", "", "l1", "l2", "l3"}, w.multi())
	assert.Equal(t, "+OK message 3 deleted", w.line())
	assert.Equal(t, "+OK maildrop has 2 messages (117 octets)", w.line())
	assert.Equal(t, []string{"1 58", "2 59"}, w.multi())
	assert.Equal(t, "-ERR unknown command", w.line())
	assert.Equal(t, "+OK bye (2 messages left)", w.line())
	assert.True(t, w.closed())
}

func TestQuitInAuthorization(t *testing.T) {
	_, _, addr := newTestServer(t)
	w, _ := dialWire(t, addr)
	assert.Equal(t, "+OK bye", w.cmd("QUIT"))
	assert.True(t, w.closed())
}

func TestUpdateFailure(t *testing.T) {
	_, b, addr := newTestServer(t)
	b.failDelete = true
	w, _ := dialWire(t, addr)
	w.login("alice", "secret")
	w.cmd("DELE 1")
	assert.Equal(t, "-ERR [SYS/TEMP] some deleted messages not removed", w.cmd("QUIT"))
	assert.True(t, w.closed())
	assert.False(t, b.isLocked("alice"))
}

func TestOpenFailure(t *testing.T) {
	_, b, addr := newTestServer(t)
	b.failOpen = true
	w, _ := dialWire(t, addr)
	w.login("alice", "secret")
	assert.Equal(t, "-ERR [SYS/TEMP] reading the message failed, try again later", w.cmd("RETR 1"))
	assert.Equal(t, "+OK", w.cmd("NOOP"))
}

func TestIdleTimeout(t *testing.T) {
	b := newMemBackend()
	b.addUser("alice", "secret", msg1, msg2, msg3)
	srv := &Server{Backend: b, AllowInsecureAuth: true, Hostname: "pop.test", Limits: Limits{ReadTimeout: 50 * time.Millisecond}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	// The server gets the connection only once the client's commands are
	// waiting in it, so the short timer can only expire after them.
	gate := &gateListener{Listener: l, open: make(chan struct{}), closed: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(gate) }()
	t.Cleanup(func() { srv.Close(); <-done })
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	w := &wire{t: t, nc: nc, r: bufio.NewReader(nc)}
	w.send("USER alice\r\nPASS secret\r\nDELE 1\r\n")
	close(gate.open)
	for _, want := range []string{"+OK pop.test POP3 server ready", "+OK send PASS", "+OK maildrop has 3 messages (147 octets)", "+OK message 1 deleted"} {
		require.True(t, strings.HasPrefix(w.line(), want))
	}
	// RFC 1939 §3: autologout without entering UPDATE.
	assert.Equal(t, "-ERR autologout timer expired", w.line())
	assert.True(t, w.closed())
	assert.Equal(t, 3, b.count("alice"))
}

// gateListener holds accepted connections until open is closed (or the
// listener is).
type gateListener struct {
	net.Listener
	open   chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (g *gateListener) Accept() (net.Conn, error) {
	nc, err := g.Listener.Accept()
	if err == nil {
		select {
		case <-g.open:
		case <-g.closed:
		}
	}
	return nc, err
}

func (g *gateListener) Close() error {
	g.once.Do(func() { close(g.closed) })
	return g.Listener.Close()
}

func TestMaxConnections(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxConnections = 1 })
	w, _ := dialWire(t, addr)
	w.login("alice", "secret")
	_, g := dialWire(t, addr)
	assert.Equal(t, "-ERR [SYS/TEMP] too many connections, try later", g)
	assert.Equal(t, "+OK", w.cmd("NOOP"))
}

func TestShutdown(t *testing.T) {
	b := newMemBackend()
	b.addUser("alice", "secret", msg1)
	srv := &Server{Backend: b, AllowInsecureAuth: true}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	w, _ := dialWire(t, l.Addr().String())
	w.login("alice", "secret")
	w.cmd("DELE 1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	assert.ErrorIs(t, <-done, ErrServerClosed)
	assert.Equal(t, "-ERR [SYS/TEMP] server shutting down", w.line())
	assert.True(t, w.closed())
	assert.Equal(t, 1, b.count("alice"))
	assert.False(t, b.isLocked("alice"))
	assert.ErrorIs(t, srv.Serve(l), ErrServerClosed)
}

func TestAuthExchanges(t *testing.T) {
	_, _, addr := newTestServer(t)
	w, _ := dialWire(t, addr)
	assert.Equal(t, "+OK", w.cmd("AUTH"))
	assert.Equal(t, []string{"SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN"}, w.multi())
	assert.Equal(t, "-ERR unsupported authentication mechanism", w.cmd("AUTH X-UNKNOWN"))
	assert.Equal(t, "-ERR invalid base64", w.cmd("AUTH PLAIN !!!"))
	assert.Equal(t, "-ERR invalid base64", w.cmd("AUTH PLAIN =AAA"))
	// Cancelled exchange.
	assert.Equal(t, "+ ", w.cmd("AUTH PLAIN"))
	assert.Equal(t, "-ERR authentication cancelled", w.cmd("*"))
	// Wrong password.
	assert.Equal(t, "-ERR [AUTH] authentication failed", w.cmd("AUTH PLAIN AGFsaWNlAHdyb25n"))
	// Empty challenge, then the response.
	assert.Equal(t, "+ ", w.cmd("AUTH PLAIN"))
	assert.Equal(t, "+OK maildrop has 3 messages (147 octets)", w.cmd("AGFsaWNlAHNlY3JldA=="))
	assert.Equal(t, "-ERR already authenticated", w.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="))
}

func TestAuthLongLine(t *testing.T) {
	_, _, addr := newTestServer(t)
	w, _ := dialWire(t, addr)
	assert.Equal(t, "+ ", w.cmd("AUTH PLAIN"))
	assert.Equal(t, "-ERR authentication line too long", w.cmd(strings.Repeat("A", sasl.MaxLine+1)))
	// RFC 5034 §4: responses may be longer than a command line (255 octets);
	// this one is 1200 octets, read whole and refused by PLAIN, whose
	// fields have at most 255 octets (RFC 4616 §2).
	long := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + strings.Repeat("x", 893)))
	require.Len(t, long, 1200)
	assert.Equal(t, "+ ", w.cmd("AUTH PLAIN"))
	assert.Equal(t, "-ERR [AUTH] authentication failed: malformed response", w.cmd(long))
	// An AUTH line longer than a command line, as clients with OAuth tokens
	// send, up to sasl.MaxLine.
	assert.Equal(t, "-ERR [AUTH] authentication failed: malformed response", w.cmd("AUTH PLAIN "+long))
	assert.Equal(t, "-ERR line too long", w.cmd("AUTH PLAIN "+long+strings.Repeat("A", sasl.MaxLine-len(long))))
	assert.Equal(t, "-ERR line too long", w.cmd("NOOP "+long), "other commands keep the limit")
	assert.Equal(t, "+ ", w.cmd("AUTH PLAIN"))
	assert.Equal(t, "+OK maildrop has 3 messages (147 octets)", w.cmd("AGFsaWNlAHNlY3JldA=="))
}

func tlsListener(l net.Listener, cfg *tls.Config) net.Listener { return tls.NewListener(l, cfg) }

// chunkReader produces size bytes of message lazily (lines of 63 bytes and
// LF, every other one starting with a dot) and records the largest read, to
// show that the server streams rather than buffers.
type chunkReader struct {
	off, size int
	maxRead   int
}

var chunkPattern = "." + strings.Repeat("a", 62) + "\n" + strings.Repeat("b", 63) + "\n"

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.off == r.size {
		return 0, io.EOF
	}
	r.maxRead = max(r.maxRead, len(p))
	n := min(len(p), r.size-r.off)
	for i := range n {
		p[i] = chunkPattern[(r.off+i)%len(chunkPattern)]
	}
	r.off += n
	return n, nil
}

func (r *chunkReader) Close() error { return nil }

type bigDrop struct {
	size int
	r    *chunkReader
}

func (d *bigDrop) Messages(ctx context.Context) ([]Message, error) {
	return []Message{{Size: int64(d.size), UID: "big"}}, nil
}
func (d *bigDrop) Open(ctx context.Context, i int) (io.ReadCloser, error) {
	d.r = &chunkReader{size: d.size}
	return d.r, nil
}
func (d *bigDrop) Delete(ctx context.Context, idx []int) error { return nil }
func (d *bigDrop) Close() error                                { return nil }

type bigBackend struct{ drop *bigDrop }

func (b bigBackend) NewSession(c *Conn) (Session, error) {
	return passwordBackend(b.Authenticate, b.OpenMaildrop).NewSession(c)
}

func (b bigBackend) Authenticate(ctx context.Context, u, p string) error { return nil }
func (b bigBackend) OpenMaildrop(ctx context.Context, u string) (Maildrop, error) {
	return b.drop, nil
}

func TestRetrStreams(t *testing.T) {
	size := 4 << 20
	if testing.Short() {
		size = 1 << 20
	}
	drop := &bigDrop{size: size}
	addr := startServer(t, &Server{Backend: bigBackend{drop}, AllowInsecureAuth: true})
	ctx := testCtx(t)
	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	require.NoError(t, c.Login(ctx, "x", "y"))
	rc, err := c.Retr(ctx, 1)
	require.NoError(t, err)
	var lines, dots int
	r := bufio.NewReader(rc)
	var total int
	for {
		l, err := r.ReadString('\n')
		total += len(l)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(l, "\r\n"))
		lines++
		if l[0] == '.' {
			dots++
		}
	}
	assert.Equal(t, size/64, lines)
	assert.Equal(t, size/128, dots)
	assert.Equal(t, size+lines, total, "every LF became CRLF, dots unstuffed")
	assert.LessOrEqual(t, drop.r.maxRead, 64<<10, "the server reads the message in bounded chunks")
}

func TestLoginDelay(t *testing.T) {
	b := &delayBackend{}
	addr := startServer(t, &Server{Backend: b, AllowInsecureAuth: true, LoginDelay: time.Hour})
	w, _ := dialWire(t, addr)
	w.cmd("USER a")
	assert.Equal(t, "-ERR [LOGIN-DELAY] login delay not yet expired", w.cmd("PASS b"))
	w.cmd("USER a")
	assert.Equal(t, "-ERR [SYS/PERM] account disabled", w.cmd("PASS perm"))
}

type delayBackend struct{}

func (b delayBackend) NewSession(c *Conn) (Session, error) {
	return passwordBackend(b.Authenticate, b.OpenMaildrop).NewSession(c)
}

func (delayBackend) Authenticate(ctx context.Context, u, p string) error {
	if p == "perm" {
		return fmt.Errorf("backend says: %w", &Error{Code: CodeSysPerm, Message: "account disabled"})
	}
	return ErrLoginDelay
}
func (delayBackend) OpenMaildrop(ctx context.Context, u string) (Maildrop, error) {
	return nil, ErrInUse
}

func TestListenAndServeTLS(t *testing.T) {
	b := newMemBackend()
	b.addUser("alice", "secret", msg1)
	pair, _ := peer.TLS(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(cert, pair.CertPEM, 0o600))
	require.NoError(t, os.WriteFile(key, pair.KeyPEM, 0o600))
	addr := peer.Addr(peer.FreePort(t))
	srv := &Server{Addr: addr, Backend: b}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServeTLS(cert, key) }()
	peer.WaitListening(t, addr, 10*time.Second)
	ctx := testCtx(t)
	c, err := DialTLS(ctx, addr, pair.Client)
	require.NoError(t, err)
	require.NoError(t, c.Login(ctx, "alice", "secret"))
	require.NoError(t, c.Quit(ctx))
	require.NoError(t, srv.Shutdown(ctx))
	assert.ErrorIs(t, <-done, ErrServerClosed)

	assert.Error(t, (&Server{Addr: "127.0.0.1:0", Backend: b}).ListenAndServeTLS("", ""), "no certificate")
}

// downStore is a credential store whose database is unreachable.
type downStore struct{}

func (downStore) SCRAMKeys(_ context.Context, hash, user string) (auth.SCRAMKeys, error) {
	return auth.SCRAMKeys{}, errors.New("database down")
}
func (downStore) CheckPassword(_ context.Context, user, pass string) error {
	return errors.New("database down")
}

// A credential store failure during AUTH is a temporary server problem
// (RFC 3206 §4 [SYS/TEMP]), not wrong credentials, and its text stays in
// the log.
func TestAuthBackendFailure(t *testing.T) {
	_, b, addr := newTestServer(t)
	b.sasl.Credentials = downStore{}
	w, _ := dialWire(t, addr)
	ir := base64.StdEncoding.EncodeToString([]byte("n,,n=alice,r=abcdefgh"))
	assert.Equal(t, "-ERR [SYS/TEMP] authentication failed, try again later", w.cmd("AUTH SCRAM-SHA-256 "+ir))
	assert.Equal(t, "-ERR [SYS/TEMP] authentication failed, try again later", w.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="))
}

// A Maildrop listing a unique-id that breaks RFC 1939 §7 is refused, not
// sent: a CRLF in it would inject a response.
func TestInvalidUIDRefused(t *testing.T) {
	for _, uid := range []string{"", "a b", "x\r\n+OK", strings.Repeat("u", 71), "caf\xc3\xa9"} {
		_, b, addr := newTestServer(t)
		b.mu.Lock()
		b.drops["alice"].uids[1] = uid
		b.mu.Unlock()
		w, _ := dialWire(t, addr)
		assert.Equal(t, "+OK send PASS", w.cmd("USER alice"))
		assert.Equal(t, "-ERR [SYS/PERM] maildrop is damaged", w.cmd("PASS secret"), "%q", uid)
		assert.False(t, b.isLocked("alice"), "maildrop closed")
		assert.Equal(t, "+OK send PASS", w.cmd("USER alice"), "still in AUTHORIZATION")
	}
}

// injectingBackend refuses logins with an *Error whose text holds a line
// break.
type injectingBackend struct{ *memBackend }

func (b injectingBackend) NewSession(c *Conn) (Session, error) {
	return passwordBackend(b.Authenticate, b.OpenMaildrop).NewSession(c)
}

func (b injectingBackend) Authenticate(ctx context.Context, user, pass string) error {
	return &Error{Code: "SYS/PERM\r\n+OK", Message: "no\r\n+OK maildrop has 0 messages"}
}

func TestBackendErrorTextCannotInject(t *testing.T) {
	b := newMemBackend()
	addr := startServer(t, &Server{Backend: injectingBackend{b}, AllowInsecureAuth: true})
	w, _ := dialWire(t, addr)
	w.cmd("USER alice")
	assert.Equal(t, "-ERR [SYS/PERM  +OK] no  +OK maildrop has 0 messages", w.cmd("PASS x"))
	assert.Equal(t, "-ERR send USER first", w.cmd("PASS x"), "one response per command")
}

// signalDrop reports when the server closes it.
type signalDrop struct {
	*bigDrop
	closed chan struct{}
}

func (d signalDrop) Close() error { close(d.closed); return nil }

type signalBackend struct{ drop signalDrop }

func (b signalBackend) NewSession(c *Conn) (Session, error) {
	return passwordBackend(b.Authenticate, b.OpenMaildrop).NewSession(c)
}

func (b signalBackend) Authenticate(ctx context.Context, u, p string) error { return nil }
func (b signalBackend) OpenMaildrop(ctx context.Context, u string) (Maildrop, error) {
	return b.drop, nil
}

// A client that stops reading in the middle of a RETR is dropped after
// WriteTimeout, and the maildrop is closed without deleting anything.
func TestWriteTimeout(t *testing.T) {
	drop := signalDrop{&bigDrop{size: 1 << 30}, make(chan struct{})}
	addr := startServer(t, &Server{Backend: signalBackend{drop}, AllowInsecureAuth: true, Limits: Limits{WriteTimeout: 50 * time.Millisecond}})
	w, _ := dialWire(t, addr)
	w.login("x", "y")
	w.send("RETR 1\r\n")
	select {
	case <-drop.closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the server still waits for a client that does not read")
	}
	assert.Less(t, drop.r.off, drop.size, "the server gave up before the end")
}

// A client that connects to the implicit-TLS port and never says hello is
// dropped after TLSHandshakeTimeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	pair, _ := peer.TLS(t)
	srv := &Server{Backend: newMemBackend(), Limits: Limits{TLSHandshakeTimeout: 50 * time.Millisecond}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tlsListener(l, pair.Server)) }()
	t.Cleanup(func() { srv.Close(); <-done })
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	_, err = nc.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "closed by the server, not by our deadline")
}

// emfileListener fails its first Accept calls as a process out of file
// descriptors does.
type emfileListener struct {
	net.Listener
	fails int
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// Running out of file descriptors (a flood of connections) pauses Serve; it
// does not stop it.
func TestServeSurvivesEMFILE(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := newMemBackend()
	srv := &Server{Backend: b, Hostname: "pop.test"}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(&emfileListener{Listener: l, fails: 3}) }()
	t.Cleanup(func() { srv.Close(); <-done })
	_, greeting := dialWire(t, l.Addr().String())
	assert.True(t, strings.HasPrefix(greeting, "+OK pop.test POP3 server ready"), greeting)
}
