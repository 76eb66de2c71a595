package smtp_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/smtp"
	"github.com/mailwire/mailwire/smtp/smtptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func interopCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sharedDir makes a directory that an unprivileged peer can write to.
func sharedDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "mailwire-smtp-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	return dir
}

const interopMsg = "From: a@a.example.test\r\nTo: b@b.example.test\r\nSubject: interop\r\n\r\n.leading dot\r\nsecond line\r\n..two dots\r\n.\r\nlast\r\n"

// startSink runs Postfix's smtp-sink with extra options, dumping every
// transaction to one file that it returns.
func startSink(t *testing.T, opts ...string) (addr, dump string) {
	sink := peer.Path(t, "smtp-sink")
	dump = filepath.Join(sharedDir(t), "dump")
	_, ports := peer.StartServer(t, peer.ServerOptions{}, func(ports []int) *exec.Cmd {
		args := append([]string{"-u", "nobody", "-D", dump}, opts...)
		return exec.Command(sink, append(args, peer.Addr(ports[0]), "16")...)
	})
	return peer.Addr(ports[0]), dump
}

func TestInteropSMTPSink(t *testing.T) {
	t.Parallel()
	t.Run("pipelined", func(t *testing.T) {
		addr, dump := startSink(t)
		ctx := interopCtx(t)
		c, err := smtp.Dial(ctx, addr, nil)
		require.NoError(t, err)
		_, ok := c.Extension("PIPELINING")
		require.True(t, ok)
		for i := range 5 {
			res, err := c.Send(ctx, &smtp.Envelope{
				From:        smtp.MustParseMailbox("a@a.example.test"),
				MailOptions: &smtp.MailOptions{Body: smtp.Body8BitMIME, EnvelopeID: fmt.Sprintf("id+%d", i), Return: smtp.ReturnHeaders},
				To:          []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test"), smtp.MustParseMailbox("c@b.example.test"), smtp.MustParseMailbox("d@b.example.test")},
				RcptOptions: []*smtp.RcptOptions{{Notify: []smtp.DSNNotify{smtp.NotifyFailure}, OriginalRecipient: "b@b.example.test"}, nil, nil},
			}, strings.NewReader(interopMsg))
			require.NoError(t, err)
			assert.Equal(t, 3, res.Delivered())
		}
		require.NoError(t, c.Quit(ctx))
		// The dump holds each message as received, dots unstuffed.
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(dump)
			return strings.Count(string(b), "Subject: interop") == 5
		}, 10*time.Second, 20*time.Millisecond)
		b, _ := os.ReadFile(dump)
		assert.Contains(t, strings.ReplaceAll(string(b), "\r\n", "\n"), "\n.leading dot\nsecond line\n..two dots\n.\nlast\n")
	})
	t.Run("8-bit message to a server without 8BITMIME", func(t *testing.T) {
		// smtp-sink -8 does not announce 8BITMIME (RFC 6152): an 8-bit
		// message fails before MAIL, or goes converted with Downgrade.
		addr, dump := startSink(t, "-8")
		ctx := interopCtx(t)
		c, err := smtp.Dial(ctx, addr, nil)
		require.NoError(t, err)
		defer c.Close()
		_, ok := c.Extension("8BITMIME")
		require.False(t, ok)
		const msg = "From: a@a.example.test\r\nTo: b@b.example.test\r\nSubject: interop 8bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln\r\n"
		env := &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")},
			MailOptions: &smtp.MailOptions{Body: smtp.Body8BitMIME}}
		_, err = c.Send(ctx, env, strings.NewReader(msg))
		var ue *smtp.UnsupportedError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "8BITMIME", ue.Extension)
		require.NoError(t, c.Quit(ctx))

		// With a Downgrade (mime.To7bit in real use; stdlib
		// quoted-printable here, as the smtp package's tests do not depend
		// on mime), the message goes converted, without BODY=8BITMIME.
		c, err = smtp.Dial(ctx, addr, &smtp.ClientOptions{Downgrade: func(dst io.Writer, src io.Reader) error {
			qp := quotedprintable.NewWriter(dst)
			if _, err := io.Copy(qp, src); err != nil {
				return err
			}
			return qp.Close()
		}})
		require.NoError(t, err)
		defer c.Close()
		res, err := c.Send(ctx, env, strings.NewReader(msg))
		require.NoError(t, err)
		assert.Equal(t, 1, res.Delivered())
		require.NoError(t, c.Quit(ctx))
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(dump)
			return strings.Contains(string(b), "interop 8bit")
		}, 10*time.Second, 20*time.Millisecond)
		b, _ := os.ReadFile(dump)
		got := string(b)
		assert.Contains(t, got, "Gr=C3=BC=C3=9Fe aus K=C3=B6ln")
		assert.NotContains(t, got, "BODY=8BITMIME")
		for i := 0; i < len(got); i++ {
			require.Less(t, got[i], byte(0x80), "8-bit octet in the dump at %d", i)
		}
	})
	t.Run("AUTH over cleartext when allowed", func(t *testing.T) {
		addr, _ := startSink(t)
		ctx := interopCtx(t)
		c, err := smtp.Dial(ctx, addr, &smtp.ClientOptions{AllowInsecureAuth: true})
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Auth(ctx, auth.NewPlainClient("", "user", "pass")))
		require.NoError(t, c.Quit(ctx))
	})
	t.Run("soft-rejected RCPT without pipelining", func(t *testing.T) {
		addr, _ := startSink(t, "-r", "RCPT")
		ctx := interopCtx(t)
		c, err := smtp.Dial(ctx, addr, nil)
		require.NoError(t, err)
		defer c.Close()
		_, ok := c.Extension("PIPELINING")
		require.False(t, ok)
		res, err := c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test"), smtp.MustParseMailbox("c@b.example.test")}}, strings.NewReader(interopMsg))
		var de *smtp.DeliveryError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, 0, de.Delivered)
		assert.True(t, smtp.IsTemporary(err))
		assert.Equal(t, 0, res.Delivered())
		require.NoError(t, c.Noop(ctx), "the session goes on")
	})
	t.Run("hard-rejected end of data", func(t *testing.T) {
		addr, _ := startSink(t, "-f", ".")
		ctx := interopCtx(t)
		c, err := smtp.Dial(ctx, addr, nil)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader(interopMsg))
		var e *smtp.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 5, e.Code/100)
		assert.True(t, smtp.IsPermanent(err))
	})
	t.Run("421 after MAIL", func(t *testing.T) {
		addr, _ := startSink(t, "-Q", "MAIL")
		ctx := interopCtx(t)
		c, err := smtp.Dial(ctx, addr, nil)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader(interopMsg))
		require.Error(t, err)
		assert.Error(t, c.Noop(ctx))
	})
	t.Run("LMTP", func(t *testing.T) {
		addr, dump := startSink(t, "-L")
		ctx := interopCtx(t)
		c, err := smtp.Dial(ctx, addr, &smtp.ClientOptions{LMTP: true})
		require.NoError(t, err)
		res, err := c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test"), smtp.MustParseMailbox("c@b.example.test")}}, strings.NewReader(interopMsg))
		require.NoError(t, err)
		assert.Equal(t, 2, res.Delivered())
		require.NoError(t, c.Quit(ctx))
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(dump)
			return strings.Contains(string(b), "X-Client-Proto: LMTP")
		}, 10*time.Second, 20*time.Millisecond)
	})
	t.Run("SendMail", func(t *testing.T) {
		addr, dump := startSink(t)
		require.NoError(t, smtp.SendMail(interopCtx(t), addr, nil, "a@a.example.test", []string{"b@b.example.test"}, strings.NewReader(interopMsg)))
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(dump)
			return strings.Contains(string(b), "Subject: interop")
		}, 10*time.Second, 20*time.Millisecond)
	})
}

const aiosmtpdScript = `
import base64, json, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        rec = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": base64.b64encode(envelope.original_content).decode(),
            "tls": session.ssl is not None,
            "auth": session.authenticated,
            "options": envelope.mail_options,
        }
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        return "250 2.0.0 stored"

def authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login == b"user" and auth_data.password == b"secret":
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=ctx,
               require_starttls=True, auth_required=True, authenticator=authenticator,
               enable_SMTPUTF8=True)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()
`

type aiosmtpdRecord struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Data    string   `json:"data"`
	TLS     bool     `json:"tls"`
	Auth    bool     `json:"auth"`
	Options []string `json:"options"`
}

func TestInteropAiosmtpd(t *testing.T) {
	t.Parallel()
	py := peer.Python(t, "aiosmtpd")
	pair, caFile := peer.TLS(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(keyFile, pair.KeyPEM, 0o600))
	script := filepath.Join(dir, "server.py")
	require.NoError(t, os.WriteFile(script, []byte(aiosmtpdScript), 0o600))
	out := filepath.Join(dir, "messages.jsonl")
	port := peer.FreePort(t)
	addr := peer.Addr(port)

	cmd := exec.Command(py, script, fmt.Sprint(port), caFile, keyFile, out)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("aiosmtpd stderr:\n%s", stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, stderr.String())
	require.Equal(t, "READY\n", line)

	ctx := interopCtx(t)
	opts := &smtp.ClientOptions{TLSConfig: pair.Client, LocalName: "client.example.test"}

	t.Run("cleartext AUTH refused by the client", func(t *testing.T) {
		c, err := smtp.Dial(ctx, addr, opts)
		require.NoError(t, err)
		defer c.Close()
		require.ErrorIs(t, c.Auth(ctx, auth.NewPlainClient("", "user", "secret")), smtp.ErrInsecureAuth)
	})
	t.Run("STARTTLS, AUTH PLAIN, Send", func(t *testing.T) {
		c, err := smtp.DialStartTLS(ctx, addr, opts)
		require.NoError(t, err)
		err = c.Auth(ctx, auth.NewPlainClient("", "user", "wrong"))
		var e *smtp.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 535, e.Code)
		require.NoError(t, c.Auth(ctx, auth.NewPlainClient("", "user", "secret")))
		res, err := c.Send(ctx, &smtp.Envelope{
			From: smtp.MustParseMailbox("a@a.example.test"),
			To:   []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test"), smtp.MustParseMailbox("reject@b.example.test"), smtp.MustParseMailbox("c@b.example.test")},
		}, strings.NewReader(interopMsg))
		var de *smtp.DeliveryError
		require.ErrorAs(t, err, &de)
		require.Len(t, de.Failed, 1)
		assert.Equal(t, "reject@b.example.test", de.Failed[0].Addr.String())
		assert.True(t, smtp.IsPermanent(de.Failed[0].Err))
		assert.Equal(t, 2, res.Delivered())
		require.NoError(t, c.Quit(ctx))
	})
	t.Run("LOGIN and SMTPUTF8 with the lockstep API", func(t *testing.T) {
		c, err := smtp.DialStartTLS(ctx, addr, opts)
		require.NoError(t, err)
		require.NoError(t, c.Auth(ctx, auth.NewLoginClient("user", "secret")))
		require.NoError(t, c.Mail(ctx, "jörg@a.example.test", nil))
		require.NoError(t, c.Rcpt(ctx, "d@b.example.test", nil))
		w, err := c.Data(ctx)
		require.NoError(t, err)
		_, err = io.WriteString(w, "Subject: lockstep\n\n.dot\nbody")
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, c.Quit(ctx))
	})

	b, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	var recs [2]aiosmtpdRecord
	for i := range recs {
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &recs[i]))
		assert.True(t, recs[i].TLS)
		assert.True(t, recs[i].Auth)
	}
	assert.Equal(t, "a@a.example.test", recs[0].From)
	assert.Equal(t, []string{"b@b.example.test", "c@b.example.test"}, recs[0].To)
	data, _ := base64.StdEncoding.DecodeString(recs[0].Data)
	assert.Equal(t, interopMsg, string(data))
	assert.Equal(t, "jörg@a.example.test", recs[1].From)
	assert.Contains(t, recs[1].Options, "SMTPUTF8")
	data, _ = base64.StdEncoding.DecodeString(recs[1].Data)
	assert.Equal(t, "Subject: lockstep\r\n\r\n.dot\r\nbody\r\n", string(data))
}

// TestInteropAiosmtpdCLI delivers to "python3 -m aiosmtpd -n", which prints
// what it receives.
func TestInteropAiosmtpdCLI(t *testing.T) {
	t.Parallel()
	py := peer.Python(t, "aiosmtpd")
	p, ports := peer.StartServer(t, peer.ServerOptions{}, func(ports []int) *exec.Cmd {
		return exec.Command(py, "-m", "aiosmtpd", "-n", "-l", peer.Addr(ports[0]))
	})
	addr := peer.Addr(ports[0])
	require.NoError(t, smtp.SendMail(interopCtx(t), addr, nil, "a@a.example.test", []string{"b@b.example.test"}, strings.NewReader(interopMsg)))
	p.Kill()
	out := p.Stdout() + p.Stderr()
	assert.Contains(t, out, "Subject: interop")
	assert.Contains(t, out, "..two dots")
}

func TestInteropDovecotLMTP(t *testing.T) {
	t.Parallel()
	d := peer.StartDovecot(t, peer.DovecotOptions{
		Protocols: []string{"lmtp"},
		Users:     map[string]string{"bob": "x", "carol": "y"},
	})
	addr := peer.Addr(d.LMTPPort)
	for _, tc := range []struct {
		name string
		opts smtp.ClientOptions
	}{
		{"default", smtp.ClientOptions{LMTP: true}},
		{"DATA", smtp.ClientOptions{LMTP: true, NoChunking: true}},
		{"no pipelining, small chunks", smtp.ClientOptions{LMTP: true, NoPipelining: true, ChunkSize: 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := interopCtx(t)
			c, err := smtp.Dial(ctx, addr, &tc.opts)
			require.NoError(t, err)
			t.Logf("LHLO: %v", c.Extensions())
			subject := "lmtp " + tc.name
			msg := strings.Replace(interopMsg, "Subject: interop", "Subject: "+subject, 1)
			res, err := c.Send(ctx, &smtp.Envelope{
				From: smtp.MustParseMailbox("a@a.example.test"),
				To:   []smtp.Mailbox{smtp.MustParseMailbox("bob@example.test"), smtp.MustParseMailbox("nobody@example.test"), smtp.MustParseMailbox("carol@example.test")},
			}, strings.NewReader(msg))
			var de *smtp.DeliveryError
			require.ErrorAs(t, err, &de)
			require.Len(t, de.Failed, 1)
			assert.Equal(t, "nobody@example.test", de.Failed[0].Addr.String())
			assert.True(t, smtp.IsPermanent(de.Failed[0].Err))
			assert.Equal(t, 2, res.Delivered())
			require.NoError(t, c.Quit(ctx))

			for _, user := range []string{"bob", "carol"} {
				out := d.Doveadm(t, "fetch", "-u", user, "text", "header", "Subject", subject)
				body := strings.ReplaceAll(out, "\r\n", "\n")
				assert.Contains(t, body, "\n.leading dot\nsecond line\n..two dots\n.\nlast\n", user)
			}
		})
	}
}

// startPostfix runs a private Postfix relaying everything it accepts to
// relay ("host:port"), optionally offering STARTTLS; it returns its address
// and the CA file for its certificate.
func startPostfix(t *testing.T, relay string, withTLS bool) (addr string, caFile string) {
	t.Helper()
	host, port, err := net.SplitHostPort(relay)
	require.NoError(t, err)
	extra := fmt.Sprintf(`relayhost = [%s]:%s
smtpd_recipient_restrictions = check_recipient_access inline:{ {refused@b.example.test = 550 5.1.1 no such user}, {later@b.example.test = 450 4.2.1 try later} }, permit_mynetworks, reject
smtp_tls_security_level = none
`, host, port)
	if withTLS {
		pair, ca := peer.TLS(t)
		dir := sharedDir(t)
		cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		require.NoError(t, os.WriteFile(cert, pair.CertPEM, 0o644))
		require.NoError(t, os.WriteFile(key, pair.KeyPEM, 0o600))
		extra += fmt.Sprintf("smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\nsmtpd_tls_security_level = may\n", cert, key)
		caFile = ca
	}
	addr, _ = smtp.StartTestPostfix(t, extra)
	return addr, caFile
}

// TestInteropPostfix sends through a real Postfix smtpd (PIPELINING,
// CHUNKING, STARTTLS, SMTPUTF8, DSN), which queues each message and relays it
// to an smtptest server, where the test checks what arrived.
func TestInteropPostfix(t *testing.T) {
	t.Parallel()
	sink := smtptest.NewServer(t)
	addr, caFile := startPostfix(t, sink.Addr, true)
	ca, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	opts := &smtp.ClientOptions{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, LocalName: "client.example.test"}

	ctx := interopCtx(t)
	cases := []struct {
		name string
		opts smtp.ClientOptions
		env  smtp.Envelope
	}{
		{"BDAT", *opts, smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("bdat1@b.example.test"), smtp.MustParseMailbox("bdat2@b.example.test")}}},
		{"DATA", smtp.ClientOptions{TLSConfig: opts.TLSConfig, NoChunking: true}, smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("data@b.example.test")}}},
		{"lockstep small chunks", smtp.ClientOptions{TLSConfig: opts.TLSConfig, NoPipelining: true, ChunkSize: 7}, smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("chunks@b.example.test")}}},
		{"SMTPUTF8 and DSN", *opts, smtp.Envelope{
			From:        smtp.MustParseMailbox("jörg@a.example.test"),
			MailOptions: &smtp.MailOptions{Return: smtp.ReturnHeaders, EnvelopeID: "env+1", Body: smtp.Body8BitMIME},
			To:          []smtp.Mailbox{smtp.MustParseMailbox("dsn@b.example.test")},
			RcptOptions: []*smtp.RcptOptions{{Notify: []smtp.DSNNotify{smtp.NotifyFailure, smtp.NotifyDelay}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := smtp.DialStartTLS(ctx, addr, &tc.opts)
			require.NoError(t, err)
			_, ok := c.Extension("CHUNKING")
			require.True(t, ok)
			msg := strings.Replace(interopMsg, "Subject: interop", "Subject: postfix "+tc.name, 1)
			res, err := c.Send(ctx, &tc.env, strings.NewReader(msg))
			require.NoError(t, err)
			assert.Contains(t, res.Reply.Message(), "queued as")
			require.NoError(t, c.Quit(ctx))
		})
	}
	// Postfix refuses what it will not relay, per recipient.
	t.Run("refusals", func(t *testing.T) {
		c, err := smtp.Dial(ctx, addr, nil)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{{Local: "bad\r\naddress", Domain: "b.example.test"}}}, strings.NewReader(interopMsg))
		require.Error(t, err, "the client refuses a malformed address before sending")
		res, err := c.Send(ctx, &smtp.Envelope{
			From: smtp.MustParseMailbox("a@a.example.test"),
			To:   []smtp.Mailbox{smtp.MustParseMailbox("refused@b.example.test"), smtp.MustParseMailbox("ok@b.example.test"), smtp.MustParseMailbox("later@b.example.test")},
		}, strings.NewReader(interopMsg))
		var de *smtp.DeliveryError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, 1, de.Delivered)
		require.Len(t, de.Failed, 2)
		assert.True(t, smtp.IsPermanent(res.Rcpts[0].Err))
		assert.NoError(t, res.Rcpts[1].Err)
		assert.True(t, smtp.IsTemporary(res.Rcpts[2].Err))
		var e *smtp.Error
		require.ErrorAs(t, res.Rcpts[0].Err, &e)
		assert.Equal(t, smtp.EnhancedCode{Class: 5, Subject: 1, Detail: 1}, e.EnhancedCode)
		assert.Contains(t, e.Message, "no such user")
	})

	// Wait for Postfix's queue manager to relay everything to the sink.
	want := len(cases) + 1
	require.Eventually(t, func() bool { return len(sink.Messages()) >= want }, 30*time.Second, 50*time.Millisecond)
	got := map[string]smtptest.Message{}
	for _, m := range sink.Messages() {
		for _, to := range m.To {
			got[to] = m
		}
	}
	for _, tc := range cases {
		for _, to := range tc.env.To {
			m, ok := got[to.String()]
			require.True(t, ok, "nothing relayed for %s", to)
			body := string(m.Data)
			assert.Contains(t, body, "Subject: postfix "+tc.name, to)
			assert.Contains(t, body, "\r\n\r\n.leading dot\r\nsecond line\r\n..two dots\r\n.\r\nlast\r\n", to)
			assert.Equal(t, tc.env.From.String(), m.From)
		}
	}
	assert.Contains(t, got, "ok@b.example.test")
	assert.NotContains(t, got, "refused@b.example.test")
	dsn := got["dsn@b.example.test"]
	assert.True(t, dsn.MailOptions.UTF8)
}
