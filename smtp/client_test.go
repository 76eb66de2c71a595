package smtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/selfsigned"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientScriptServer plays a transcript on one loopback connection. Lines starting
// "S: " are sent; "C: " lines are read and compared exactly; "TLS" runs a
// server TLS handshake; "R: " reads the bytes of a Go-quoted string; "CLOSE" closes the connection. The server never
// replies before it has read every "C: " line above the reply, so a client
// that waited for a reply there would stall (and fail on the deadline).
type clientScriptServer struct {
	Addr string
	TLS  *selfsigned.Pair
	done chan struct{}
}

func newClientScriptServer(t *testing.T, script string) *clientScriptServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pair, err := selfsigned.NewPair()
	require.NoError(t, err)
	s := &clientScriptServer{Addr: ln.Addr().String(), TLS: pair, done: make(chan struct{})}
	steps := strings.Split(strings.TrimSpace(script), "\n")
	go func() {
		defer close(s.done)
		conn, err := ln.Accept()
		ln.Close()
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		for i, step := range steps {
			step = strings.TrimLeft(step, "\t ")
			switch {
			case step == "":
			case strings.HasPrefix(step, "S: "):
				if _, err := io.WriteString(conn, step[3:]+"\r\n"); err != nil {
					t.Errorf("step %d %q: %v", i+1, step, err)
					return
				}
			case strings.HasPrefix(step, "C: "):
				line, err := br.ReadString('\n')
				if err != nil {
					t.Errorf("step %d: want %q, read error %v", i+1, step[3:], err)
					return
				}
				if got := strings.TrimSuffix(line, "\r\n"); got != step[3:] {
					t.Errorf("step %d: client sent %q, want %q", i+1, got, step[3:])
					return
				}
			case strings.HasPrefix(step, "R: "):
				want, err := strconv.Unquote(step[3:])
				if err != nil {
					t.Errorf("step %d: %v", i+1, err)
					return
				}
				got := make([]byte, len(want))
				if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
					t.Errorf("step %d: client sent %q (%v), want %q", i+1, got, err, want)
					return
				}
			case step == "TLS":
				if br.Buffered() > 0 {
					t.Errorf("step %d: data before TLS handshake", i+1)
					return
				}
				tc := tls.Server(conn, pair.Server)
				if err := tc.Handshake(); err != nil {
					t.Errorf("step %d: handshake: %v", i+1, err)
					return
				}
				conn, br = tc, bufio.NewReader(tc)
			case step == "CLOSE":
				return
			default:
				t.Errorf("bad script step %q", step)
				return
			}
		}
		// The script is over: the client must not send anything more.
		if line, err := br.ReadString('\n'); err == nil {
			t.Errorf("client sent %q after the end of the script", line)
		}
	}()
	t.Cleanup(func() { <-s.done })
	return s
}

func (s *clientScriptServer) wait() { <-s.done }

func clientTestCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func clientDialScript(t *testing.T, script string, o *ClientOptions) (*Client, *clientScriptServer) {
	t.Helper()
	s := newClientScriptServer(t, script)
	c, err := Dial(clientTestCtx(t), s.Addr, o)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, s
}

// clientEhloPipeSize also offers SIZE, which Send then declares.
const clientEhloPipeSize = `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test Hello
S: 250-SIZE 1000000
S: 250-PIPELINING
S: 250-8BITMIME
S: 250-DSN
S: 250-AUTH PLAIN
S: 250-SMTPUTF8
S: 250 ENHANCEDSTATUSCODES
`

const clientEhloPipe = `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test Hello
S: 250-PIPELINING
S: 250-8BITMIME
S: 250-DSN
S: 250-AUTH PLAIN
S: 250-SMTPUTF8
S: 250 ENHANCEDSTATUSCODES
`

const clientEhloPlain = `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test Hello
S: 250 8BITMIME
`

func TestClientExtensions(t *testing.T) {
	c, s := clientDialScript(t, `
S: 220-mx.example.test ESMTP
S: 220 second line
C: EHLO client.example.test
S: 250-mx.example.test greets client.example.test
S: 250-pipelining
S: 250-SIZE 35882577
S: 250-AUTH=LOGIN
S: 250-AUTH plain Login CRAM-MD5
S: 250-STARTTLS
S: 250 CHUNKING
C: QUIT
S: 221 2.0.0 Bye
`, &ClientOptions{LocalName: "client.example.test"})
	assert.Equal(t, []string{"mx.example.test ESMTP", "second line"}, c.Greeting().Lines)
	_, ok := c.Extension("PIPELINING")
	assert.True(t, ok)
	p, ok := c.Extension("size")
	assert.True(t, ok)
	assert.Equal(t, "35882577", p)
	n, ok := c.MaxMessageSize()
	assert.True(t, ok)
	assert.Equal(t, int64(35882577), n)
	assert.Equal(t, []string{"PLAIN", "LOGIN", "CRAM-MD5"}, c.AuthMechanisms())
	_, ok = c.Extension("DSN")
	assert.False(t, ok)
	assert.Len(t, c.Extensions(), 5)
	require.NoError(t, c.Quit(clientTestCtx(t)))
	s.wait()
	assert.Error(t, c.Noop(clientTestCtx(t)), "the client is closed after Quit")
}

func TestClientHeloFallback(t *testing.T) {
	for _, code := range []string{"500", "502"} {
		t.Run(code, func(t *testing.T) {
			c, s := clientDialScript(t, `
S: 220 old.example.test SMTP
C: EHLO localhost
S: `+code+` command not recognized
C: HELO localhost
S: 250 old.example.test
C: QUIT
S: 221 bye
`, nil)
			assert.Empty(t, c.Extensions())
			assert.Equal(t, 250, c.HelloReply().Code)
			require.NoError(t, c.Quit(clientTestCtx(t)))
			s.wait()
		})
	}
	// Any other refusal of EHLO is final.
	s := newClientScriptServer(t, `
S: 220 mx.example.test
C: EHLO localhost
S: 550 5.7.1 go away
`)
	_, err := Dial(clientTestCtx(t), s.Addr, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 550, e.Code)
	assert.Equal(t, EnhancedCode{5, 7, 1}, e.EnhancedCode)
}

func TestClientGreetingRefused(t *testing.T) {
	s := newClientScriptServer(t, `
S: 554 5.7.1 no service for you
C: QUIT
`)
	_, err := Dial(clientTestCtx(t), s.Addr, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 554, e.Code)
	assert.True(t, e.Permanent())
	assert.Equal(t, "no service for you", e.Message)
	s.wait()
}

func TestClientBadLocalName(t *testing.T) {
	s := newClientScriptServer(t, "S: 220 hi\nCLOSE")
	_, err := Dial(clientTestCtx(t), s.Addr, &ClientOptions{LocalName: "bad name\r\nRSET"})
	require.Error(t, err)
}

func TestClientSendPipelined(t *testing.T) {
	c, _ := clientDialScript(t, clientEhloPipeSize+`
C: MAIL FROM:<alice@a.example.test> SIZE=63
C: RCPT TO:<bob@b.example.test>
C: RCPT TO:<nobody@b.example.test>
C: RCPT TO:<carol@b.example.test>
C: DATA
S: 250 2.1.0 Ok
S: 250 2.1.5 Ok
S: 550 5.1.1 <nobody@b.example.test>: Recipient address rejected
S: 250 2.1.5 Ok
S: 354 End data with <CR><LF>.<CR><LF>
C: Subject: hi
C: 
C: ..leading dot
C: bare lf
C: .. 
C: ..
C: no final newline
C: .
S: 250 2.0.0 Ok: queued as 4C2B
C: QUIT
S: 221 2.0.0 Bye
`, nil)
	msg := "Subject: hi\r\n\r\n.leading dot\nbare lf\r\n. \r\n.\r\nno final newline"
	res, err := c.Send(clientTestCtx(t), &Envelope{
		From:        MustParseMailbox("alice@a.example.test"),
		MailOptions: &MailOptions{Size: 63},
		To:          []Mailbox{MustParseMailbox("bob@b.example.test"), MustParseMailbox("nobody@b.example.test"), MustParseMailbox("carol@b.example.test")},
	}, strings.NewReader(msg))
	var de *DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 2, de.Delivered)
	require.Len(t, de.Failed, 1)
	assert.Equal(t, "nobody@b.example.test", de.Failed[0].Addr.String())
	var e *Error
	require.ErrorAs(t, err, &e, "errors.As finds the recipient's *Error")
	assert.Equal(t, 550, e.Code)
	assert.Equal(t, EnhancedCode{5, 1, 1}, e.EnhancedCode)
	assert.Contains(t, err.Error(), "nobody@b.example.test")

	require.Len(t, res.Rcpts, 3)
	assert.NoError(t, res.Rcpts[0].Err)
	assert.Error(t, res.Rcpts[1].Err)
	assert.NoError(t, res.Rcpts[2].Err)
	assert.Equal(t, 2, res.Delivered())
	assert.Equal(t, "Ok: queued as 4C2B", res.Reply.Message())
	require.NoError(t, c.Quit(clientTestCtx(t)))
}

func TestClientSendLockstep(t *testing.T) {
	// Without PIPELINING every command waits for its reply; after a refused
	// MAIL nothing else is sent.
	c, _ := clientDialScript(t, clientEhloPlain+`
C: MAIL FROM:<>
S: 250 ok
C: RCPT TO:<bob@b.example.test>
S: 250 ok
C: RCPT TO:<carol@b.example.test>
S: 250 ok
C: DATA
S: 354 go ahead
C: hello
C: .
S: 250 queued
C: MAIL FROM:<alice@a.example.test>
S: 451 4.3.0 try again later
C: QUIT
S: 221 bye
`, nil)
	ctx := clientTestCtx(t)
	res, err := c.Send(ctx, &Envelope{From: Mailbox{}, To: []Mailbox{MustParseMailbox("bob@b.example.test"), MustParseMailbox("carol@b.example.test")}}, strings.NewReader("hello\r\n"))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Delivered())

	res, err = c.Send(ctx, &Envelope{From: MustParseMailbox("<alice@a.example.test>"), To: []Mailbox{MustParseMailbox("bob@b.example.test")}}, strings.NewReader("x"))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 451, e.Code)
	assert.True(t, IsTemporary(err))
	assert.False(t, IsPermanent(err))
	assert.ErrorIs(t, res.Rcpts[0].Err, err)
	require.NoError(t, c.Quit(ctx))
}

func TestClientSendFailures(t *testing.T) {
	env := &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test"), MustParseMailbox("c@b.example.test")}}
	head := clientEhloPipe + `
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
C: RCPT TO:<c@b.example.test>
C: DATA
`
	for _, tc := range []struct {
		name   string
		script string
		code   int  // the code of the *Error found with errors.As
		de     bool // a *DeliveryError
	}{
		{"mail refused", `
S: 553 5.7.1 sender rejected
S: 503 5.5.1 need MAIL
S: 503 5.5.1 need MAIL
S: 503 5.5.1 need MAIL
`, 553, false},
		{"all rcpts refused, DATA refused", `
S: 250 ok
S: 550 5.1.1 no
S: 450 4.2.0 later
S: 554 5.5.1 no valid recipients
C: RSET
S: 250 ok
`, 550, true},
		// RFC 2920 §3.1: DATA accepted with no recipient: send a lone dot.
		{"all rcpts refused, DATA accepted", `
S: 250 ok
S: 550 5.1.1 no
S: 550 5.1.1 no
S: 354 go
C: .
S: 554 5.5.1 no valid recipients
`, 550, true},
		{"DATA refused", `
S: 250 ok
S: 250 ok
S: 250 ok
S: 452 4.3.1 insufficient storage
C: RSET
S: 250 ok
`, 452, false},
		{"message refused", `
S: 250 ok
S: 250 ok
S: 250 ok
S: 354 go
C: body
C: .
S: 552 5.3.4 message too big
`, 552, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := clientDialScript(t, head+strings.TrimSpace(tc.script)+"\nC: NOOP\nS: 250 ok", nil)
			res, err := c.Send(clientTestCtx(t), env, strings.NewReader("body\r\n"))
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.code, e.Code)
			var de *DeliveryError
			assert.Equal(t, tc.de, errors.As(err, &de))
			assert.Equal(t, 0, res.Delivered())
			for _, r := range res.Rcpts {
				assert.Error(t, r.Err)
			}
			// The session is still usable.
			require.NoError(t, c.Noop(clientTestCtx(t)))
		})
	}
}

func TestClientMailParams(t *testing.T) {
	c, _ := clientDialScript(t, clientEhloPipeSize+`
C: MAIL FROM:<a@a.example.test> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=QQ+2Bx+3Dy AUTH=<>
C: RCPT TO:<b@b.example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@b.example.test
C: RCPT TO:<c@b.example.test> NOTIFY=NEVER
C: DATA
S: 250 ok
S: 250 ok
S: 250 ok
S: 354 go
C: x
C: .
S: 250 ok
C: MAIL FROM:<jöran@a.example.test> SIZE=1 SMTPUTF8
C: RCPT TO:<bob@b.example.test>
C: DATA
S: 250 ok
S: 250 ok
S: 354 go
C: x
C: .
S: 250 ok
`, nil)
	empty := ""
	_, err := c.Send(clientTestCtx(t), &Envelope{
		From:        MustParseMailbox("a@a.example.test"),
		MailOptions: &MailOptions{Size: 100, Body: Body8BitMIME, Return: ReturnHeaders, EnvelopeID: "QQ+x=y", Auth: &empty},
		To:          []Mailbox{MustParseMailbox("b@b.example.test"), MustParseMailbox("c@b.example.test")},
		RcptOptions: []*RcptOptions{
			{Notify: []DSNNotify{NotifySuccess, NotifyFailure}, OriginalRecipient: "b+x@b.example.test"},
			{Notify: []DSNNotify{NotifyNever}},
		},
	}, strings.NewReader("x"))
	require.NoError(t, err)
	// An address outside ASCII turns SMTPUTF8 on by itself, and the size of
	// a strings.Reader is declared.
	_, err = c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("jöran@a.example.test"), To: []Mailbox{MustParseMailbox("bob@b.example.test")}}, strings.NewReader("x"))
	require.NoError(t, err)
}

func TestClientUnsupportedOptions(t *testing.T) {
	c, _ := clientDialScript(t, clientEhloPlain+`
C: MAIL FROM:<a@a.example.test>
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: DATA
S: 354 go
C: x
C: .
S: 250 ok
`, nil)
	ctx := clientTestCtx(t)
	for _, env := range []*Envelope{
		{From: MustParseMailbox("a@a.example.test"), MailOptions: &MailOptions{UTF8: true}, To: []Mailbox{MustParseMailbox("b@b.example.test")}},
		{From: MustParseMailbox("jöran@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}},
		{From: MustParseMailbox("a@a.example.test"), MailOptions: &MailOptions{Return: ReturnFull}, To: []Mailbox{MustParseMailbox("b@b.example.test")}},
		{From: MustParseMailbox("a@a.example.test"), MailOptions: &MailOptions{Body: BodyBinaryMIME}, To: []Mailbox{MustParseMailbox("b@b.example.test")}},
		{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}, RcptOptions: []*RcptOptions{{Notify: []DSNNotify{NotifyDelay}}}},
	} {
		_, err := c.Send(ctx, env, strings.NewReader("x"))
		assert.ErrorIs(t, err, ErrUnsupported)
	}
	for _, env := range []*Envelope{
		{From: Mailbox{Local: "a", Domain: "a.example.test\r\nRSET"}, To: []Mailbox{MustParseMailbox("b@b.example.test")}},
		{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{{Local: "b", Domain: "b.example.test>\r\nDATA"}}},
		{From: MustParseMailbox("a@a.example.test"), To: nil},
		{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}, RcptOptions: []*RcptOptions{nil, nil}},
	} {
		_, err := c.Send(ctx, env, strings.NewReader("x"))
		assert.Error(t, err)
	}
	// SIZE and AUTH= are left out for a server that does not know them.
	who := "a@a.example.test"
	_, err := c.Send(ctx, &Envelope{From: MustParseMailbox("a@a.example.test"), MailOptions: &MailOptions{Size: 10, Auth: &who}, To: []Mailbox{MustParseMailbox("b@b.example.test")}}, strings.NewReader("x"))
	require.NoError(t, err)
}

func TestClientLockstepAPI(t *testing.T) {
	c, _ := clientDialScript(t, clientEhloPipe+`
C: MAIL FROM:<a@a.example.test> BODY=8BITMIME
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: RCPT TO:<x@b.example.test>
S: 550 5.1.1 unknown
C: DATA
S: 354 go
C: ..dot
C: line
C: .
S: 250 2.0.0 queued
C: RSET
S: 250 ok
C: NOOP
S: 250 ok
C: VRFY bob
S: 252 2.1.5 cannot verify
C: MAIL FROM:<a@a.example.test>
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: DATA
S: 354 go
C: x
C: .
S: 554 5.6.0 rejected by content filter
C: QUIT
S: 221 bye
`, nil)
	ctx := clientTestCtx(t)
	require.NoError(t, c.Mail(ctx, "a@a.example.test", &MailOptions{Body: Body8BitMIME}))
	assert.Error(t, c.Mail(ctx, "a@a.example.test", nil), "a transaction is open")
	require.NoError(t, c.Rcpt(ctx, "b@b.example.test", nil))
	err := c.Rcpt(ctx, "x@b.example.test", nil)
	assert.True(t, IsPermanent(err))
	w, err := c.Data(ctx)
	require.NoError(t, err)
	_, err = io.WriteString(w, ".dot\n")
	require.NoError(t, err)
	_, err = io.WriteString(w, "line")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "a second Close does nothing")
	require.NoError(t, c.Reset(ctx))
	require.NoError(t, c.Noop(ctx))
	rep, err := c.Verify(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, 252, rep.Code)

	require.NoError(t, c.Mail(ctx, "a@a.example.test", nil))
	require.NoError(t, c.Rcpt(ctx, "b@b.example.test", nil))
	w, err = c.Data(ctx)
	require.NoError(t, err)
	io.WriteString(w, "x")
	err = w.Close()
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 554, e.Code)
	assert.Equal(t, EnhancedCode{5, 6, 0}, e.EnhancedCode)
	assert.Equal(t, "rejected by content filter", e.Message)
	require.NoError(t, c.Quit(ctx))
}

func TestClientBDAT(t *testing.T) {
	ehlo := `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test
S: 250-PIPELINING
S: 250-BINARYMIME
S: 250 CHUNKING
`
	t.Run("one chunk", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
S: 250 ok
S: 250 ok
C: BDAT 18 LAST
C: Subject: x
C: 
C: hi
S: 250 2.0.0 queued as X
`, nil)
		res, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, strings.NewReader("Subject: x\n\nhi"))
		require.NoError(t, err)
		assert.Equal(t, "queued as X", res.Reply.Message())
	})
	t.Run("pipelined chunks", func(t *testing.T) {
		// Chunks of 8 bytes: the replies are read only at the end, in order.
		c, _ := clientDialScript(t, ehlo+`
C: MAIL FROM:<a@a.example.test> BODY=BINARYMIME
C: RCPT TO:<b@b.example.test>
S: 250 ok
S: 250 ok
C: BDAT 8
C: 123456
C: BDAT 8
C: abcdef
C: BDAT 4 LAST
C: xy
S: 250 8 octets
S: 250 8 octets
S: 250 2.0.0 message ok
`, &ClientOptions{ChunkSize: 8})
		_, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), MailOptions: &MailOptions{Body: BodyBinaryMIME}, To: []Mailbox{MustParseMailbox("b@b.example.test")}}, strings.NewReader("123456\r\nabcdef\r\nxy\r\n"))
		require.NoError(t, err)
	})
	t.Run("chunk refused", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
S: 250 ok
S: 250 ok
C: BDAT 8
C: 123456
C: BDAT 8
C: abcdef
S: 552 5.3.4 too big
S: 503 5.5.1 no
C: RSET
S: 250 ok
C: NOOP
S: 250 ok
`, &ClientOptions{ChunkSize: 8})
		// With PIPELINING both chunks go out before the replies are read;
		// the source fails next, but the server's refusal is what counts.
		w := iotest.OneByteReader(strings.NewReader("123456\r\nabcdef\r\nmore data that is never sent\r\n"))
		_, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, &clientStopAfter{r: w, n: 16})
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 552, e.Code)
		require.NoError(t, c.Noop(clientTestCtx(t)))
	})
	t.Run("chunk refused, lockstep", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: MAIL FROM:<a@a.example.test>
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: BDAT 8
C: 123456
S: 554 5.6.0 no
C: RSET
S: 250 ok
`, &ClientOptions{ChunkSize: 8, NoPipelining: true})
		// No chunk follows a refused one (RFC 3030 §2).
		_, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, strings.NewReader(strings.Repeat("123456\r\n", 100)))
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 554, e.Code)
	})
	t.Run("Data writer", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: MAIL FROM:<a@a.example.test>
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: BDAT 9
R: ".x\r\n.y\r\nz"
S: 250 9
C: BDAT 2 LAST
R: "\r\n"
S: 250 done
`, &ClientOptions{ChunkSize: 10, NoPipelining: true})
		ctx := clientTestCtx(t)
		require.NoError(t, c.Mail(ctx, "a@a.example.test", nil))
		require.NoError(t, c.Rcpt(ctx, "b@b.example.test", nil))
		w, err := c.Data(ctx)
		require.NoError(t, err)
		_, err = io.WriteString(w, ".x\r.y\nz\r\n")
		require.NoError(t, err)
		require.NoError(t, w.Close())
	})
}

// clientStopAfter returns an error after n bytes; it stands for a failing source
// when the data is never read that far.
type clientStopAfter struct {
	r io.Reader
	n int
}

func (s *clientStopAfter) Read(p []byte) (int, error) {
	if s.n <= 0 {
		return 0, errors.New("source broken")
	}
	n, err := s.r.Read(p[:min(len(p), s.n)])
	s.n -= n
	return n, err
}

func TestClientSourceError(t *testing.T) {
	t.Run("DATA closes the connection", func(t *testing.T) {
		c, s := clientDialScript(t, clientEhloPipe+`
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
C: DATA
S: 250 ok
S: 250 ok
S: 354 go
CLOSE
`, nil)
		_, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, &clientStopAfter{r: strings.NewReader("partial\r\nrest"), n: 9})
		require.ErrorContains(t, err, "source broken")
		s.wait()
		assert.Error(t, c.Noop(clientTestCtx(t)))
	})
	t.Run("BDAT resets", func(t *testing.T) {
		c, _ := clientDialScript(t, `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test
S: 250 CHUNKING
C: MAIL FROM:<a@a.example.test>
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: BDAT 6
C: abcd
S: 250 ok
C: RSET
S: 250 ok
C: NOOP
S: 250 ok
`, &ClientOptions{ChunkSize: 6})
		_, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, &clientStopAfter{r: strings.NewReader("abcd\r\nrest"), n: 8})
		require.ErrorContains(t, err, "source broken")
		require.NoError(t, c.Noop(clientTestCtx(t)))
	})
}

func TestClientLMTP(t *testing.T) {
	lhlo := `
S: 220 lmtp.example.test LMTP
C: LHLO localhost
S: 250-lmtp.example.test
S: 250-PIPELINING
S: 250 ENHANCEDSTATUSCODES
`
	t.Run("Send", func(t *testing.T) {
		c, _ := clientDialScript(t, lhlo+`
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
C: RCPT TO:<x@b.example.test>
C: RCPT TO:<c@b.example.test>
C: DATA
S: 250 ok
S: 250 ok
S: 550 5.1.1 unknown
S: 250 ok
S: 354 go
C: hi
C: .
S: 250 2.0.0 <b@b.example.test> delivered
S: 452 4.2.2 <c@b.example.test> mailbox full
`, &ClientOptions{LMTP: true})
		res, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test"), MustParseMailbox("x@b.example.test"), MustParseMailbox("c@b.example.test")}}, strings.NewReader("hi\r\n"))
		var de *DeliveryError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, 1, de.Delivered)
		require.Len(t, de.Failed, 2)
		assert.Equal(t, "x@b.example.test", de.Failed[0].Addr.String())
		assert.True(t, IsPermanent(de.Failed[0].Err))
		assert.Equal(t, "c@b.example.test", de.Failed[1].Addr.String())
		assert.True(t, IsTemporary(de.Failed[1].Err))
		assert.NoError(t, res.Rcpts[0].Err)
		assert.Equal(t, "<c@b.example.test> mailbox full", res.Reply.Message())
	})
	t.Run("Data", func(t *testing.T) {
		c, _ := clientDialScript(t, lhlo+`
C: MAIL FROM:<a@a.example.test>
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: RCPT TO:<c@b.example.test>
S: 250 ok
C: DATA
S: 354 go
C: hi
C: .
S: 250 2.0.0 ok
S: 250 2.0.0 ok
C: MAIL FROM:<a@a.example.test>
S: 250 ok
C: RCPT TO:<b@b.example.test>
S: 250 ok
C: RCPT TO:<c@b.example.test>
S: 250 ok
C: DATA
S: 354 go
C: hi
C: .
S: 250 2.0.0 ok
S: 550 5.2.1 mailbox disabled
`, &ClientOptions{LMTP: true})
		ctx := clientTestCtx(t)
		for i := range 2 {
			require.NoError(t, c.Mail(ctx, "a@a.example.test", nil))
			require.NoError(t, c.Rcpt(ctx, "b@b.example.test", nil))
			require.NoError(t, c.Rcpt(ctx, "c@b.example.test", nil))
			w, err := c.Data(ctx)
			require.NoError(t, err)
			io.WriteString(w, "hi\r\n")
			err = w.Close()
			if i == 0 {
				require.NoError(t, err)
				continue
			}
			var de *DeliveryError
			require.ErrorAs(t, err, &de)
			require.Len(t, de.Failed, 1)
			assert.Equal(t, "c@b.example.test", de.Failed[0].Addr.String())
		}
	})
	t.Run("BDAT", func(t *testing.T) {
		// With CHUNKING, the per-recipient replies follow BDAT LAST.
		c, _ := clientDialScript(t, `
S: 220 lmtp.example.test LMTP
C: LHLO localhost
S: 250-lmtp.example.test
S: 250-PIPELINING
S: 250 CHUNKING
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
C: RCPT TO:<c@b.example.test>
S: 250 ok
S: 250 ok
S: 250 ok
C: BDAT 5
R: "12345"
C: BDAT 6 LAST
R: "\r\nab\r\n"
S: 250 5 octets
S: 250 2.0.0 <b@b.example.test> delivered
S: 550 5.2.1 <c@b.example.test> disabled
`, &ClientOptions{LMTP: true, ChunkSize: 6})
		res, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), MailOptions: nil, To: []Mailbox{MustParseMailbox("b@b.example.test"), MustParseMailbox("c@b.example.test")}}, strings.NewReader("12345\r\nab"))
		var de *DeliveryError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, 1, de.Delivered)
		assert.Equal(t, "c@b.example.test", de.Failed[0].Addr.String())
		assert.NoError(t, res.Rcpts[0].Err)
	})
	t.Run("no HELO fallback", func(t *testing.T) {
		s := newClientScriptServer(t, `
S: 220 lmtp
C: LHLO localhost
S: 500 what
`)
		_, err := Dial(clientTestCtx(t), s.Addr, &ClientOptions{LMTP: true})
		require.Error(t, err)
	})
}

type clientScriptedAuth struct {
	mech  string
	ir    []byte
	steps []string // expected challenges, answered with resp+"!"
	i     int
}

func (a *clientScriptedAuth) Start() (string, []byte, error) { return a.mech, a.ir, nil }
func (a *clientScriptedAuth) Next(ch []byte) ([]byte, error) {
	if a.i >= len(a.steps) || string(ch) != a.steps[a.i] {
		return nil, auth.ErrUnexpected
	}
	a.i++
	return append(ch, '!'), nil
}

func TestClientAuth(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	ehlo := `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test
S: 250 AUTH PLAIN LOGIN X-TEST X-EMPTY
`
	insecure := &ClientOptions{AllowInsecureAuth: true}
	t.Run("PLAIN initial response", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: AUTH PLAIN `+b64("\x00user\x00pass")+`
S: 235 2.7.0 Authentication successful
`, insecure)
		require.NoError(t, c.Auth(clientTestCtx(t), auth.NewPlainClient("", "user", "pass")))
		assert.Error(t, c.Auth(clientTestCtx(t), auth.NewPlainClient("", "user", "pass")), "only once")
	})
	t.Run("LOGIN", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: `+b64("user")+`
S: 334 UGFzc3dvcmQ6
C: `+b64("pass")+`
S: 535 5.7.8 Authentication credentials invalid
`, insecure)
		err := c.Auth(clientTestCtx(t), auth.NewLoginClient("user", "pass"))
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 535, e.Code)
		assert.Equal(t, EnhancedCode{5, 7, 8}, e.EnhancedCode)
	})
	t.Run("empty initial response", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: AUTH X-EMPTY =
S: 334 `+b64("step")+`
C: `+b64("step!")+`
S: 334 
C: `+b64("!")+`
S: 235 ok
`, insecure)
		require.NoError(t, c.Auth(clientTestCtx(t), &clientScriptedAuth{mech: "X-EMPTY", ir: []byte{}, steps: []string{"step", ""}}))
	})
	t.Run("long initial response", func(t *testing.T) {
		long := strings.Repeat("x", 600)
		c, _ := clientDialScript(t, ehlo+`
C: AUTH X-TEST
S: 334 
C: `+b64(long)+`
S: 235 ok
`, insecure)
		require.NoError(t, c.Auth(clientTestCtx(t), &clientScriptedAuth{mech: "X-TEST", ir: []byte(long)}))
	})
	t.Run("bad challenge cancels", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: AUTH X-TEST
S: 334 not*base64
C: *
S: 501 5.7.0 cancelled
C: NOOP
S: 250 ok
`, insecure)
		require.Error(t, c.Auth(clientTestCtx(t), &clientScriptedAuth{mech: "X-TEST"}))
		require.NoError(t, c.Noop(clientTestCtx(t)))
	})
	t.Run("mechanism error cancels", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo+`
C: AUTH X-TEST
S: 334 `+b64("unexpected")+`
C: *
S: 501 5.7.0 cancelled
`, insecure)
		err := c.Auth(clientTestCtx(t), &clientScriptedAuth{mech: "X-TEST"})
		require.ErrorIs(t, err, auth.ErrUnexpected)
	})
	t.Run("refused without TLS", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo, nil)
		require.ErrorIs(t, c.Auth(clientTestCtx(t), auth.NewPlainClient("", "user", "pass")), ErrInsecureAuth)
	})
	t.Run("mechanism not offered", func(t *testing.T) {
		c, _ := clientDialScript(t, ehlo, insecure)
		require.ErrorContains(t, c.Auth(clientTestCtx(t), &clientScriptedAuth{mech: "SCRAM-SHA-256"}), "does not offer")
	})
}

func TestClientStartTLS(t *testing.T) {
	script := `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test
S: 250-AUTH LOGIN
S: 250 STARTTLS
C: STARTTLS
S: 220 2.0.0 Ready to start TLS
TLS
C: EHLO localhost
S: 250-mx.example.test
S: 250-AUTH PLAIN
S: 250 PIPELINING
C: AUTH PLAIN AHUAcA==
S: 235 ok
C: QUIT
S: 221 bye
`
	s := newClientScriptServer(t, script)
	ctx := clientTestCtx(t)
	c, err := DialStartTLS(ctx, s.Addr, &ClientOptions{TLSConfig: s.TLS.Client})
	require.NoError(t, err)
	st, ok := c.TLSConnectionState()
	require.True(t, ok)
	assert.GreaterOrEqual(t, st.Version, uint16(tls.VersionTLS12))
	// What the server said before TLS is forgotten.
	assert.Equal(t, []string{"PLAIN"}, c.AuthMechanisms())
	_, ok = c.Extension("STARTTLS")
	assert.False(t, ok)
	require.NoError(t, c.Auth(ctx, auth.NewPlainClient("", "u", "p")))
	require.NoError(t, c.Quit(ctx))

	t.Run("untrusted certificate", func(t *testing.T) {
		s := newClientScriptServer(t, `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test
S: 250 STARTTLS
C: STARTTLS
S: 220 go
CLOSE
`)
		_, err := DialStartTLS(clientTestCtx(t), s.Addr, &ClientOptions{TLSConfig: &tls.Config{ServerName: "localhost"}})
		require.Error(t, err)
	})
	t.Run("not offered", func(t *testing.T) {
		s := newClientScriptServer(t, clientEhloPlain+"CLOSE")
		_, err := DialStartTLS(clientTestCtx(t), s.Addr, nil)
		require.ErrorContains(t, err, "does not offer STARTTLS")
	})
	t.Run("data injected after 220", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			io.WriteString(conn, "220 hi\r\n")
			br.ReadString('\n')
			io.WriteString(conn, "250-hi\r\n250 STARTTLS\r\n")
			br.ReadString('\n')
			// The reply and a forged one in the same segment.
			io.WriteString(conn, "220 go\r\n250-forged\r\n250 AUTH PLAIN\r\n")
			br.ReadString('\n')
		}()
		_, err = DialStartTLS(clientTestCtx(t), ln.Addr().String(), nil)
		require.ErrorContains(t, err, "after its STARTTLS reply")
	})
}

func TestClientDialTLS(t *testing.T) {
	pair, err := selfsigned.NewPair()
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", pair.Server)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		io.WriteString(conn, "220 tls.example.test\r\n")
		br.ReadString('\n')
		io.WriteString(conn, "250-tls.example.test\r\n250 AUTH PLAIN\r\n")
		br.ReadString('\n')
		io.WriteString(conn, "235 ok\r\n")
		br.ReadString('\n')
	}()
	c, err := DialTLS(clientTestCtx(t), ln.Addr().String(), &ClientOptions{TLSConfig: pair.Client})
	require.NoError(t, err)
	defer c.Close()
	_, ok := c.TLSConnectionState()
	assert.True(t, ok)
	require.NoError(t, c.Auth(clientTestCtx(t), auth.NewPlainClient("", "u", "p")), "AUTH is allowed over implicit TLS")
}

// clientHostileServer greets, then runs f on the connection after EHLO.
func clientHostileServer(t *testing.T, greetAndEHLO bool, f func(conn net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if greetAndEHLO {
			br := bufio.NewReader(conn)
			io.WriteString(conn, "220 hi\r\n")
			br.ReadString('\n')
			io.WriteString(conn, "250 hi\r\n")
		}
		f(conn)
	}()
	t.Cleanup(func() { <-done })
	return ln.Addr().String()
}

func TestClientHostileServer(t *testing.T) {
	// Each server writes until the client hangs up (bounded by the deadline
	// and a byte budget), and the client must give up on its own.
	flood := func(unit string) func(net.Conn) {
		return func(conn net.Conn) {
			buf := []byte(strings.Repeat(unit, 4096/len(unit)+1))
			for sent := 0; sent < 64<<20; sent += len(buf) {
				if _, err := conn.Write(buf); err != nil {
					return
				}
			}
		}
	}
	for _, tc := range []struct {
		name string
		f    func(net.Conn)
		want string
	}{
		{"endless multi-line greeting", flood("220-more\r\n"), "more than"},
		{"huge greeting line", flood("2"), "longer than"},
		{"garbage", func(c net.Conn) { io.WriteString(c, "hello there\r\n") }, "malformed reply"},
		{"mixed codes", func(c net.Conn) { io.WriteString(c, "220-a\r\n250 b\r\n") }, "code 250"},
		{"silent close", func(c net.Conn) {}, "EOF"},
		{"cut reply", func(c net.Conn) { io.WriteString(c, "220-first\r\n") }, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := clientHostileServer(t, false, tc.f)
			_, err := Dial(clientTestCtx(t), addr, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("endless reply to MAIL", func(t *testing.T) {
		addr := clientHostileServer(t, true, flood("250-x\r\n"))
		c, err := Dial(clientTestCtx(t), addr, nil)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, strings.NewReader("x"))
		require.ErrorContains(t, err, "more than")
		assert.Error(t, c.Noop(clientTestCtx(t)), "the client is unusable after a protocol violation")
	})
	t.Run("shorter line limit", func(t *testing.T) {
		addr := clientHostileServer(t, false, func(c net.Conn) { io.WriteString(c, "220 "+strings.Repeat("x", 300)+"\r\n") })
		_, err := Dial(clientTestCtx(t), addr, &ClientOptions{MaxReplyLineLength: 100})
		require.ErrorContains(t, err, "longer than 100")
	})
	t.Run("421 in a pipelined group", func(t *testing.T) {
		c, _ := clientDialScript(t, clientEhloPipe+`
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
C: DATA
S: 421 4.7.0 too busy, closing
CLOSE
`, nil)
		res, err := c.Send(clientTestCtx(t), &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, strings.NewReader("x"))
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 421, e.Code)
		assert.True(t, IsTemporary(res.Rcpts[0].Err))
	})
	t.Run("421 closes", func(t *testing.T) {
		c, _ := clientDialScript(t, clientEhloPlain+`
C: NOOP
S: 421 4.3.2 shutting down
`, nil)
		err := c.Noop(clientTestCtx(t))
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 421, e.Code)
		assert.Equal(t, err, c.Reset(clientTestCtx(t)), "later calls report the 421")
	})
}

func TestClientContext(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		block := make(chan struct{})
		addr := clientHostileServer(t, true, func(net.Conn) { <-block })
		defer close(block)
		c, err := Dial(clientTestCtx(t), addr, nil)
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = c.Noop(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, c.Noop(clientTestCtx(t)), context.DeadlineExceeded, "sticky")
	})
	t.Run("cancel", func(t *testing.T) {
		block := make(chan struct{})
		addr := clientHostileServer(t, true, func(conn net.Conn) {
			// Read the command, then cancel the client's call by
			// closing block... from the test side.
			bufio.NewReader(conn).ReadString('\n')
			<-block
		})
		defer close(block)
		c, err := Dial(clientTestCtx(t), addr, nil)
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Noop(ctx) }()
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)
	})
	t.Run("a context done before the call leaves the client usable", func(t *testing.T) {
		c, _ := clientDialScript(t, clientEhloPlain+`
C: NOOP
S: 250 ok
`, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, c.Noop(ctx), context.Canceled)
		_, err := c.Send(ctx, &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")}}, strings.NewReader("x"))
		require.ErrorIs(t, err, context.Canceled)
		require.NoError(t, c.Noop(clientTestCtx(t)))
	})
	t.Run("Timeout without a context deadline", func(t *testing.T) {
		block := make(chan struct{})
		addr := clientHostileServer(t, true, func(net.Conn) { <-block })
		defer close(block)
		c, err := Dial(clientTestCtx(t), addr, &ClientOptions{Timeout: 50 * time.Millisecond})
		require.NoError(t, err)
		defer c.Close()
		err = c.Noop(context.Background())
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())
	})
	t.Run("a deadline does not outlive its call", func(t *testing.T) {
		c, _ := clientDialScript(t, clientEhloPlain+`
C: NOOP
S: 250 ok
C: NOOP
S: 250 ok
`, nil)
		ctx, cancel := context.WithCancel(context.Background())
		require.NoError(t, c.Noop(ctx))
		cancel()
		require.NoError(t, c.Noop(context.Background()))
	})
}

func TestSendMail(t *testing.T) {
	s := newClientScriptServer(t, clientEhloPipe+`
C: MAIL FROM:<a@a.example.test>
C: RCPT TO:<b@b.example.test>
C: DATA
S: 250 ok
S: 250 ok
S: 354 go
C: Subject: hi
C: 
C: hello
C: .
S: 250 ok
C: QUIT
S: 221 bye
`)
	err := SendMail(clientTestCtx(t), s.Addr, nil, "a@a.example.test", []string{"b@b.example.test"}, strings.NewReader("Subject: hi\n\nhello\n"))
	require.NoError(t, err)

	// Credentials never go out in the clear.
	s = newClientScriptServer(t, `
S: 220 mx.example.test ESMTP
C: EHLO localhost
S: 250-mx.example.test
S: 250 AUTH PLAIN
`)
	err = SendMail(clientTestCtx(t), s.Addr, auth.NewPlainClient("", "u", "p"), "a@a.example.test", []string{"b@b.example.test"}, strings.NewReader("x"))
	require.ErrorIs(t, err, ErrInsecureAuth)
}

// clientFuzzConn is a net.Conn whose peer sends fixed bytes and swallows writes.
type clientFuzzConn struct {
	r io.Reader
}

func (f *clientFuzzConn) Read(p []byte) (int, error)       { return f.r.Read(p) }
func (f *clientFuzzConn) Write(p []byte) (int, error)      { return len(p), nil }
func (f *clientFuzzConn) Close() error                     { return nil }
func (f *clientFuzzConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (f *clientFuzzConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (f *clientFuzzConn) SetDeadline(time.Time) error      { return nil }
func (f *clientFuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (f *clientFuzzConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzClient feeds arbitrary server output to a client going through a whole
// session: it must end with an error or success, never panic or hang.
func FuzzClient(f *testing.F) {
	for _, seed := range []string{
		"220 hi\r\n250-hi\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 AUTH PLAIN\r\n235 ok\r\n250 ok\r\n250 ok\r\n550 no\r\n250 ok\r\n250 done\r\n221 bye\r\n",
		"220 hi\r\n250-hi\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n",
		"220 hi\r\n250 hi\r\n334 AAAA\r\n334 =\r\n235\r\n250 ok\r\n250 ok\r\n354 go\r\n452 4.2.2 full\r\n",
		"220 hi\r\n502 what\r\n250 hi\r\n250 ok\r\n",
		"220-a\r\n220 b\r\n250-x\r\n250-SIZE 99999999999999999999999\r\n250 AUTH=PLAIN\r\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, lmtp bool) {
		ctx := context.Background()
		c, err := NewClient(ctx, &clientFuzzConn{r: bytes.NewReader(data)}, &ClientOptions{LMTP: lmtp, AllowInsecureAuth: true, ChunkSize: 16})
		if err != nil {
			return
		}
		c.MaxMessageSize()
		c.Auth(ctx, auth.NewPlainClient("", "u", "p"))
		c.Send(ctx, &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test"), MustParseMailbox("c@b.example.test")}}, strings.NewReader("Subject: x\r\n\r\n.body\nmore body that is longer than a chunk\r\n"))
		c.Mail(ctx, "a@a.example.test", nil)
		c.Rcpt(ctx, "b@b.example.test", nil)
		if w, err := c.Data(ctx); err == nil {
			io.WriteString(w, "x\r\n")
			w.Close()
		}
		c.Quit(ctx)
	})
}

func TestClientUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lmtp.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		io.WriteString(conn, "220 lmtp ready\r\n")
		br.ReadString('\n')
		io.WriteString(conn, "250-lmtp\r\n250 PIPELINING\r\n")
		br.ReadString('\n')
		io.WriteString(conn, "221 bye\r\n")
	}()
	c, err := Dial(clientTestCtx(t), path, &ClientOptions{Network: "unix", LMTP: true})
	require.NoError(t, err)
	_, ok := c.Extension("PIPELINING")
	assert.True(t, ok)
	require.NoError(t, c.Quit(clientTestCtx(t)))

	var dialled string
	_, err = Dial(clientTestCtx(t), "mx.example.test:25", &ClientOptions{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialled = network + " " + addr
		return nil, errors.New("no network here")
	}})
	require.ErrorContains(t, err, "no network here")
	assert.Equal(t, "tcp mx.example.test:25", dialled)
	_, err = Dial(clientTestCtx(t), "no port", nil)
	require.Error(t, err)
}
