package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/selfsigned"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/smtp"
)

// rawConn is a line-level client for checking what a server answers to
// commands a well-behaved client library would not send.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// cmd sends line (unless empty) and returns the last line of the reply
// (SMTP continuation lines "250-..." are skipped).
func (r *rawConn) cmd(line string) string {
	r.t.Helper()
	if line != "" {
		_, err := io.WriteString(r.c, line+"\r\n")
		require.NoError(r.t, err)
	}
	for {
		l, err := r.br.ReadString('\n')
		require.NoError(r.t, err)
		if len(l) >= 4 && l[3] == '-' && l[0] >= '2' && l[0] <= '5' {
			continue
		}
		return strings.TrimRight(l, "\r\n")
	}
}

// Without TLS, the submission port refuses AUTH whatever the mechanism
// (PLAIN sends the password; CRAM-MD5 and SCRAM do not, but the rule is
// TLS first), and POP3 refuses USER, PASS and AUTH until STLS.
func TestNoLoginBeforeTLS(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)

	s := dialRaw(t, ts.Addr(lnSubmission))
	require.True(t, strings.HasPrefix(s.cmd(""), "220"))
	require.True(t, strings.HasPrefix(s.cmd("EHLO client.example"), "250"))
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + alicePass))
	for _, line := range []string{"AUTH PLAIN " + plain, "AUTH CRAM-MD5", "AUTH SCRAM-SHA-256", "AUTH LOGIN"} {
		reply := s.cmd(line)
		assert.True(t, strings.HasPrefix(reply, "5"), "%s before STARTTLS: %q", line, reply)
	}
	reply := s.cmd("MAIL FROM:<alice@" + testDomain + ">")
	assert.True(t, strings.HasPrefix(reply, "530"), "MAIL without AUTH: %q", reply)

	p := dialRaw(t, ts.Addr(lnPOP3))
	require.True(t, strings.HasPrefix(p.cmd(""), "+OK"))
	for _, line := range []string{"USER bob", "PASS " + bobPass, "AUTH CRAM-MD5", "AUTH SCRAM-SHA-256", "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00bob\x00"+bobPass))} {
		reply := p.cmd(line)
		assert.True(t, strings.HasPrefix(reply, "-ERR"), "%s before STLS: %q", line, reply)
	}
	assert.True(t, strings.HasPrefix(p.cmd("STAT"), "-ERR"), "not logged in")
}

// Login names match without regard to case, as addresses do: user names
// are kept in lower case.
func TestLoginIgnoresCase(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	msg := []byte("Subject: case\r\n\r\nbody\r\n")
	_, err := ts.submit(t, "ALICE", alicePass, "Alice@"+testDomain, []string{"Bob@" + strings.ToUpper(testDomain)}, msg)
	require.NoError(t, err, "SCRAM-SHA-256 as ALICE")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, a := range []auth.Client{
		auth.NewPlainClient("", "Alice@Example.Test", alicePass),
		auth.NewCRAMMD5Client("aLiCe", alicePass),
	} {
		c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
		require.NoError(t, err)
		require.NoError(t, c.Auth(ctx, a))
		require.NoError(t, c.Mail(ctx, "alice@"+testDomain, nil), "the sender check finds the user")
		c.Close()
	}
	assert.Len(t, ts.popAll(t, "BOB", bobPass), 1, "POP3 USER/PASS as BOB")
	c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
	require.NoError(t, err)
	defer c.Close()
	requireCode(t, c.Auth(ctx, auth.NewPlainClient("", "ALICE", strings.ToUpper(alicePass))), 535, "5.7.8")
}

// A Maildir removed while the server runs is made again on the next
// delivery, and POP3 serves it (empty) instead of failing.
func TestMaildirRemovedWhileRunning(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	msg := []byte("Subject: one\r\n\r\nbody\r\n")
	_, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, msg)
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(filepath.Join(ts.dir, "mail", "bob")))
	assert.Empty(t, ts.popAll(t, "bob", bobPass))
	require.NoError(t, os.RemoveAll(filepath.Join(ts.dir, "mail", "bob", "new")))
	_, err = ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, msg)
	require.NoError(t, err)
	assert.Len(t, ts.stored(t, "bob"), 1)
	assert.Contains(t, ts.logs.String(), "Maildir missing")
}

func certNotAfter(t *testing.T, path string) (time.Time, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c.NotAfter, c.DNSNames
}

// The generated certificate is made again when it is about to expire or
// when -hostname changed; a valid one is kept.
func TestCertificateRenewed(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	dir := filepath.Join(cfg.DataDir, "tls")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	certPEM, keyPEM, err := selfsigned.Generate([]string{cfg.Hostname, "localhost"}, time.Hour)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600))

	start := func(c *config) string {
		var notice strings.Builder
		_, err := newSystem(c, slog.New(slog.DiscardHandler), &notice)
		require.NoError(t, err)
		return notice.String()
	}
	out := start(cfg)
	assert.Contains(t, out, "Replacing the self-signed certificate")
	notAfter, _ := certNotAfter(t, filepath.Join(dir, "cert.pem"))
	assert.True(t, notAfter.After(time.Now().Add(365*24*time.Hour)), "renewed until %v", notAfter)

	assert.NotContains(t, start(cfg), "certificate", "a valid certificate is kept")

	cfg2 := *cfg
	cfg2.Hostname = "mail.other.test"
	cfg2.Users = nil
	assert.Contains(t, start(&cfg2), "does not name mail.other.test")
	_, names := certNotAfter(t, filepath.Join(dir, "cert.pem"))
	assert.Contains(t, names, "mail.other.test")

	// The server runs with the renewed certificate.
	ts := startSystem(t, &cfg2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pop3.DialTLS(ctx, ts.Addr(lnPOP3S), ts.client)
	require.NoError(t, err)
	require.NoError(t, c.Quit(ctx))
}

// An empty address disables a listener; the others run.
func TestDisabledListeners(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.SMTPAddr, cfg.POP3SAddr, cfg.SubmissionsAddr = "", "", ""
	ts := startSystem(t, cfg)
	assert.Empty(t, ts.Addr(lnSMTP))
	assert.Empty(t, ts.Addr(lnPOP3S))
	assert.Empty(t, ts.Addr(lnSubmissions))
	assert.Len(t, ts.smtp, 1)
	assert.Len(t, ts.pop3, 1)
	_, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, []byte("Subject: x\r\n\r\ny\r\n"))
	require.NoError(t, err)
	assert.Len(t, ts.popAll(t, "bob", bobPass), 1)
	assert.Equal(t, 2, strings.Count(ts.logs.String(), "msg=listening"))
}

// The data directory keeps secrets (password hashes, CRAM-MD5 keys, the
// TLS key, everyone's mail): none of it is readable by other users.
func TestDataPermissions(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	_, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, []byte("Subject: x\r\n\r\ny\r\n"))
	require.NoError(t, err)
	for path, want := range map[string]os.FileMode{
		"":             0o700,
		"mail":         0o700,
		"mail/bob":     0o700,
		"mail/bob/new": 0o700,
		"tls":          0o700,
		"tls/key.pem":  0o600,
		"users":        0o600,
		"tls/cert.pem": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(ts.dir, path))
		require.NoError(t, err, path)
		assert.Equal(t, want, fi.Mode().Perm(), "%s: %v", path, fi.Mode())
	}
	d, err := os.ReadDir(filepath.Join(ts.dir, "mail", "bob", "new"))
	require.NoError(t, err)
	require.Len(t, d, 1)
	fi, err := d[0].Info()
	require.NoError(t, err)
	assert.Zero(t, fi.Mode().Perm()&0o077, "a delivered message is private: %v", fi.Mode())
}
