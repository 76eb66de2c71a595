package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/smtp"
)

// composeWithAttachment returns a message from alice to bob with a binary
// attachment.
func composeWithAttachment(t *testing.T, attachment []byte) []byte {
	t.Helper()
	m := &mime.Mail{Text: "Hello Bob,\nthe report is attached.\n"}
	m.Header.Add("From", "Alice <alice@"+testDomain+">")
	m.Header.Add("To", "Bob <bob@"+testDomain+">")
	m.Header.Add("Subject", "Quarterly report")
	m.Header.Add("Date", message.FormatDate(time.Now()))
	m.Header.Add("Message-ID", message.NewMessageID(testDomain))
	m.Attachments = []mime.Attachment{{Filename: "report.bin", Data: attachment}}
	var b bytes.Buffer
	_, err := m.WriteTo(&b)
	require.NoError(t, err)
	return b.Bytes()
}

// splitTrace checks that got is want with a Return-Path and a Received
// field prepended, and returns the parsed Received field. Between them may
// be the Authentication-Results and Received-SPF fields of a message that
// was checked.
func splitTrace(t *testing.T, got, want []byte, from string) *message.Received {
	t.Helper()
	_, r := traceHeader(t, got, want, from)
	return r
}

// traceHeader is splitTrace, returning the fields prepended as well.
func traceHeader(t *testing.T, got, want []byte, from string) (*message.Header, *message.Received) {
	t.Helper()
	prefix := "Return-Path: <" + from + ">\r\n"
	require.True(t, bytes.HasPrefix(got, []byte(prefix)), "message starts %q", got[:min(len(got), 200)])
	require.True(t, bytes.HasSuffix(got, want), "the message follows the trace fields unchanged")
	trace := got[:len(got)-len(want)]
	h, err := message.ReadHeader(bufio.NewReader(io.MultiReader(bytes.NewReader(trace), strings.NewReader("\r\n"))), message.Limits{})
	require.NoError(t, err)
	var names []string
	for name := range h.All() {
		names = append(names, name)
	}
	if len(names) == 4 {
		require.Equal(t, []string{"Return-Path", "Authentication-Results", "Received-SPF", "Received"}, names)
	} else {
		require.Equal(t, []string{"Return-Path", "Received"}, names, "exactly two trace fields")
	}
	r, err := message.ParseReceived(h.Get("Received"))
	require.NoError(t, err)
	return h, r
}

func TestSubmitRetrieveWithAttachment(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	attachment := make([]byte, 200<<10)
	rand.Read(attachment)
	msg := composeWithAttachment(t, attachment)

	res, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, msg)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Delivered())

	msgs := ts.popAll(t, "bob", bobPass)
	require.Len(t, msgs, 1)
	rcv := splitTrace(t, msgs[0], msg, "alice@"+testDomain)
	assert.Equal(t, "ESMTPSA", rcv.With, "RFC 3848: TLS and AUTH")
	assert.Equal(t, "mx.example.test", rcv.By)
	assert.Equal(t, "bob@"+testDomain, rcv.For)
	assert.Contains(t, rcv.FromComment, "[127.0.0.1]")
	assert.WithinDuration(t, time.Now(), rcv.Date, time.Hour)

	// The attachment decodes to the original bytes.
	var found []byte
	require.NoError(t, mime.Walk(bytes.NewReader(msgs[0]), func(p *mime.Part) error {
		if p.IsAttachment() && p.Filename() == "report.bin" {
			b, err := io.ReadAll(p.Body())
			found = b
			return err
		}
		return nil
	}))
	assert.True(t, bytes.Equal(attachment, found), "attachment decodes to the original (%d bytes, got %d)", len(attachment), len(found))

	// Alice's mailbox is empty; the Maildir holds the same bytes POP3 sent.
	assert.Empty(t, ts.stored(t, "alice"))
	assert.Equal(t, msgs, ts.stored(t, "bob"))
	assert.Contains(t, ts.logs.String(), "msg=delivered")
}

func TestImplicitTLSListeners(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg := []byte("Date: Tue, 24 Nov 2026 04:00:00 +0000\r\nMessage-ID: <1@example.test>\r\nSubject: over 465\r\n\r\nimplicit TLS\r\n")

	c, err := smtp.DialTLS(ctx, ts.Addr(lnSubmissions), &smtp.ClientOptions{TLSConfig: ts.client})
	require.NoError(t, err)
	require.NoError(t, c.Auth(ctx, auth.NewCRAMMD5Client("bob", bobPass)))
	_, err = c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("bob@" + testDomain), To: []smtp.Mailbox{smtp.MustParseMailbox("alice@" + testDomain)}}, bytes.NewReader(msg))
	require.NoError(t, err)
	require.NoError(t, c.Quit(ctx))

	pc, err := pop3.DialTLS(ctx, ts.Addr(lnPOP3S), ts.client)
	require.NoError(t, err)
	defer pc.Close()
	a, err := auth.NewSCRAMClient("SCRAM-SHA-256-PLUS", "alice@"+testDomain, alicePass, tlsState(pc.Conn()))
	require.NoError(t, err)
	require.NoError(t, pc.Auth(ctx, a), "log in with an address and channel binding")
	r, err := pc.Retr(ctx, 1)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	rcv := splitTrace(t, got, msg, "bob@"+testDomain)
	assert.Equal(t, "ESMTPSA", rcv.With)
	require.NoError(t, pc.Dele(ctx, 1))
	require.NoError(t, pc.Quit(ctx))
	assert.Empty(t, ts.stored(t, "alice"), "DELE then QUIT removes the message")
}

// Every mechanism the submission port offers works with mailwire's client.
func TestSubmissionMechanisms(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
	require.NoError(t, err)
	offered := c.AuthMechanisms()
	c.Close()
	assert.ElementsMatch(t, saslMechanisms, offered)

	for _, mech := range offered {
		t.Run(mech, func(t *testing.T) {
			c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
			require.NoError(t, err)
			defer c.Close()
			var a auth.Client
			switch mech {
			case "PLAIN":
				a = auth.NewPlainClient("", "alice", alicePass)
			case "LOGIN":
				a = auth.NewLoginClient("alice", alicePass)
			case "CRAM-MD5":
				a = auth.NewCRAMMD5Client("alice", alicePass)
			default:
				// Only the -PLUS client binds to the channel; the plain
				// one claims no support, or the server would rightly
				// suspect a downgrade (RFC 5802 §6).
				var cs *tls.ConnectionState
				if strings.HasSuffix(mech, "-PLUS") {
					cs = tlsState(c.Conn())
				}
				a, err = auth.NewSCRAMClient(mech, "alice", alicePass, cs)
				require.NoError(t, err)
			}
			require.NoError(t, c.Auth(ctx, a))
			require.NoError(t, c.Mail(ctx, "alice@"+testDomain, nil))
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
		require.NoError(t, err)
		defer c.Close()
		err = c.Auth(ctx, auth.NewCRAMMD5Client("alice", "wrong"))
		requireCode(t, err, 535, "5.7.8")
	})
}

func tlsState(c net.Conn) *tls.ConnectionState {
	st := c.(*tls.Conn).ConnectionState()
	return &st
}

// requireCode checks that err is an SMTP reply with the given codes.
func requireCode(t *testing.T, err error, code int, enhanced string) {
	t.Helper()
	var e *smtp.Error
	require.True(t, errors.As(err, &e), "want a %d reply, got %v", code, err)
	assert.Equal(t, code, e.Code, "reply %v", e)
	assert.Equal(t, enhanced, e.EnhancedCode.String(), "reply %v", e)
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg := []byte("Subject: policy\r\n\r\nbody\r\n")

	t.Run("MX refuses relaying", func(t *testing.T) {
		c, err := smtp.Dial(ctx, ts.Addr(lnSMTP), nil)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Mail(ctx, "spammer@elsewhere.example", nil))
		requireCode(t, c.Rcpt(ctx, "victim@elsewhere.example", nil), 550, "5.7.1")
		requireCode(t, c.Rcpt(ctx, "victim@"+testDomain+".elsewhere.example", nil), 550, "5.7.1")
	})
	t.Run("MX refuses unknown users", func(t *testing.T) {
		c, err := smtp.Dial(ctx, ts.Addr(lnSMTP), nil)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Mail(ctx, "someone@elsewhere.example", nil))
		requireCode(t, c.Rcpt(ctx, "carol@"+testDomain, nil), 550, "5.1.1")
		require.NoError(t, c.Rcpt(ctx, "BOB@Example.Test", nil), "addresses match without case")
	})
	t.Run("MX delivers to local users without AUTH", func(t *testing.T) {
		c, err := smtp.Dial(ctx, ts.Addr(lnSMTP), nil)
		require.NoError(t, err)
		defer c.Close()
		res, err := c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("someone@elsewhere.example"), To: []smtp.Mailbox{smtp.MustParseMailbox("bob@" + testDomain), smtp.MustParseMailbox("carol@" + testDomain), smtp.MustParseMailbox("alice@" + testDomain)}}, bytes.NewReader(msg))
		var de *smtp.DeliveryError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, 2, res.Delivered())
		got := ts.stored(t, "alice")
		require.Len(t, got, 1)
		rcv := splitTrace(t, got[0], msg, "someone@elsewhere.example")
		assert.Equal(t, "ESMTP", rcv.With, "no TLS, no AUTH")
		assert.Empty(t, rcv.For, "no for clause with several recipients")
		assert.Len(t, ts.stored(t, "bob"), 1)
		assert.NotContains(t, c.Extensions(), "AUTH", "the MX offers no AUTH")
	})
	t.Run("submission requires TLS before AUTH", func(t *testing.T) {
		c, err := smtp.Dial(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{AllowInsecureAuth: true})
		require.NoError(t, err)
		defer c.Close()
		assert.NotContains(t, c.Extensions(), "AUTH")
		assert.Error(t, c.Auth(ctx, auth.NewPlainClient("", "alice", alicePass)))
		requireCode(t, c.Mail(ctx, "alice@"+testDomain, nil), 530, "5.7.0")
	})
	t.Run("submission requires AUTH", func(t *testing.T) {
		c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
		require.NoError(t, err)
		defer c.Close()
		requireCode(t, c.Mail(ctx, "alice@"+testDomain, nil), 530, "5.7.0")
	})
	t.Run("submission checks the sender", func(t *testing.T) {
		c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Auth(ctx, auth.NewPlainClient("", "alice", alicePass)))
		for _, from := range []string{"bob@" + testDomain, "alice@elsewhere.example", ""} {
			requireCode(t, c.Mail(ctx, from, nil), 553, "5.7.1")
		}
		require.NoError(t, c.Mail(ctx, "Alice@Example.Test", nil))
		requireCode(t, c.Rcpt(ctx, "friend@elsewhere.example", nil), 550, "5.3.0")
		requireCode(t, c.Rcpt(ctx, "nobody@"+testDomain, nil), 550, "5.1.1")
		require.NoError(t, c.Rcpt(ctx, "bob@"+testDomain, nil))
	})
	t.Run("POP3 login needs STLS", func(t *testing.T) {
		c, err := pop3.Dial(ctx, ts.Addr(lnPOP3))
		require.NoError(t, err)
		defer c.Close()
		assert.Error(t, c.Login(ctx, "bob", bobPass))
		assert.Error(t, c.Auth(ctx, auth.NewPlainClient("", "bob", bobPass)))
	})
	t.Run("POP3 refuses a wrong password", func(t *testing.T) {
		c, err := pop3.DialTLS(ctx, ts.Addr(lnPOP3S), ts.client)
		require.NoError(t, err)
		defer c.Close()
		err = c.Login(ctx, "bob", alicePass)
		var pe *pop3.Error
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, pop3.CodeAuth, pe.Code)
	})
}

// A peer that takes a bare LF for a line end must not be able to smuggle a
// second message inside the first (SMTP smuggling): the message is refused
// whole and nothing is stored, split or merged.
func TestBareLFSmuggling(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	conn, err := net.Dial("tcp", ts.Addr(lnSMTP))
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	expect := func(code string) string {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			if len(line) >= 4 && line[3] == '-' {
				continue
			}
			require.True(t, strings.HasPrefix(line, code), "want %s, got %q", code, line)
			return line
		}
	}
	send := func(s string) {
		_, err := io.WriteString(conn, s)
		require.NoError(t, err)
	}
	expect("220")
	send("EHLO attacker.example\r\n")
	expect("250")
	for _, smuggle := range []string{
		"Subject: first\r\n\r\nhello\n.\nMAIL FROM:<admin@" + testDomain + ">\nRCPT TO:<bob@" + testDomain + ">\nDATA\nSubject: smuggled\n\nevil\r\n.\r\n",
		"Subject: first\r\n\r\nhello\r\n.\nMAIL FROM:<admin@" + testDomain + ">\r\nRCPT TO:<bob@" + testDomain + ">\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n",
		"Subject: first\r\n\r\nhello\r.\rMAIL FROM:<x@y.example>\r\n.\r\n",
	} {
		send("MAIL FROM:<attacker@elsewhere.example>\r\n")
		expect("250")
		send("RCPT TO:<bob@" + testDomain + ">\r\n")
		expect("250")
		send("DATA\r\n")
		expect("354")
		send(smuggle)
		expect("554")
	}
	// The session goes on; a clean message is delivered once, intact.
	send("MAIL FROM:<attacker@elsewhere.example>\r\nRCPT TO:<bob@" + testDomain + ">\r\nDATA\r\n")
	expect("250")
	expect("250")
	expect("354")
	send("Subject: clean\r\n\r\nline\r\n..dot\r\n.\r\n")
	expect("250")
	send("QUIT\r\n")
	expect("221")
	got := ts.stored(t, "bob")
	require.Len(t, got, 1, "only the clean message is stored")
	splitTrace(t, got[0], []byte("Subject: clean\r\n\r\nline\r\n.dot\r\n"), "attacker@elsewhere.example")
	assert.NotContains(t, ts.logs.String(), "smuggled")
}

// Shutdown lets a transaction in progress finish with 250 and tells an
// idle connection 421.
func TestShutdownFinishesTransactions(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	ts := startSystem(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A raw connection: the 421 comes unasked, and a command sent to
	// provoke it would race the shutdown (a command that arrives before
	// the server turns to the idle connections gets its normal reply).
	idle := dialRaw(t, ts.Addr(lnSMTP))
	require.True(t, strings.HasPrefix(idle.cmd(""), "220"))
	require.True(t, strings.HasPrefix(idle.cmd("EHLO idle.example"), "250"))

	c, err := smtp.Dial(ctx, ts.Addr(lnSMTP), nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Mail(ctx, "x@elsewhere.example", nil))
	require.NoError(t, c.Rcpt(ctx, "bob@"+testDomain, nil))
	w, err := c.Data(ctx)
	require.NoError(t, err)
	_, err = io.WriteString(w, "Subject: in flight\r\n\r\nfirst half\r\n")
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() { done <- ts.system.Shutdown(ctx) }()
	// Shutdown closes the listeners first; wait for that.
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", ts.Addr(lnSMTP))
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond)
	// The idle connection is told 421 (RFC 5321 §3.8).
	reply := idle.cmd("")
	assert.True(t, strings.HasPrefix(reply, "421 4.3.2 "), "idle connection: %q", reply)

	_, err = io.WriteString(w, "second half\r\n")
	require.NoError(t, err)
	require.NoError(t, w.Close(), "the transaction in progress completes")
	require.NoError(t, <-done)
	got := ts.stored(t, "bob")
	require.Len(t, got, 1)
	assert.True(t, bytes.HasSuffix(got[0], []byte("Subject: in flight\r\n\r\nfirst half\r\nsecond half\r\n")))
}

func TestSeveralRecipientsOneUser(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Domains = []string{testDomain, "other.test"}
	ts := startSystem(t, cfg)
	msg := []byte("Subject: twice\r\n\r\nbody\r\n")
	res, err := ts.submit(t, "alice", alicePass, "alice@other.test", []string{"bob@" + testDomain, "bob@other.test", "alice@" + testDomain}, msg)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Delivered())
	require.Len(t, ts.stored(t, "bob"), 1, "one copy per user")
	require.Len(t, ts.stored(t, "alice"), 1)
	assert.Equal(t, ts.stored(t, "bob"), ts.stored(t, "alice"))
}

func TestFullAddressUser(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Users = append(cfg.Users, userSpec{"carol@carol.example", "carol-pw"})
	ts := startSystem(t, cfg)
	msg := []byte("Subject: to carol\r\n\r\nhi\r\n")
	_, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"carol@carol.example"}, msg)
	require.NoError(t, err, "the domain of a full-address user is local")
	_, err = ts.submit(t, "carol@carol.example", "carol-pw", "carol@carol.example", []string{"bob@" + testDomain}, msg)
	require.NoError(t, err)
	_, err = ts.submit(t, "carol@carol.example", "carol-pw", "carol@"+testDomain, []string{"bob@" + testDomain}, msg)
	requireCode(t, err, 553, "5.7.1")
	assert.Len(t, ts.popAll(t, "carol@carol.example", "carol-pw"), 1)
}

// mimeAttachment finds the attachment named name in msg and decodes it.
func mimeAttachment(msg []byte, name string, out *[]byte) error {
	return mime.Walk(bytes.NewReader(msg), func(p *mime.Part) error {
		if p.IsAttachment() && p.Filename() == name {
			b, err := io.ReadAll(p.Body())
			*out = b
			return err
		}
		return nil
	})
}

// RFC 5321 §4.5.1: postmaster is accepted in every local domain, and as
// <Postmaster>; here it reaches alice, the first user by name.
func TestPostmaster(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := smtp.Dial(ctx, ts.Addr(lnSMTP), nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("x@elsewhere.example"), To: []smtp.Mailbox{smtp.MustParseMailbox("PostMaster@" + testDomain)}}, strings.NewReader("Subject: pm\r\n\r\nhi\r\n"))
	require.NoError(t, err)
	require.NoError(t, c.Mail(ctx, "x@elsewhere.example", nil))
	requireCode(t, c.Rcpt(ctx, "postmaster@elsewhere.example", nil), 550, "5.7.1")
	require.NoError(t, c.Reset(ctx))
	conn, err := net.Dial("tcp", ts.Addr(lnSMTP))
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(conn, "EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nQUIT\r\n")
	require.NoError(t, err)
	out, err := io.ReadAll(conn)
	require.NoError(t, err)
	assert.Regexp(t, `(?s)250 2\.1\.0.*\r\n250 2\.1\.5.*221`, string(out), "RCPT TO:<Postmaster> is accepted")
	assert.Len(t, ts.stored(t, "alice"), 1)
}

// The submission server adds a Date and a Message-ID when a message lacks
// them (RFC 6409 §8.2, §8.3), below the trace fields; the MX does not.
func TestSubmissionAddsDateAndMessageID(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	for i, tc := range []struct {
		msg     string
		added   []string
		through string
	}{
		{"Subject: bare\r\n\r\nbody\r\n", []string{"Date", "Message-ID"}, lnSubmission},
		{"DATE: Mon, 23 Nov 2026 10:00:00 +0000\r\nSubject: dated\r\n\r\nbody\r\n", []string{"Message-ID"}, lnSubmission},
		{"message-id: <x@y>\r\nSubject: id\r\n\r\nbody\r\n", []string{"Date"}, lnSubmission},
		{"\r\nno header at all\r\n", []string{"Date", "Message-ID"}, lnSubmission},
		{"Subject: body has them\r\n\r\nDate: no\r\nMessage-ID: no\r\n", []string{"Date", "Message-ID"}, lnSubmission},
		{"Subject: via MX\r\n\r\nbody\r\n", nil, lnSMTP},
	} {
		if tc.through == lnSubmission {
			_, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, []byte(tc.msg))
			require.NoError(t, err)
		} else {
			c, err := smtp.Dial(context.Background(), ts.Addr(lnSMTP), nil)
			require.NoError(t, err)
			_, err = c.Send(context.Background(), &smtp.Envelope{From: smtp.MustParseMailbox("alice@" + testDomain), To: []smtp.Mailbox{smtp.MustParseMailbox("bob@" + testDomain)}}, strings.NewReader(tc.msg))
			require.NoError(t, err)
			c.Close()
		}
		got := ts.stored(t, "bob")[i]
		require.True(t, bytes.HasSuffix(got, []byte(tc.msg)), "%q", got)
		h, err := message.ReadHeader(bufio.NewReader(bytes.NewReader(append(got[:len(got)-len(tc.msg)], "\r\n"...))), message.Limits{})
		require.NoError(t, err)
		var names []string
		for name := range h.All() {
			names = append(names, name)
		}
		if tc.through == lnSMTP {
			// Mail from outside is checked, not completed.
			assert.Equal(t, []string{"Return-Path", "Authentication-Results", "Received-SPF", "Received"}, names, "%q", tc.msg)
		} else {
			assert.Equal(t, append([]string{"Return-Path", "Received"}, tc.added...), names, "%q", tc.msg)
		}
		if len(tc.added) > 0 && tc.added[0] == "Date" {
			_, err := message.ParseDate(h.Get("Date"))
			assert.NoError(t, err)
		}
	}
}
