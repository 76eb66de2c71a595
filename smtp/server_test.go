package smtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/internal/sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recMessage is what the recording backend stored.
type recMessage struct {
	From     Mailbox
	MailOpts *MailOptions
	Rcpts    []Mailbox
	RcptOpts []*RcptOptions
	Data     string
	Identity string
	TLS      bool
	Helo     string
	Protocol string
	Remote   string
	Local    string
}

// recorder is a Backend recording every stored message; a message is stored
// only when Data read it to io.EOF.
type recorder struct {
	mu       sync.Mutex
	msgs     []recMessage
	refuse   map[string]error // RCPT local part -> error
	dataErr  error
	users    *auth.MemoryStore
	logouts  int
	sessions int
	started  chan struct{} // when set, Data signals here once it has begun
	release  chan struct{} // when set, Data waits for it before returning
	lmtp     map[string]error
	allMechs bool // offer every mechanism auth.ServerConfig can serve

	identities []string // authenticated identities, recorded at logout
}

func (r *recorder) NewSession(c *Conn) (Session, error) {
	r.mu.Lock()
	r.sessions++
	r.mu.Unlock()
	s := &recSession{r: r, c: c}
	if r.lmtp != nil {
		return &recLMTPSession{s}, nil
	}
	return s, nil
}

func (r *recorder) messages() []recMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recMessage(nil), r.msgs...)
}

type recSession struct {
	r   *recorder
	c   *Conn
	cur recMessage
}

func (s *recSession) Mail(_ context.Context, from Mailbox, opts *MailOptions) error {
	if from.Local == "refused" {
		return &Error{Code: 550, EnhancedCode: EnhancedCode{5, 7, 1}, Message: "Sender refused"}
	}
	s.cur = recMessage{From: from, MailOpts: opts}
	return nil
}

func (s *recSession) Rcpt(_ context.Context, to Mailbox, opts *RcptOptions) error {
	if err, ok := s.r.refuse[to.Local]; ok {
		return err
	}
	s.cur.Rcpts = append(s.cur.Rcpts, to)
	s.cur.RcptOpts = append(s.cur.RcptOpts, opts)
	return nil
}

func (s *recSession) Data(_ context.Context, r io.Reader) error {
	if s.r.started != nil {
		s.r.started <- struct{}{}
	}
	if s.r.release != nil {
		<-s.r.release
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	dataErr := s.r.dataErr
	s.r.mu.Unlock()
	if dataErr != nil {
		return dataErr
	}
	m := s.cur
	m.Data = string(b)
	m.Identity = s.c.Identity()
	m.TLS = s.c.TLS() != nil
	m.Helo = s.c.Hostname()
	m.Protocol = s.c.ReceivedProtocol()
	m.Remote = s.c.RemoteAddr().String()
	m.Local = s.c.LocalAddr().String()
	if s.c.Server() == nil {
		return errors.New("no server")
	}
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, m)
	s.r.mu.Unlock()
	return nil
}

func (s *recSession) Reset(context.Context) { s.cur = recMessage{} }

func (s *recSession) Close() error {
	s.r.mu.Lock()
	s.r.logouts++
	if id := s.c.Identity(); id != "" {
		s.r.identities = append(s.r.identities, id)
	}
	s.r.mu.Unlock()
	return nil
}

func (s *recSession) SASLMechanisms() []string {
	if s.r.users == nil {
		return nil
	}
	if s.r.allMechs {
		cfg := auth.ServerConfig{Credentials: s.r.users}
		return cfg.Mechanisms(s.c.TLS())
	}
	return []string{"PLAIN", "LOGIN"}
}

func (s *recSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	cfg := auth.ServerConfig{Credentials: s.r.users}
	return cfg.NewServer(mech, s.c.TLS())
}

type recLMTPSession struct{ *recSession }

func (s *recLMTPSession) LMTPData(ctx context.Context, r io.Reader, st StatusCollector) error {
	if err := s.Data(ctx, r); err != nil {
		return err
	}
	for _, rc := range s.cur.Rcpts {
		if err, ok := s.r.lmtp[rc.Local]; ok {
			st.SetStatus(rc, err)
		}
	}
	return nil
}

// startServer runs srv on a loopback port and returns its address.
func startServer(t testing.TB, srv *Server) string {
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

func newTestServer(t testing.TB, mod func(*Server)) (*Server, *recorder, string) {
	return newTestServerWith(t, &recorder{}, mod)
}

// newTestServerWith starts a server over rec, which must be fully set up:
// the server's goroutines read it without locks.
func newTestServerWith(t testing.TB, rec *recorder, mod func(*Server)) (*Server, *recorder, string) {
	srv := &Server{Hostname: "mx.test", Backend: rec, Limits: Limits{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
		Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mod != nil {
		mod(srv)
	}
	return srv, rec, startServer(t, srv)
}

// client is a raw test client.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func rawDial(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// greet dials and reads the greeting, then sends EHLO.
func rawGreet(t testing.TB, addr string) *rawConn {
	c := rawDial(t, addr)
	c.expect(220)
	c.cmd("EHLO client.test", 250)
	return c
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	_, err := io.WriteString(c.nc, s)
	require.NoError(c.t, err)
}

func (c *rawConn) read() *Reply {
	c.t.Helper()
	r, err := ReadReply(c.br)
	require.NoError(c.t, err)
	return r
}

// expect reads a reply and checks its code.
func (c *rawConn) expect(code int) *Reply {
	c.t.Helper()
	r := c.read()
	require.Equal(c.t, code, r.Code, "reply %d %v %q", r.Code, r.EnhancedCode, r.Lines)
	return r
}

// cmd sends a command line and checks the reply code.
func (c *rawConn) cmd(line string, code int) *Reply {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.expect(code)
}

// closed reports whether the server closed the connection.
// closed reports whether the server closed the connection, waiting up to
// 10 s for it: a read that times out means it did not.
func (c *rawConn) closed() bool {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func TestServerBasic(t *testing.T) {
	_, rec, addr := newTestServer(t, nil)
	c := rawDial(t, addr)
	r := c.expect(220)
	assert.Contains(t, r.Lines[0], "mx.test")
	r = c.cmd("EHLO client.test", 250)
	for _, ext := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "SIZE 33554432", "DSN", "CHUNKING", "BINARYMIME"} {
		assert.Contains(t, r.Lines, ext)
	}
	assert.NotContains(t, r.Lines, "STARTTLS")
	c.cmd("MAIL FROM:<alice@a.test> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=x+2By", 250)
	c.cmd("RCPT TO:<bob@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@b.test", 250)
	c.cmd("RCPT TO:<Postmaster>", 250)
	c.cmd("DATA", 354)
	c.send("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n")
	r = c.expect(250)
	assert.Equal(t, EnhancedCode{2, 0, 0}, r.EnhancedCode)
	c.cmd("NOOP", 250)
	c.cmd("VRFY bob", 252)
	c.cmd("EXPN list", 252)
	c.cmd("HELP", 214)
	c.cmd("QUIT", 221)
	require.True(t, c.closed())

	msgs := rec.messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, Mailbox{"alice", "a.test"}, m.From)
	assert.Equal(t, []Mailbox{{"bob", "b.test"}, {"Postmaster", ""}}, m.Rcpts)
	assert.Equal(t, &MailOptions{Size: 100, Body: Body8BitMIME, Return: ReturnHeaders, EnvelopeID: "x+y"}, m.MailOpts)
	assert.Equal(t, []DSNNotify{NotifySuccess, NotifyFailure}, m.RcptOpts[0].Notify)
	assert.Equal(t, "bob@b.test", m.RcptOpts[0].OriginalRecipient)
	assert.Equal(t, "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n", m.Data)
	assert.Equal(t, "client.test", m.Helo)
	assert.Equal(t, "ESMTP", m.Protocol)
	assert.Equal(t, c.nc.LocalAddr().String(), m.Remote)
	assert.Equal(t, addr, m.Local)
	require.Eventually(t, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.logouts == 1 }, 5*time.Second, time.Millisecond)
}

func TestServerSequenceAndSyntax(t *testing.T) {
	_, rec, addr := newTestServerWith(t, &recorder{refuse: map[string]error{"nobody": ErrNoSuchUser, "later": errors.New("db down")}}, func(s *Server) { s.Limits.MaxErrors = -1 })
	c := rawDial(t, addr)
	c.expect(220)
	for _, tc := range []struct {
		line string
		code int
		ec   EnhancedCode
	}{
		{"MAIL FROM:<a@b.test>", 503, EnhancedCode{5, 5, 1}},
		{"RCPT TO:<a@b.test>", 503, EnhancedCode{5, 5, 1}},
		{"DATA", 503, EnhancedCode{5, 5, 1}},
		{"FOO", 500, EnhancedCode{5, 5, 1}},
		{"", 500, EnhancedCode{5, 5, 2}},
		{"EHLO", 501, EnhancedCode{5, 5, 4}},
		{"LHLO x", 500, EnhancedCode{5, 5, 1}},
		{"HELO client.test", 250, NoEnhancedCode},
		{"RCPT TO:<a@b.test>", 503, EnhancedCode{5, 5, 1}},
		{"MAIL TO:<a@b.test>", 501, EnhancedCode{5, 1, 7}},
		{"MAIL FROM:<a@@b.test>", 501, EnhancedCode{5, 1, 7}},
		{"MAIL FROM:<a@b.test> FOO=1", 555, EnhancedCode{5, 5, 4}},
		{"MAIL FROM:<a@b.test> SIZE=abc", 501, EnhancedCode{5, 5, 4}},
		{"MAIL FROM:<jörg@b.test>", 550, EnhancedCode{5, 6, 7}},
		{"MAIL FROM:<refused@b.test>", 550, EnhancedCode{5, 7, 1}},
		{"MAIL FROM:<>", 250, EnhancedCode{2, 1, 0}},
		{"MAIL FROM:<a@b.test>", 503, EnhancedCode{5, 5, 1}},
		{"DATA", 503, EnhancedCode{5, 5, 1}},
		{"RCPT TO:<>", 501, EnhancedCode{5, 1, 3}},
		{"RCPT TO:<nobody@b.test>", 550, EnhancedCode{5, 1, 1}},
		{"RCPT TO:<later@b.test>", 451, EnhancedCode{4, 3, 0}},
		// RFC 6531 §3.5: 553 5.6.7 for a UTF-8 address without SMTPUTF8.
		{"RCPT TO:<ü@b.test>", 553, EnhancedCode{5, 6, 7}},
		{"RCPT TO:<ü@b.test@>", 501, EnhancedCode{5, 1, 3}},
		{"RCPT TO:<ok@b.test>", 250, EnhancedCode{2, 1, 5}},
		{"DATA now", 501, EnhancedCode{5, 5, 4}},
		{"RSET x", 501, EnhancedCode{5, 5, 4}},
		{"RSET", 250, EnhancedCode{2, 0, 0}},
		{"RCPT TO:<ok@b.test>", 503, EnhancedCode{5, 5, 1}},
		{"STARTTLS", 502, EnhancedCode{5, 5, 1}},
		{"VRFY", 501, EnhancedCode{5, 5, 4}},
		{"AUTH PLAIN", 503, EnhancedCode{5, 5, 1}},                    // after HELO, not EHLO
		{"MAIL FROM:bare@b.test SIZE=10", 250, EnhancedCode{2, 1, 0}}, // lenient: no brackets
		{"RSET", 250, EnhancedCode{2, 0, 0}},
		{"MAIL FROM:<a@b.test>SIZE=10", 501, EnhancedCode{5, 1, 7}},
		{"MAIL FROM:<a@b.test", 501, EnhancedCode{5, 1, 7}},
		{"mail from:<utf8@b.test> smtputf8", 250, EnhancedCode{2, 1, 0}},
		{"rcpt to:<ü@b.test>", 250, EnhancedCode{2, 1, 5}},
		{"rset", 250, EnhancedCode{2, 0, 0}},
		{"MAIL FROM:<a@b.test> BODY=BINARYMIME", 250, EnhancedCode{2, 1, 0}},
		{"RCPT TO:<ok@b.test>", 250, EnhancedCode{2, 1, 5}},
		{"DATA", 503, EnhancedCode{5, 5, 1}}, // BINARYMIME needs BDAT
		{"BDAT x", 501, EnhancedCode{5, 5, 4}},
	} {
		r := c.cmd(tc.line, tc.code)
		assert.Equal(t, tc.ec, r.EnhancedCode, tc.line)
	}
	assert.True(t, c.closed(), "a BDAT without a size desynchronises: the server closes")
	assert.Empty(t, rec.messages())
}

func TestServerPipelining(t *testing.T) {
	_, rec, addr := newTestServerWith(t, &recorder{refuse: map[string]error{"nobody": ErrNoSuchUser}}, nil)
	c := rawDial(t, addr)
	c.expect(220)
	// The whole session in one write (RFC 2920 §3.1 allows this after EHLO;
	// the server must cope with it anyway).
	c.send("EHLO c.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<nobody@b.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n" +
		"one\r\n.\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<c@b.test>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n")
	for _, code := range []int{250, 250, 550, 250, 354, 250, 250, 250, 354, 250, 221} {
		c.expect(code)
	}
	msgs := rec.messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, "one\r\n", msgs[0].Data)
	assert.Equal(t, []Mailbox{{"b", "b.test"}}, msgs[0].Rcpts)
	assert.Equal(t, "two\r\n", msgs[1].Data)
}

func TestServerBDAT(t *testing.T) {
	_, rec, addr := newTestServer(t, func(s *Server) { s.Limits.MaxMessageBytes = 100 })
	c := rawGreet(t, addr)
	c.cmd("MAIL FROM:<a@a.test> BODY=BINARYMIME", 250)
	c.cmd("RCPT TO:<b@b.test>", 250)
	c.send("BDAT 5\r\n\x00\r\n.\n")
	c.expect(250)
	c.send("BDAT 3 LAST\r\nabc")
	c.expect(250)
	// Pipelined, with a zero-length last chunk (RFC 3030 §4.3).
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 4\r\nxy\r\nBDAT 0 LAST\r\n")
	for _, code := range []int{250, 250, 250, 250} {
		c.expect(code)
	}
	// Too large: 552, the chunks are consumed, the session goes on.
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 60\r\n" + strings.Repeat("x", 60) + "BDAT 60\r\n" + strings.Repeat("y", 60) + "BDAT 10 LAST\r\n0123456789NOOP\r\n")
	c.expect(250)
	c.expect(250)
	c.expect(250)
	r := c.expect(552)
	assert.Equal(t, EnhancedCode{5, 3, 4}, r.EnhancedCode)
	c.expect(503) // the pipelined last chunk after the failure is discarded
	c.expect(250) // NOOP
	// A command where a chunk was due abandons the message.
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 2\r\nzzRSET\r\n")
	for _, code := range []int{250, 250, 250, 250} {
		c.expect(code)
	}
	// DATA after BDAT in the same transaction is refused.
	c.cmd("MAIL FROM:<a@a.test>", 250)
	c.cmd("RCPT TO:<b@b.test>", 250)
	c.send("BDAT 1\r\nq")
	c.expect(250)
	c.send("DATA\r\n")
	c.expect(503)
	c.cmd("QUIT", 221)

	msgs := rec.messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, "\x00\r\n.\nabc", msgs[0].Data)
	assert.Equal(t, BodyBinaryMIME, msgs[0].MailOpts.Body)
	assert.Equal(t, "xy\r\n", msgs[1].Data)
}

func TestServerSize(t *testing.T) {
	_, rec, addr := newTestServer(t, func(s *Server) { s.Limits.MaxMessageBytes = 1000 })
	c := rawGreet(t, addr)
	r := c.cmd("MAIL FROM:<a@a.test> SIZE=1001", 552)
	assert.Equal(t, EnhancedCode{5, 3, 4}, r.EnhancedCode)
	c.cmd("MAIL FROM:<a@a.test> SIZE=1000", 250)
	c.cmd("RCPT TO:<b@b.test>", 250)
	c.cmd("DATA", 354)
	c.send(strings.Repeat("0123456789\r\n", 100) + ".\r\n")
	r = c.expect(552)
	assert.Equal(t, EnhancedCode{5, 3, 4}, r.EnhancedCode)
	// The session is still in step.
	c.cmd("MAIL FROM:<a@a.test>", 250)
	c.cmd("RCPT TO:<b@b.test>", 250)
	c.cmd("DATA", 354)
	c.send(strings.Repeat("x", 998) + "\r\n.\r\n")
	c.expect(250)
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	assert.Len(t, msgs[0].Data, 1000)
}

func TestServerRecipientsLimit(t *testing.T) {
	_, rec, addr := newTestServer(t, func(s *Server) { s.Limits.MaxRecipients = 3 })
	c := rawGreet(t, addr)
	c.cmd("MAIL FROM:<a@a.test>", 250)
	for i := 0; i < 3; i++ {
		c.cmd(fmt.Sprintf("RCPT TO:<r%d@b.test>", i), 250)
	}
	for i := 0; i < 20; i++ {
		r := c.cmd("RCPT TO:<more@b.test>", 452)
		assert.Equal(t, EnhancedCode{4, 5, 3}, r.EnhancedCode)
	}
	c.cmd("DATA", 354)
	c.send("x\r\n.\r\n")
	c.expect(250)
	require.Len(t, rec.messages(), 1)
	assert.Len(t, rec.messages()[0].Rcpts, 3)
}

func TestServerTooManyErrors(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxErrors = 3 })
	c := rawGreet(t, addr)
	c.cmd("BOGUS", 500)
	c.cmd("BOGUS", 500)
	c.send("BOGUS\r\n")
	c.expect(500)
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)
	assert.True(t, c.closed())
}

// TestServerTooManyBadLines: lines refused before parsing (too long, bare
// CR) count as errors too.
func TestServerTooManyBadLines(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxErrors = 3; s.Limits.MaxLineLength = 10 })
	c := rawDial(t, addr)
	c.expect(220)
	c.send(strings.Repeat("x", 50) + "\r\nNOOP\rNOOP\r" + strings.Repeat("y", 50) + "\r\n")
	c.expect(500)
	c.expect(500)
	c.expect(500)
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)
	assert.True(t, c.closed())
}

func TestServerLineTooLong(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxLineLength = 100 })
	c := rawGreet(t, addr)
	r := c.cmd("NOOP "+strings.Repeat("x", 200), 500)
	assert.Equal(t, EnhancedCode{5, 5, 2}, r.EnhancedCode)
	c.cmd("NOOP", 250)
}

func TestServerDataErrors(t *testing.T) {
	_, rec, addr := newTestServerWith(t, &recorder{dataErr: &Error{Code: 554, EnhancedCode: EnhancedCode{5, 7, 1}, Message: "Spam"}}, nil)
	c := rawGreet(t, addr)
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
	c.expect(250)
	c.expect(250)
	c.expect(354)
	c.send("x\r\n.\r\n")
	r := c.expect(554)
	assert.Equal(t, "Spam", r.Message())
	rec.mu.Lock()
	rec.dataErr = errors.New("disk on fire")
	rec.mu.Unlock()
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nx\r\n.\r\n")
	c.expect(250)
	c.expect(250)
	c.expect(354)
	r = c.expect(451)
	assert.NotContains(t, r.Message(), "fire", "internal errors are not shown to clients")
}

// TestServerSmuggling: none of the bare-CR/LF end-of-data look-alikes ends a
// message; the message holding them is refused (default policy) or kept
// whole, and the command smuggled inside it never runs.
func TestServerSmuggling(t *testing.T) {
	variants := []string{
		"\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r", "\n.\r", "\r.\n",
		"\r\n\x00.\r\n", "\r\n.\x00\r\n", "\r\r\n.\r\r\n", "\n\n.\n\n",
	}
	for _, policy := range []BareNewlinePolicy{BareNewlineReject, BareNewlineNormalize, BareNewlineKeep} {
		for _, v := range variants {
			t.Run(fmt.Sprintf("%d/%q", policy, v), func(t *testing.T) {
				_, rec, addr := newTestServer(t, func(s *Server) { s.BareNewline = policy })
				c := rawGreet(t, addr)
				c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
				c.expect(250)
				c.expect(250)
				c.expect(354)
				c.send("Subject: x\r\n\r\nbody" + v + "MAIL FROM:<evil@evil.test>\r\nRCPT TO:<victim@b.test>\r\nDATA\r\nsmuggled\r\n.\r\n")
				bare := strings.ContainsAny(strings.ReplaceAll(v, "\r\n", ""), "\r\n")
				if strings.Contains(v, "\x00") {
					// Refused whatever the policy: see TestServerNUL.
					c.expect(554)
					c.cmd("NOOP", 250)
					assert.Empty(t, rec.messages())
					return
				}
				if bare && policy == BareNewlineReject {
					r := c.expect(554)
					assert.Equal(t, EnhancedCode{5, 6, 0}, r.EnhancedCode)
				} else {
					c.expect(250)
				}
				c.cmd("NOOP", 250) // in step: nothing smuggled left to answer
				msgs := rec.messages()
				for _, m := range msgs {
					assert.NotEqual(t, "evil", m.From.Local)
				}
				if bare && policy == BareNewlineReject {
					assert.Empty(t, msgs)
					return
				}
				require.Len(t, msgs, 1)
				assert.Contains(t, msgs[0].Data, "smuggled")
				if policy == BareNewlineNormalize {
					d := strings.ReplaceAll(msgs[0].Data, "\r\n", "")
					assert.NotContains(t, d, "\r")
					assert.NotContains(t, d, "\n")
				}
			})
		}
	}
}

func TestServerNULAndGarbage(t *testing.T) {
	_, rec, addr := newTestServer(t, func(s *Server) { s.Limits.MaxErrors = 100 })
	c := rawGreet(t, addr)
	c.cmd("NO\x00OP", 500)
	c.cmd("\xff\xfe\x01garbage", 500)
	c.send("NOOP\rNOOP\r\n")
	c.expect(500) // bare CR in a command
	c.expect(250)
	c.send("NOOP\n") // bare LF tolerated for commands
	c.expect(250)
	c.cmd("MAIL FROM:<a@a.test>", 250)
	c.cmd("RCPT TO:<b@b.test>", 250)
	c.cmd("DATA", 354)
	c.send("a\x01b\xff\r\n.\r\n")
	c.expect(250)
	require.Len(t, rec.messages(), 1)
	assert.Equal(t, "a\x01b\xff\r\n", rec.messages()[0].Data)
}

// TestServerNUL: a NUL octet in DATA, or in BDAT chunks of a message that is
// not BINARYMIME, gets the message refused with 554 5.6.0 once its data has
// ended; the transaction is reset and the connection goes on. AllowNUL lets
// it through, and BINARYMIME carries it either way.
func TestServerNUL(t *testing.T) {
	const next = "MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nnext\r\n.\r\n"
	for _, tc := range []struct {
		name     string
		allow    bool
		send     string
		codes    []int
		stored   []string
		lmtp     bool
		refusedE bool // the refusal's enhanced code is checked
	}{
		{name: "CRLF NUL dot CRLF", send: "DATA\r\nSubject: x\r\n\r\nbody\r\n\x00.\r\nMAIL FROM:<evil@evil.test>\r\n.\r\n" + next,
			codes: []int{354, 554, 250, 250, 354, 250}, stored: []string{"next\r\n"}, refusedE: true},
		{name: "NUL after the dot", send: "DATA\r\nbody\r\n.\x00\r\nRSET\r\n.\r\n" + next,
			codes: []int{354, 554, 250, 250, 354, 250}, stored: []string{"next\r\n"}, refusedE: true},
		{name: "NUL in a header", send: "DATA\r\nSubject: a\x00b\r\n\r\nbody\r\n.\r\n" + next,
			codes: []int{354, 554, 250, 250, 354, 250}, stored: []string{"next\r\n"}},
		{name: "allowed", allow: true, send: "DATA\r\nbody\r\n\x00.\r\n.\r\n",
			codes: []int{354, 250}, stored: []string{"body\r\n\x00.\r\n"}},
		{name: "LMTP: a refusal per recipient", lmtp: true, send: "DATA\r\n\x00\r\n.\r\n",
			codes: []int{354, 554}},
		{name: "BDAT 8BITMIME", send: "BDAT 4 LAST\r\na\x00b\n" + next,
			codes: []int{554, 250, 250, 354, 250}, stored: []string{"next\r\n"}},
		{name: "BDAT 8BITMIME, NUL in the first of two chunks", send: "BDAT 2\r\n\x00aBDAT 1 LAST\r\nbRSET\r\n" + next,
			codes: []int{554, 503, 250, 250, 250, 354, 250}, stored: []string{"next\r\n"}},
		{name: "BDAT 8BITMIME allowed", allow: true, send: "BDAT 4 LAST\r\na\x00b\n",
			codes: []int{250}, stored: []string{"a\x00b\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			if tc.lmtp {
				rec.lmtp = map[string]error{}
			}
			_, rec, addr := newTestServerWith(t, rec, func(s *Server) { s.AllowNUL = tc.allow; s.LMTP = tc.lmtp })
			c := rawDial(t, addr)
			c.expect(220)
			hello := "EHLO"
			if tc.lmtp {
				hello = "LHLO"
			}
			c.cmd(hello+" client.test", 250)
			c.cmd("MAIL FROM:<a@a.test>", 250)
			c.cmd("RCPT TO:<b@b.test>", 250)
			c.send(tc.send)
			for i, code := range tc.codes {
				r := c.expect(code)
				if i == 1 && tc.refusedE {
					assert.Equal(t, EnhancedCode{5, 6, 0}, r.EnhancedCode)
				}
			}
			c.cmd("NOOP", 250) // in step: nothing smuggled left to answer
			var got []string
			for _, m := range rec.messages() {
				got = append(got, m.Data)
			}
			assert.Equal(t, tc.stored, got)
		})
	}
	t.Run("BDAT BINARYMIME carries NUL", func(t *testing.T) {
		_, rec, addr := newTestServer(t, nil)
		c := rawGreet(t, addr)
		c.cmd("MAIL FROM:<a@a.test> BODY=BINARYMIME", 250)
		c.cmd("RCPT TO:<b@b.test>", 250)
		c.send("BDAT 5 LAST\r\n\r\n\x00.\r")
		c.expect(250)
		require.Len(t, rec.messages(), 1)
		assert.Equal(t, "\r\n\x00.\r", rec.messages()[0].Data)
	})
}

func testTLS(t testing.TB) (*tls.Config, *tls.Config) {
	t.Helper()
	p := mustPair(t)
	return p.Server, p.Client
}

func TestServerSTARTTLS(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	_, rec, addr := newTestServerWith(t, &recorder{users: auth.NewMemoryStore()}, func(s *Server) { s.TLSConfig = srvTLS })
	require.NoError(t, rec.users.SetPassword("u", "p"))
	c := rawGreet(t, addr)
	r := c.cmd("EHLO c.test", 250)
	assert.Contains(t, r.Lines, "STARTTLS")
	for _, l := range r.Lines {
		assert.NotContains(t, l, "AUTH", "no AUTH before TLS")
	}
	r = c.cmd("AUTH PLAIN AHUAcA==", 538)
	assert.Equal(t, EnhancedCode{5, 7, 11}, r.EnhancedCode)
	c.cmd("STARTTLS x", 501)
	// The command-injection attack: plaintext pipelined behind STARTTLS.
	c.send("STARTTLS\r\nMAIL FROM:<evil@evil.test>\r\nRCPT TO:<b@b.test>\r\n")
	c.expect(220)
	tc := tls.Client(c.nc, cliTLS)
	require.NoError(t, tc.Handshake())
	c = &rawConn{t: t, nc: tc, br: bufio.NewReader(tc)}
	// Had the injected MAIL survived, this MAIL would be "nested" (503) and a
	// 250 for the injected commands would arrive first.
	c.cmd("MAIL FROM:<a@a.test>", 503) // state was reset: EHLO needed again
	r = c.cmd("EHLO c.test", 250)
	assert.NotContains(t, r.Lines, "STARTTLS")
	assert.Contains(t, r.Lines, "AUTH PLAIN LOGIN")
	c.cmd("STARTTLS", 503)
	c.cmd("AUTH PLAIN AHUAcA==", 235)
	c.cmd("AUTH PLAIN AHUAcA==", 503)
	c.cmd("MAIL FROM:<a@a.test>", 250)
	c.cmd("RCPT TO:<b@b.test>", 250)
	c.cmd("DATA", 354)
	c.send("hi\r\n.\r\n")
	c.expect(250)
	c.cmd("QUIT", 221)
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, Mailbox{"a", "a.test"}, msgs[0].From)
	assert.True(t, msgs[0].TLS)
	assert.Equal(t, "u", msgs[0].Identity)
	assert.Equal(t, "ESMTPSA", msgs[0].Protocol, "RFC 3848")
}

func TestServerAuth(t *testing.T) {
	_, rec, addr := newTestServerWith(t, &recorder{users: auth.NewMemoryStore()}, func(s *Server) {
		s.AllowInsecureAuth = true
		s.Limits.MaxLineLength = 512 // the RFC 5321 §4.5.3.1.4 minimum
	})
	c := rawGreet(t, addr)
	r := c.cmd("EHLO c.test", 250)
	assert.Contains(t, r.Lines, "AUTH PLAIN LOGIN")
	// The session lists PLAIN, but the empty store cannot serve it.
	r = c.cmd("AUTH PLAIN", 504)
	assert.Equal(t, EnhancedCode{5, 5, 4}, r.EnhancedCode)
	require.NoError(t, rec.users.SetPassword("user", "secret"))
	c.cmd("AUTH CRAM-MD5", 504)
	c.cmd("AUTH", 504)
	c.cmd("AUTH PLAIN !!!", 501)
	r = c.cmd("AUTH PLAIN AHVzZXIAd3Jvbmc=", 535) // \0user\0wrong
	assert.Equal(t, EnhancedCode{5, 7, 8}, r.EnhancedCode)
	// Cancel with "*".
	c.cmd("AUTH LOGIN", 334)
	c.cmd("*", 501)
	// Over-long response line.
	c.cmd("AUTH LOGIN", 334)
	r = c.cmd(strings.Repeat("A", sasl.MaxLine+10), 500)
	assert.Equal(t, EnhancedCode{5, 5, 6}, r.EnhancedCode)
	// An initial response longer than MaxLineLength, up to 12288 octets
	// (RFC 4954 §4), is read whole: here a long, wrong password.
	long := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 150) + "\x00user\x00" + strings.Repeat("p", 250)))
	require.Greater(t, len(long), 512)
	c.cmd("AUTH PLAIN "+long, 535)
	r = c.cmd("AUTH PLAIN "+strings.Repeat("A", sasl.MaxLine), 500)
	assert.Equal(t, EnhancedCode{5, 5, 6}, r.EnhancedCode)
	// No AUTH inside a transaction.
	c.cmd("MAIL FROM:<a@a.test>", 250)
	c.cmd("AUTH PLAIN", 503)
	c.cmd("RSET", 250)
	// LOGIN with challenges.
	r = c.cmd("AUTH LOGIN", 334)
	assert.Equal(t, "VXNlcm5hbWU6", r.Lines[0])
	c.cmd("dXNlcg==", 334)
	c.cmd("c2VjcmV0", 235)
	c.cmd("AUTH PLAIN", 503)
	r = c.cmd("EHLO c.test", 250)
	for _, l := range r.Lines {
		assert.NotContains(t, l, "AUTH")
	}

	// PLAIN without initial response, empty challenge.
	c = rawGreet(t, addr)
	r = c.cmd("AUTH PLAIN", 334)
	assert.Equal(t, "", r.Lines[0])
	c.cmd("AHVzZXIAc2VjcmV0", 235)
}

func TestServerLMTP(t *testing.T) {
	_, rec, addr := newTestServerWith(t, &recorder{lmtp: map[string]error{"full": ErrMailboxFull}}, func(s *Server) { s.LMTP = true })
	c := rawDial(t, addr)
	r := c.expect(220)
	assert.Contains(t, r.Lines[0], "LMTP")
	c.cmd("EHLO x", 500)
	c.cmd("HELO x", 500)
	c.cmd("LHLO x", 250)
	c.cmd("MAIL FROM:<a@a.test>", 250)
	c.cmd("RCPT TO:<b@b.test>", 250)
	c.cmd("RCPT TO:<full@b.test>", 250)
	c.cmd("RCPT TO:<c@b.test>", 250)
	c.cmd("DATA", 354)
	c.send("hi\r\n.\r\n")
	r = c.expect(250)
	assert.Equal(t, "<b@b.test> Ok", r.Message())
	r = c.expect(452)
	assert.Equal(t, EnhancedCode{4, 2, 2}, r.EnhancedCode)
	c.expect(250)
	// BDAT too.
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nRCPT TO:<c@b.test>\r\nBDAT 3 LAST\r\nabc")
	for _, code := range []int{250, 250, 250, 250, 250} {
		c.expect(code)
	}
	msgs := rec.messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, "LMTP", msgs[0].Protocol)
}

// TestServerProtocol: the Received "with" keyword follows the greeting and
// the transaction's SMTPUTF8 (RFC 3848, RFC 6531 §4.3).
func TestServerProtocol(t *testing.T) {
	_, rec, addr := newTestServer(t, nil)
	c := rawDial(t, addr)
	c.expect(220)
	c.send("HELO old.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 250, 354} {
		c.expect(code)
	}
	c.send("x\r\n.\r\n")
	c.expect(250)
	c.send("EHLO new.test\r\nMAIL FROM:<a@a.test> SMTPUTF8\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 250, 354} {
		c.expect(code)
	}
	c.send("x\r\n.\r\n")
	c.expect(250)
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 354} {
		c.expect(code)
	}
	c.send("x\r\n.\r\n")
	c.expect(250)
	var got []string
	for _, m := range rec.messages() {
		got = append(got, m.Protocol)
	}
	assert.Equal(t, []string{"SMTP", "UTF8SMTP", "ESMTP"}, got)
}

// TestServerLMTPPlainSession: without LMTPSession, every recipient gets the
// outcome of Data.
func TestServerLMTPPlainSession(t *testing.T) {
	_, _, addr := newTestServerWith(t, &recorder{dataErr: ErrTryLater}, func(s *Server) { s.LMTP = true })
	c := rawDial(t, addr)
	c.expect(220)
	c.send("LHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nRCPT TO:<c@b.test>\r\nDATA\r\nx\r\n.\r\n")
	for _, code := range []int{250, 250, 250, 250, 354, 451, 451} {
		c.expect(code)
	}
}

// TestServerCloseBusySession: Close cuts off, within abortGrace, a
// connection whose Session does not read again.
func TestServerCloseBusySession(t *testing.T) {
	srv, rec, addr := newTestServerWith(t, &recorder{started: make(chan struct{}, 1), release: make(chan struct{})}, nil)
	defer close(rec.release)
	busy := rawGreet(t, addr)
	busy.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 354} {
		busy.expect(code)
	}
	busy.send("in flight\r\n")
	<-rec.started // Data holds the connection and reads nothing
	require.NoError(t, srv.Close())
	assert.True(t, busy.closed(), "closed while the Session still holds it")
	assert.Empty(t, rec.messages())
}

func TestServerShutdown(t *testing.T) {
	srv, rec, addr := newTestServerWith(t, &recorder{started: make(chan struct{}, 1), release: make(chan struct{})}, nil)
	idle := rawGreet(t, addr)
	busy := rawGreet(t, addr)
	busy.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
	busy.expect(250)
	busy.expect(250)
	busy.expect(354)
	busy.send("in flight\r\n.\r\n")
	<-rec.started

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	r := idle.expect(421)
	assert.Equal(t, EnhancedCode{4, 3, 2}, r.EnhancedCode)
	assert.True(t, idle.closed())
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a transaction in flight", err)
	default:
	}
	close(rec.release)
	busy.expect(250) // the in-flight message is stored and acknowledged
	busy.expect(421) // then the session ends
	require.NoError(t, <-done)
	require.Len(t, rec.messages(), 1)
	_, err := net.Dial("tcp", addr)
	assert.Error(t, err, "listener closed")
}

func TestServerShutdownContext(t *testing.T) {
	conns := make(chan *Conn, 1)
	srv := &Server{Backend: BackendFunc(func(c *Conn) (Session, error) {
		conns <- c
		return (&recorder{}).NewSession(c)
	})}
	addr := startServer(t, srv)
	c := rawGreet(t, addr)
	conn := <-conns
	require.NoError(t, conn.Context().Err())
	c.cmd("MAIL FROM:<a@a.test>", 250) // a transaction that never ends
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, srv.Shutdown(ctx), context.Canceled)
	require.NoError(t, srv.Close())
	// RFC 5321 §3.8: even the transaction is told before the close.
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 3, 2}, r.EnhancedCode)
	assert.True(t, c.closed())
	<-conn.Context().Done() // Close cancels the connection's context
}

func TestServerReadTimeout(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.ReadTimeout = 200 * time.Millisecond })
	c := rawDial(t, addr)
	c.expect(220)
	// One byte at a time: the whole command must arrive within ReadTimeout.
	stop := make(chan struct{})
	go func() {
		for _, b := range []byte("EHLO slow.client.test.example\r\n") {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := c.nc.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	defer close(stop)
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 4, 2}, r.EnhancedCode)
	assert.True(t, c.closed())
}

func TestServerMaxConnections(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxConnections = 2 })
	a := rawDial(t, addr)
	a.expect(220)
	b := rawDial(t, addr)
	b.expect(220)
	c := rawDial(t, addr)
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)
	a.cmd("QUIT", 221)
	require.True(t, a.closed())
	require.Eventually(t, func() bool {
		d := rawDial(t, addr)
		ok := d.read().Code == 220
		d.nc.Close()
		return ok
	}, 10*time.Second, 10*time.Millisecond)
}

func TestServerNewSessionRefused(t *testing.T) {
	srv := &Server{Backend: BackendFunc(func(c *Conn) (Session, error) {
		return nil, &Error{Code: 554, EnhancedCode: EnhancedCode{5, 7, 1}, Message: "No service for you"}
	})}
	addr := startServer(t, srv)
	c := rawDial(t, addr)
	r := c.expect(554)
	assert.Equal(t, "No service for you", r.Message())
	assert.True(t, c.closed())
}

type panicBackend struct{ recorder }

func (p *panicBackend) NewSession(c *Conn) (Session, error) {
	return &panicSession{recSession{r: &p.recorder, c: c}}, nil
}

type panicSession struct{ recSession }

func (p *panicSession) Mail(context.Context, Mailbox, *MailOptions) error { panic("boom") }

func (p *panicSession) Close() error {
	p.recSession.Close()
	panic("boom again")
}

func TestServerSessionPanic(t *testing.T) {
	srv := &Server{Backend: &panicBackend{}}
	addr := startServer(t, srv)
	c := rawGreet(t, addr)
	c.send("MAIL FROM:<a@b.test>\r\n")
	assert.True(t, c.closed())
	c = rawGreet(t, addr) // the server lives on
	c.cmd("QUIT", 221)
	c.closed()
	// Both connections were untracked despite the panics in Logout.
	require.Eventually(t, func() bool { return srv.conns.Len() == 0 }, 10*time.Second, time.Millisecond)
}

func TestServerImplicitTLS(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	rec := &recorder{}
	srv := &Server{Backend: rec, TLSConfig: srvTLS}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(tls.NewListener(l, srv.tlsConfig()))
	t.Cleanup(func() { srv.Close() })
	tc, err := tls.Dial("tcp", l.Addr().String(), cliTLS)
	require.NoError(t, err)
	defer tc.Close()
	c := &rawConn{t: t, nc: tc, br: bufio.NewReader(tc)}
	c.expect(220)
	r := c.cmd("EHLO c", 250)
	assert.NotContains(t, r.Lines, "STARTTLS")
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nx\r\n.\r\n")
	for _, code := range []int{250, 250, 354, 250} {
		c.expect(code)
	}
	require.Len(t, rec.messages(), 1)
	assert.True(t, rec.messages()[0].TLS)
}

func TestServerHugeLineMemory(t *testing.T) {
	_, _, addr := newTestServer(t, nil)
	c := rawGreet(t, addr)
	line := bytes.Repeat([]byte("A"), 1<<20)
	heap := heapGrowth(t, func() {
		c.send("NOOP " + string(line) + "\r\n")
		r := c.expect(500)
		assert.Equal(t, EnhancedCode{5, 5, 2}, r.EnhancedCode)
		c.cmd("NOOP", 250)
	})
	assert.Less(t, heap, int64(512<<10), "a 1 MB line must not be buffered")
}

// TestServerDataTimeoutTotal trickles a message, each line well within
// ReadTimeout: DataTimeout still ends the transfer, for DATA and for BDAT.
func TestServerDataTimeoutTotal(t *testing.T) {
	for _, bdat := range []bool{false, true} {
		t.Run(fmt.Sprint("bdat=", bdat), func(t *testing.T) {
			_, rec, addr := newTestServer(t, func(s *Server) {
				s.Limits.ReadTimeout = time.Minute
				s.Limits.DataTimeout = 100 * time.Millisecond
			})
			c := rawGreet(t, addr)
			c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\n")
			c.expect(250)
			c.expect(250)
			if !bdat {
				c.cmd("DATA", 354)
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for i := 0; i < 4000; i++ { // bounded: 20 s
					line := "trickle\r\n"
					if bdat {
						line = "BDAT 9\r\n" + line
					}
					if _, err := c.nc.Write([]byte(line)); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			defer func() { close(stop); <-done }()
			// Each chunk is acknowledged until the transfer times out. The
			// server closes with the trickle still coming, so the kernel
			// may reset the connection before the 421 is read: the proof
			// is that the connection ends at all, long before the trickle.
			for {
				r, err := ReadReply(c.br)
				if err != nil {
					break
				}
				if r.Code != 250 || !bdat {
					require.Equal(t, 421, r.Code)
					assert.Equal(t, EnhancedCode{4, 4, 2}, r.EnhancedCode)
				}
			}
			require.Eventually(t, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.logouts == 1 }, 10*time.Second, time.Millisecond)
			assert.Empty(t, rec.messages())
		})
	}
}

func TestServerDataTimeout(t *testing.T) {
	_, rec, addr := newTestServer(t, func(s *Server) { s.Limits.ReadTimeout = 200 * time.Millisecond })
	c := rawGreet(t, addr)
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n")
	c.expect(250)
	c.expect(250)
	c.expect(354)
	c.send("half a message\r\n") // and then nothing
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 4, 2}, r.EnhancedCode)
	assert.True(t, c.closed())
	require.Eventually(t, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.logouts == 1 }, 10*time.Second, time.Millisecond)
	assert.Empty(t, rec.messages(), "a message cut by a timeout is not stored")
}

// TestServerWriteTimeout: a client that sends commands and never reads its
// replies is disconnected once a write blocks for WriteTimeout.
func TestServerWriteTimeout(t *testing.T) {
	srv, _, addr := newTestServer(t, func(s *Server) { s.Limits.WriteTimeout = 100 * time.Millisecond; s.Limits.MaxErrors = -1 })
	c := rawDial(t, addr)
	c.expect(220)
	cmd := []byte(strings.Repeat("HELP\r\n", 1000))
	// Write until the server stops reading (its replies fill the socket
	// buffers, its write times out, it closes); bounded at 64 MB of replies.
	for i := 0; i < 2000; i++ {
		c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.nc.Write(cmd); err != nil {
			break
		}
	}
	require.Eventually(t, func() bool { return srv.conns.Len() == 0 }, 20*time.Second, time.Millisecond)
}

func TestServerListenAndServe(t *testing.T) {
	assert.Error(t, (&Server{}).Serve(nil), "no Backend")
	addr := peer.Addr(peer.FreePort(t))
	srv := &Server{Addr: addr, Backend: &recorder{}}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	peer.WaitListening(t, addr, 10*time.Second)
	c := rawDial(t, addr)
	r := c.expect(220)
	assert.Contains(t, r.Lines[0], netutil.Hostname()+" ESMTP") // the default Hostname
	c.cmd("QUIT", 221)
	require.NoError(t, srv.Shutdown(context.Background()))
	assert.ErrorIs(t, <-done, ErrServerClosed)
	assert.ErrorIs(t, srv.ListenAndServe(), ErrServerClosed)
	assert.ErrorIs(t, srv.ListenAndServeTLS("", ""), ErrServerClosed)
}

func TestServerJunkCommands(t *testing.T) {
	_, _, addr := newTestServer(t, func(s *Server) { s.Limits.MaxJunkCommands = 5; s.Limits.MaxErrors = 3 })
	c := rawGreet(t, addr) // EHLO is the first of the five
	for i := 0; i < 4; i++ {
		c.cmd("NOOP", 250)
	}
	// Delivering a message resets the count.
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nx\r\n.\r\n")
	for _, code := range []int{250, 250, 354, 250} {
		c.expect(code)
	}
	for i := 0; i < 5; i++ {
		c.cmd("NOOP", 250)
	}
	c.cmd("RSET", 250) // answered, but counted as errors from now on
	c.cmd("HELP", 214)
	c.send("VRFY x\r\n")
	c.expect(252)
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)
	assert.True(t, c.closed())
}

// TestServerCloseLeaksNoGoroutines closes a server with connections in every
// state (idle, mid-command, in DATA, in a BDAT chunk, in AUTH): all their
// goroutines must end.
func TestServerCloseLeaksNoGoroutines(t *testing.T) {
	// User goroutines only: runtime.NumGoroutine also counts system ones the
	// runtime may start meanwhile.
	stacks := func() string {
		buf := make([]byte, 1<<20)
		return string(buf[:runtime.Stack(buf, true)])
	}
	count := func() int { return len(regexp.MustCompile(`(?m)^goroutine \d+ \[`).FindAllString(stacks(), -1)) }
	before := count()
	users := auth.NewMemoryStore()
	require.NoError(t, users.SetPassword("u", "p"))
	srv := &Server{Backend: &recorder{users: users}, AllowInsecureAuth: true}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	addr := l.Addr().String()
	var conns []*rawConn
	for _, s := range []struct {
		send string
		want []int
	}{
		{"", nil},
		{"MAIL FROM:<a@a.t", nil},
		{"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nhalf\r\n", []int{250, 250, 354}},
		{"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 100\r\nhalf", []int{250, 250}},
		{"AUTH PLAIN\r\n", []int{334}},
	} {
		c := rawGreet(t, addr)
		c.send(s.send)
		for _, code := range s.want {
			c.expect(code)
		}
		conns = append(conns, c)
	}
	require.NoError(t, srv.Close())
	require.ErrorIs(t, <-served, ErrServerClosed)
	for _, c := range conns {
		// Whatever its state, each connection is told 421 and closed.
		r := c.expect(421)
		assert.Equal(t, EnhancedCode{4, 3, 2}, r.EnhancedCode)
		assert.True(t, c.closed())
	}
	// Polled here, not with Eventually, which runs the condition in a
	// goroutine of its own. The count is of the whole binary, where other
	// tests' goroutines may end meanwhile: the server's own connection
	// count must reach zero too.
	for deadline := time.Now().Add(10 * time.Second); count() > before || srv.conns.Len() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before\n%s", before, stacks())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
