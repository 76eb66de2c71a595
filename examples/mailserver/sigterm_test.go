package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/smtp"
)

// SIGTERM to the built binary while clients are in the middle of a
// transaction: a submission in the middle of DATA (STARTTLS, AUTH) and a
// BDAT transaction on the MX between its chunks both finish with 250 and
// are delivered whole; an idle SMTP connection gets 421; a POP3 session
// that marked a message deleted ends without deleting it (no QUIT, no
// UPDATE state, RFC 1939 §6); the process exits with status 0.
func TestBinarySIGTERMFinishesTransactions(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, ".")
	data := filepath.Join(t.TempDir(), "data")
	p, pp := startServer(t, bin, t.TempDir, "-data", data, "-hostname", "mx.example.test", "-domain", testDomain,
		"-user", "alice:"+alicePass, "-user", "bob:"+bobPass)
	tc := clientTLS(t, filepath.Join(data, "tls", "cert.pem"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A message for alice, which her POP3 session marks deleted.
	mx, err := smtp.Dial(ctx, pp.smtp, nil)
	require.NoError(t, err)
	_, err = mx.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("someone@elsewhere.example"), To: []smtp.Mailbox{smtp.MustParseMailbox("alice@" + testDomain)}}, strings.NewReader("Subject: keep me\r\n\r\nbody\r\n"))
	require.NoError(t, err)
	require.NoError(t, mx.Quit(ctx))
	pc, err := pop3.DialTLS(ctx, pp.pop3s, tc)
	require.NoError(t, err)
	defer pc.Close()
	require.NoError(t, pc.Login(ctx, "alice", alicePass))
	require.NoError(t, pc.Dele(ctx, 1))

	// An idle SMTP connection.
	idle := dialRaw(t, pp.smtp)
	require.True(t, strings.HasPrefix(idle.cmd(""), "220"))
	require.True(t, strings.HasPrefix(idle.cmd("EHLO idle.example"), "250"))

	// A submission in the middle of DATA.
	sub, err := smtp.DialStartTLS(ctx, pp.submission, &smtp.ClientOptions{TLSConfig: tc, NoChunking: true})
	require.NoError(t, err)
	defer sub.Close()
	require.NoError(t, sub.Auth(ctx, auth.NewPlainClient("", "alice", alicePass)))
	require.NoError(t, sub.Mail(ctx, "alice@"+testDomain, nil))
	require.NoError(t, sub.Rcpt(ctx, "bob@"+testDomain, nil))
	w, err := sub.Data(ctx)
	require.NoError(t, err)
	first := "Date: Tue, 24 Nov 2026 06:00:00 +0000\r\nMessage-ID: <sigterm@example.test>\r\nSubject: in flight\r\n\r\n" +
		strings.Repeat("first half of the message\r\n", 2000)
	second := strings.Repeat("second half\r\n", 2000) + ".last line, dot-stuffed on the wire\r\n"
	_, err = io.WriteString(w, first)
	require.NoError(t, err)

	// A BDAT transaction on the MX between its chunks (RFC 3030).
	raw := dialRaw(t, pp.smtp)
	require.True(t, strings.HasPrefix(raw.cmd(""), "220"))
	require.True(t, strings.HasPrefix(raw.cmd("EHLO client.example"), "250"))
	require.True(t, strings.HasPrefix(raw.cmd("MAIL FROM:<someone@elsewhere.example>"), "250"))
	require.True(t, strings.HasPrefix(raw.cmd("RCPT TO:<bob@"+testDomain+">"), "250"))
	chunk1 := "Subject: chunked\r\n\r\nfirst chunk\r\n"
	chunk2 := "second chunk\r\n"
	reply := raw.bdat(chunk1, "")
	require.True(t, strings.HasPrefix(reply, "250"), reply)

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	// Wait until the server is shutting down: it logged so and its
	// listeners are closed.
	require.Eventually(t, func() bool { return strings.Contains(p.stderr.String(), `msg="shutting down"`) },
		20*time.Second, 5*time.Millisecond, "the server logs the signal")
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", pp.submission)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 20*time.Second, 5*time.Millisecond, "the listeners close")

	// RFC 5321 §3.8: the idle connection is told 421, unasked.
	reply = idle.cmd("")
	assert.True(t, strings.HasPrefix(reply, "421 4.3.2 "), "idle connection: %q", reply)

	// The transactions in progress complete.
	_, err = io.WriteString(w, second)
	require.NoError(t, err)
	require.NoError(t, w.Close(), "the submission in DATA gets 250")
	reply = raw.bdat(chunk2, " LAST")
	assert.True(t, strings.HasPrefix(reply, "250"), "BDAT LAST: %q", reply)

	require.NoError(t, p.wait(t), "exit status 0 after SIGTERM")
	stderr := p.stderr.String()
	assert.Contains(t, stderr, "msg=stopped")
	assert.NotContains(t, stderr, "level=ERROR")

	// Both messages are in bob's Maildir, whole, and alice's is kept.
	got := storedIn(t, filepath.Join(data, "mail", "bob"))
	require.Len(t, got, 2)
	var submitted, chunked []byte
	for _, m := range got {
		if bytes.Contains(m, []byte("Subject: in flight")) {
			submitted = m
		} else {
			chunked = m
		}
	}
	require.NotNil(t, submitted)
	rcv := splitTrace(t, submitted, []byte(first+second), "alice@"+testDomain)
	assert.Equal(t, "ESMTPSA", rcv.With)
	require.NotNil(t, chunked)
	splitTrace(t, chunked, []byte(chunk1+chunk2), "someone@elsewhere.example")
	assert.Len(t, storedIn(t, filepath.Join(data, "mail", "alice")), 1, "DELE without QUIT deletes nothing")
}

// When the grace period of a shutdown ends (30 s after SIGTERM in main), a
// transaction still in DATA is cut off: the client is told 421 (RFC 5321
// §3.8), the connection is closed and nothing of the message is delivered,
// in new or left behind in the spool.
func TestShutdownDeadlineClosesStuckTransaction(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	logs := &syncBuffer{}
	// Not startSystem: its cleanup expects a clean shutdown.
	sys, err := newSystem(cfg, slog.New(slog.NewTextHandler(logs, nil)), io.Discard)
	require.NoError(t, err)
	require.NoError(t, sys.Start())

	raw := dialRaw(t, sys.Addr(lnSMTP))
	require.True(t, strings.HasPrefix(raw.cmd(""), "220"))
	require.True(t, strings.HasPrefix(raw.cmd("EHLO client.example"), "250"))
	require.True(t, strings.HasPrefix(raw.cmd("MAIL FROM:<someone@elsewhere.example>"), "250"))
	require.True(t, strings.HasPrefix(raw.cmd("RCPT TO:<bob@"+testDomain+">"), "250"))
	require.True(t, strings.HasPrefix(raw.cmd("DATA"), "354"))
	_, err = io.WriteString(raw.c, "Subject: stuck\r\n\r\n"+strings.Repeat("never finished\r\n", 1000))
	require.NoError(t, err)
	// The message is being written to the spool.
	spool := filepath.Join(cfg.DataDir, "spool")
	require.Eventually(t, func() bool {
		d, _ := os.ReadDir(spool)
		return len(d) == 1
	}, 20*time.Second, 5*time.Millisecond, "a message being received in the spool")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = sys.Shutdown(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the transaction did not finish in time")

	// The client is told, then the connection is closed.
	line, err := raw.br.ReadString('\n')
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(line, "421 4.3.2 "), "%q", line)
	_, err = raw.br.ReadString('\n')
	require.Error(t, err)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server closed the connection: %v", err)
	// Nothing delivered; the partial message is removed from the spool.
	require.Eventually(t, func() bool {
		d, _ := os.ReadDir(spool)
		return len(d) == 0
	}, 20*time.Second, 5*time.Millisecond, "the spool is emptied")
	assert.Empty(t, storedIn(t, filepath.Join(cfg.DataDir, "mail", "bob")))
	assert.NotContains(t, logs.String(), "msg=delivered")
}

// bdat sends chunk with BDAT (RFC 3030 §2) and returns the reply.
func (r *rawConn) bdat(chunk, last string) string {
	r.t.Helper()
	_, err := fmt.Fprintf(r.c, "BDAT %d%s\r\n%s", len(chunk), last, chunk)
	require.NoError(r.t, err)
	return r.cmd("")
}
