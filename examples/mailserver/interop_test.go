package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/peer"
)

const peerTimeout = 30 * time.Second

// swaks submits over STARTTLS with each password mechanism, and over
// implicit TLS; the messages arrive in bob's Maildir.
func TestInteropSwaks(t *testing.T) {
	t.Parallel()
	swaks := peer.Path(t, "swaks")
	ts := startSystem(t, nil)
	for i, tc := range []struct{ mech, tlsFlag, listener string }{
		{"PLAIN", "--tls", lnSubmission},
		{"LOGIN", "--tls", lnSubmission},
		{"CRAM-MD5", "--tls", lnSubmission},
		{"CRAM-MD5", "--tlsc", lnSubmissions},
	} {
		out, err := peer.RunErr(peerTimeout, nil, swaks,
			"--server", ts.Addr(tc.listener), tc.tlsFlag,
			"--auth", tc.mech, "--auth-user", "alice", "--auth-password", alicePass,
			"--from", "alice@"+testDomain, "--to", "bob@"+testDomain,
			"--header", "Subject: swaks "+tc.mech, "--body", "sent with "+tc.mech)
		require.NoError(t, err, "swaks %s %s:\n%s", tc.mech, tc.tlsFlag, out)
		assert.Contains(t, out, "250 2.0.0")
		got := ts.stored(t, "bob")
		require.Len(t, got, i+1)
		assert.Contains(t, string(got[i]), "Subject: swaks "+tc.mech)
		assert.True(t, strings.HasPrefix(string(got[i]), "Return-Path: <alice@"+testDomain+">\r\nReceived: from "))
	}

	// A relay attempt on the MX port and an unknown user fail.
	out, err := peer.RunErr(peerTimeout, nil, swaks, "--server", ts.Addr(lnSMTP),
		"--from", "a@elsewhere.example", "--to", "b@elsewhere.example")
	require.Error(t, err)
	assert.Contains(t, out, "550 5.7.1")
	out, err = peer.RunErr(peerTimeout, nil, swaks, "--server", ts.Addr(lnSMTP),
		"--from", "a@elsewhere.example", "--to", "nobody@"+testDomain)
	require.Error(t, err)
	assert.Contains(t, out, "550 5.1.1")
	// AUTH without TLS is not offered.
	out, err = peer.RunErr(peerTimeout, nil, swaks, "--server", ts.Addr(lnSubmission),
		"--auth", "PLAIN", "--auth-user", "alice", "--auth-password", alicePass,
		"--from", "alice@"+testDomain, "--to", "bob@"+testDomain)
	require.Error(t, err, "%s", out)
	assert.Len(t, ts.stored(t, "bob"), 4)
}

const smtplibScript = `
import smtplib, ssl, sys
from email.message import EmailMessage
host, port, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
msg = EmailMessage()
msg["From"] = user + "@example.test"
msg["To"] = "bob@example.test"
msg["Subject"] = "from smtplib"
msg.set_content("Hello from Python.\n")
msg.add_attachment(bytes(range(256)) * 4, maintype="application", subtype="octet-stream", filename="bytes.bin")
with smtplib.SMTP(host, int(port), timeout=20) as s:
    s.starttls(context=ctx)
    s.login(user, password)
    s.send_message(msg)
print("sent")
`

const poplibScript = `
import poplib, ssl, sys, email, email.policy
host, port, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
p = poplib.POP3(host, int(port), timeout=20)
p.stls(context=ctx)
p.user(user)
p.pass_(password)
count, size = p.stat()
print("count", count)
for i in range(1, count + 1):
    lines = p.retr(i)[1]
    m = email.message_from_bytes(b"\r\n".join(lines), policy=email.policy.default)
    print("subject", m["Subject"])
    print("received", "with ESMTPSA" in m["Received"])
    for part in m.iter_attachments():
        print("attachment", part.get_filename(), part.get_content() == bytes(range(256)) * 4)
p.quit()
`

// Python's smtplib submits (STARTTLS, AUTH) and poplib retrieves (STLS).
func TestInteropPython(t *testing.T) {
	t.Parallel()
	py := peer.Python(t, "smtplib", "poplib")
	ts := startSystem(t, nil)
	dir := t.TempDir()
	send, recv := filepath.Join(dir, "send.py"), filepath.Join(dir, "recv.py")
	require.NoError(t, os.WriteFile(send, []byte(smtplibScript), 0o600))
	require.NoError(t, os.WriteFile(recv, []byte(poplibScript), 0o600))
	host, port, _ := net.SplitHostPort(ts.Addr(lnSubmission))
	out := peer.Run(t, peerTimeout, py, send, host, port, ts.certFile(), "alice", alicePass)
	assert.Contains(t, out, "sent")
	host, port, _ = net.SplitHostPort(ts.Addr(lnPOP3))
	out = peer.Run(t, peerTimeout, py, recv, host, port, ts.certFile(), "bob", bobPass)
	assert.Contains(t, out, "count 1\n")
	assert.Contains(t, out, "subject from smtplib\n")
	assert.Contains(t, out, "received True\n")
	assert.Contains(t, out, "attachment bytes.bin True\n")
}

// curl retrieves over POP3 with STLS (and over implicit TLS), byte for
// byte what the Maildir holds.
func TestInteropCurlPOP3(t *testing.T) {
	t.Parallel()
	curl := peer.Path(t, "curl")
	ts := startSystem(t, nil)
	msg := composeWithAttachment(t, bytes.Repeat([]byte("attachment\x00\xff"), 1000))
	_, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, msg)
	require.NoError(t, err)
	want := ts.stored(t, "bob")[0]

	list := peer.Run(t, peerTimeout, curl, "-sS", "--ssl-reqd", "-k", "-u", "bob:"+bobPass, "pop3://"+ts.Addr(lnPOP3)+"/")
	assert.Equal(t, "1 "+strconv.Itoa(len(want))+"\r\n", list)
	got := peer.Run(t, peerTimeout, curl, "-sS", "--ssl-reqd", "-k", "-u", "bob:"+bobPass, "pop3://"+ts.Addr(lnPOP3)+"/1")
	assert.Equal(t, string(want), got)
	got = peer.Run(t, peerTimeout, curl, "-sS", "--cacert", ts.certFile(), "-u", "bob@"+testDomain+":"+bobPass, "pop3s://localhost:"+port(ts.Addr(lnPOP3S))+"/1")
	assert.Equal(t, string(want), got)
	// Without TLS curl cannot log in.
	_, err = peer.RunErr(peerTimeout, nil, curl, "-sS", "-u", "bob:"+bobPass, "pop3://"+ts.Addr(lnPOP3)+"/1")
	assert.Error(t, err)
}

// gsasl authenticates on the submission port with SCRAM-SHA-256, with and
// without channel binding.
func TestInteropGsaslSCRAM(t *testing.T) {
	t.Parallel()
	gsasl := peer.Path(t, "gsasl")
	ts := startSystem(t, nil)
	host, p, _ := net.SplitHostPort(ts.Addr(lnSubmission))
	for _, tc := range []struct {
		mech  string
		extra []string
	}{
		{"SCRAM-SHA-256-PLUS", nil},
		{"SCRAM-SHA-256", []string{"--no-cb"}},
	} {
		args := append([]string{"--smtp", host, p, "--mechanism=" + tc.mech, "-a", "alice", "-p", alicePass,
			"--x509-ca-file=" + ts.certFile(), "--quiet"}, tc.extra...)
		out, err := peer.RunErr(peerTimeout, []byte{}, gsasl, args...)
		require.NoError(t, err, "gsasl %s:\n%s", tc.mech, out)
		assert.Contains(t, ts.logs.String(), "mech="+tc.mech+" user=alice")
		args[6] = "wrong"
		_, err = peer.RunErr(peerTimeout, []byte{}, gsasl, args...)
		assert.Error(t, err, "wrong password")
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

const smtputf8Script = `
import smtplib, sys
host, port = sys.argv[1:3]
msg = "From: Jöran <jöran@bücher.example>\r\nTo: bob@example.test\r\nSubject: Grüße\r\n\r\nHallo Bob.\r\n".encode("utf-8")
with smtplib.SMTP(host, int(port), timeout=20) as s:
    s.ehlo("xn--bcher-kva.example")
    s.sendmail("jöran@bücher.example", ["bob@example.test"], msg, mail_options=["SMTPUTF8"])
print("sent")
`

const poplibUTF8Script = `
import poplib, ssl, sys
host, port, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
p = poplib.POP3(host, int(port), timeout=20)
p.stls(context=ctx)
p.user(user)
p.pass_(password)
for line in p.retr(1)[1]:
    print(line.decode("utf-8"))
p.quit()
`

// A sender with a UTF-8 address (RFC 6531), as Python's smtplib sends it to
// the MX port, is delivered with UTF-8 in its trace fields, not refused at
// the end of DATA; poplib reads it back.
func TestInteropSMTPUTF8Sender(t *testing.T) {
	t.Parallel()
	py := peer.Python(t, "smtplib", "poplib")
	ts := startSystem(t, nil)
	dir := t.TempDir()
	send, recv := filepath.Join(dir, "send.py"), filepath.Join(dir, "recv.py")
	require.NoError(t, os.WriteFile(send, []byte(smtputf8Script), 0o600))
	require.NoError(t, os.WriteFile(recv, []byte(poplibUTF8Script), 0o600))
	host, port, _ := net.SplitHostPort(ts.Addr(lnSMTP))
	assert.Contains(t, peer.Run(t, peerTimeout, py, send, host, port), "sent")
	host, port, _ = net.SplitHostPort(ts.Addr(lnPOP3))
	out := peer.Run(t, peerTimeout, py, recv, host, port, ts.certFile(), "bob", bobPass)
	assert.Contains(t, out, "Return-Path: <jöran@bücher.example>")
	assert.Contains(t, out, "with UTF8SMTP")
	assert.Contains(t, out, "Subject: Grüße")
	assert.Contains(t, out, "Hallo Bob.")
}
