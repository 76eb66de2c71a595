package smtp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/smtp"
	"github.com/mailwire/mailwire/smtp/smtptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run the Client against mailwire's own Server (through
// smtptest).

func extCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mailboxes parses addresses known to be valid.
func mailboxes(addrs []string) []smtp.Mailbox {
	m := make([]smtp.Mailbox, len(addrs))
	for i, a := range addrs {
		m[i] = smtp.MustParseMailbox(a)
	}
	return m
}

func rcpts(n int) []string {
	to := make([]string, n)
	for i := range to {
		to[i] = fmt.Sprintf("recipient-number-%04d@b.example.test", i)
	}
	return to
}

// Many recipients go out in several pipelined groups (RFC 2920 §3.1: each
// group within the TCP window), and every reply is matched to its command.
func TestClientManyRecipients(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithConfig(func(s *smtp.Server) { s.Limits.MaxRecipients = 1000 }))
	c, err := smtp.Dial(extCtx(t), srv.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	to := rcpts(600)
	res, err := c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: mailboxes(to)}, strings.NewReader("Subject: many\r\n\r\nhi\r\n"))
	require.NoError(t, err)
	assert.Equal(t, 600, res.Delivered())
	require.Len(t, srv.Messages(), 1)
	assert.Equal(t, to, srv.Messages()[0].To)
}

// Past the server's recipient limit each further RCPT gets 452 4.5.3; the
// message goes to the first ones.
func TestClientRecipientLimit(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithConfig(func(s *smtp.Server) { s.Limits.MaxRecipients = 10 }))
	c, err := smtp.Dial(extCtx(t), srv.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	res, err := c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: mailboxes(rcpts(15))}, strings.NewReader("x\r\n"))
	var de *smtp.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 10, de.Delivered)
	require.Len(t, de.Failed, 5)
	for _, f := range de.Failed {
		var e *smtp.Error
		require.ErrorAs(t, f.Err, &e)
		assert.Equal(t, 452, e.Code)
	}
	assert.Equal(t, 10, res.Delivered())
	assert.Len(t, srv.Messages()[0].To, 10)
}

// A large message in many chunks, and through DATA, arrives intact.
func TestClientLargeMessage(t *testing.T) {
	srv := smtptest.NewServer(t)
	var b strings.Builder
	b.WriteString("Subject: large\r\n\r\n")
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, ".line %d with some text to make it longer than a few bytes\r\n", i)
	}
	msg := b.String()
	for _, o := range []*smtp.ClientOptions{
		{ChunkSize: 64 << 10},
		{NoChunking: true},
		{NoPipelining: true, ChunkSize: 100 << 10},
	} {
		c, err := smtp.Dial(extCtx(t), srv.Addr, o)
		require.NoError(t, err)
		_, err = c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), MailOptions: &smtp.MailOptions{Size: int64(len(msg))}, To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader(msg))
		require.NoError(t, err)
		require.NoError(t, c.Quit(extCtx(t)))
	}
	ms := srv.Messages()
	require.Len(t, ms, 3)
	for _, m := range ms {
		assert.Equal(t, len(msg), len(m.Data))
		assert.True(t, string(m.Data) == msg)
	}
}

// A message over the server's SIZE limit is refused with 552, and the
// session goes on.
func TestClientSizeLimit(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithConfig(func(s *smtp.Server) { s.Limits.MaxMessageBytes = 1000 }))
	for _, o := range []*smtp.ClientOptions{{}, {NoChunking: true}} {
		c, err := smtp.Dial(extCtx(t), srv.Addr, o)
		require.NoError(t, err)
		n, ok := c.MaxMessageSize()
		require.True(t, ok)
		assert.Equal(t, int64(1000), n)
		// Declared too large: refused at MAIL.
		_, err = c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), MailOptions: &smtp.MailOptions{Size: 5000}, To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader("x"))
		assert.True(t, smtp.IsPermanent(err), "%v", err)
		// Undeclared but too large: refused after the data.
		_, err = c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader(strings.Repeat("y", 5000)))
		var e *smtp.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 552, e.Code)
		require.NoError(t, c.Noop(extCtx(t)))
		_, err = c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader("small"))
		require.NoError(t, err)
		require.NoError(t, c.Quit(extCtx(t)))
	}
	assert.Len(t, srv.Messages(), 2)
}

// NewClient works over any connection, here one the caller dialled, and
// the lockstep API's state checks hold.
func TestClientNewClientAndState(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	conn, err := net.Dial("tcp", srv.Addr)
	require.NoError(t, err)
	tlsConf := srv.ClientTLSConfig()
	c, err := smtp.NewClient(extCtx(t), conn, &smtp.ClientOptions{TLSConfig: tlsConf})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, conn, c.Conn())
	_, ok := c.TLSConnectionState()
	assert.False(t, ok)
	assert.Equal(t, 220, c.Greeting().Code)

	ctx := extCtx(t)
	assert.Error(t, c.Rcpt(ctx, "b@b.example.test", nil), "Rcpt before Mail")
	_, err = c.Data(ctx)
	assert.Error(t, err, "Data before Mail")
	require.NoError(t, c.Mail(ctx, "a@a.example.test", nil))
	assert.Error(t, c.StartTLS(ctx, nil), "no STARTTLS in a transaction")
	assert.Error(t, c.Rcpt(ctx, "jörg@b.example.test", nil), "a UTF-8 address needs SMTPUTF8 on MAIL")
	w, err := c.Data(ctx)
	if err == nil {
		// CHUNKING: the refusal comes at Close, as nothing was sent yet.
		io.WriteString(w, "x")
		err = w.Close()
	}
	assert.True(t, smtp.IsPermanent(err), "no valid recipients: %v", err)
	require.NoError(t, c.Reset(ctx))
	require.NoError(t, c.StartTLS(ctx, nil))
	_, ok = c.TLSConnectionState()
	assert.True(t, ok)
	assert.Error(t, c.StartTLS(ctx, nil), "already TLS")
	require.NoError(t, c.Mail(ctx, "jörg@a.example.test", nil))
	require.NoError(t, c.Rcpt(ctx, "jörg@b.example.test", nil))
	w, err = c.Data(ctx)
	require.NoError(t, err)
	io.WriteString(w, "Subject: ü\r\n\r\nx\r\n")
	require.NoError(t, w.Close())
	require.NoError(t, c.Quit(ctx))
	m := srv.Messages()[0]
	assert.True(t, m.MailOptions.UTF8)
	assert.True(t, m.TLS)
	assert.Equal(t, "jörg@a.example.test", m.From)
}

type discardSession struct{}

func (discardSession) Mail(context.Context, smtp.Mailbox, *smtp.MailOptions) error { return nil }
func (discardSession) Rcpt(context.Context, smtp.Mailbox, *smtp.RcptOptions) error { return nil }
func (discardSession) Data(_ context.Context, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (discardSession) Reset(context.Context) {}
func (discardSession) Close() error          { return nil }

// BenchmarkClientSend sends 1 KB messages to five recipients over one
// connection to the package's Server with a discarding backend, with DATA
// and with BDAT.
func BenchmarkClientSend(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	srv := &smtp.Server{Backend: smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return discardSession{}, nil })}
	go srv.Serve(ln)
	defer srv.Close()
	msg := []byte("Subject: bench\r\n\r\n" + strings.Repeat(strings.Repeat("x", 62)+"\r\n", 15))
	for _, bc := range []struct {
		name string
		opts smtp.ClientOptions
	}{{"DATA", smtp.ClientOptions{NoChunking: true}}, {"BDAT", smtp.ClientOptions{}}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			c, err := smtp.Dial(ctx, ln.Addr().String(), &bc.opts)
			require.NoError(b, err)
			defer c.Close()
			env := &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: mailboxes(rcpts(5))}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Send(ctx, env, bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Login picks the strongest mechanism: SCRAM-SHA-256-PLUS over TLS, with
// its several challenges and channel binding, against the package's Server.
func TestClientLogin(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("user", "pencil"))
	for _, tc := range []struct {
		name    string
		maxTLS  uint16
		allowed []string
	}{
		{"TLS 1.3", 0, nil},
		{"TLS 1.2", tls.VersionTLS12, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.ClientTLSConfig()
			cfg.MaxVersion = tc.maxTLS
			c, err := smtp.DialStartTLS(extCtx(t), srv.Addr, &smtp.ClientOptions{TLSConfig: cfg})
			require.NoError(t, err)
			defer c.Close()
			// On TLS 1.2 the server can offer -PLUS only with its
			// certificate (tls-server-end-point), which smtptest sets.
			assert.Contains(t, c.AuthMechanisms(), "SCRAM-SHA-256-PLUS")
			st, ok := c.TLSConnectionState()
			require.True(t, ok)
			assert.Equal(t, "SCRAM-SHA-256-PLUS", auth.ChooseMechanism(c.AuthMechanisms(), &st), "what Login uses")
			err = c.Login(extCtx(t), "user", "wrong")
			var e *smtp.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 535, e.Code)
			require.NoError(t, c.Login(extCtx(t), "user", "pencil"))
			_, err = c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader("x"))
			require.NoError(t, err)
			msgs := srv.Messages()
			assert.Equal(t, "user", msgs[len(msgs)-1].Identity)
		})
	}
	c, err := smtp.Dial(extCtx(t), srv.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	require.ErrorIs(t, c.Login(extCtx(t), "user", "pencil"), smtp.ErrInsecureAuth)
}

// A refused MAIL stops a long pipelined envelope after its first group.
func TestClientMailRefusedManyRecipients(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithMailHook(func(string) error { return smtp.ErrTryLater }))
	c, err := smtp.Dial(extCtx(t), srv.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	res, err := c.Send(extCtx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: mailboxes(rcpts(600))}, strings.NewReader("x"))
	require.True(t, smtp.IsTemporary(err), "%v", err)
	for _, r := range res.Rcpts {
		assert.True(t, smtp.IsTemporary(r.Err))
	}
	require.NoError(t, c.Noop(extCtx(t)), "the replies to the first group were all read")
}
