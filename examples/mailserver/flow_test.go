package main

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
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
	"github.com/mailwire/mailwire/mime"
)

// flowPoplibScript retrieves the only message of a maildrop over POP3 with
// STLS, verifying the server's certificate against cafile, and writes the
// message's bytes, as they were before dot-stuffing, to out.
const flowPoplibScript = `
import poplib, ssl, sys
host, port, cafile, user, password, out = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
p = poplib.POP3(host, int(port), timeout=20)
p.stls(context=ctx)
p.user(user)
p.pass_(password)
count, _ = p.stat()
print("count", count)
listed = int(p.list(1).split()[2])
resp, lines, octets = p.retr(1)
data = b"".join(line + b"\r\n" for line in lines)
print("listed", listed, "retrieved", len(data))
with open(out, "wb") as f:
    f.write(data)
p.quit()
`

// The flow driven by real clients only, on one message: swaks
// submits a message with an attachment over the submission port with
// STARTTLS and AUTH, alice to bob; Python's poplib retrieves it over POP3
// with STLS and curl over POP3 with implicit TLS. Both get the same bytes:
// the message swaks sent with exactly a Return-Path and a Received field
// before it, as bob's Maildir holds it, and the attachment decodes to the
// original bytes.
func TestInteropFlow(t *testing.T) {
	t.Parallel()
	swaks := peer.Path(t, "swaks")
	curl := peer.Path(t, "curl")
	py := peer.Python(t, "poplib", "ssl")
	ts := startSystem(t, nil)
	dir := t.TempDir()

	// The attachment: random bytes, and some that look like SMTP and POP3
	// framing, which base64 must carry untouched.
	rnd := rand.New(rand.NewPCG(9, 9))
	attachment := make([]byte, 96<<10)
	for i := range attachment {
		attachment[i] = byte(rnd.Uint32())
	}
	attachment = append(attachment, "\r\n.\r\nQUIT\r\n.\n\x00\xff"...)
	attPath := filepath.Join(dir, "upload.dat")
	require.NoError(t, os.WriteFile(attPath, attachment, 0o600))
	// Body lines starting with a dot are stuffed by swaks and the POP3
	// server, unstuffed by the SMTP server and by poplib and curl.
	body := "Hello Bob,\n.a line with a leading dot\n..and one with two\nthe report is attached.\n"

	out, err := peer.RunErr(peerTimeout, nil, swaks,
		"--server", ts.Addr(lnSubmission), "--ehlo", "client.example.test",
		"--tls", "--tls-verify", "--tls-ca-path", ts.certFile(),
		"--auth", "PLAIN", "--auth-user", "alice", "--auth-password", alicePass,
		"--from", "alice@"+testDomain, "--to", "bob@"+testDomain,
		"--header", "Subject: real clients flow",
		"--body", body,
		"--attach-type", "application/octet-stream", "--attach-name", "report.bin", "--attach", "@"+attPath)
	require.NoError(t, err, "swaks:\n%s", tail(out, 4<<10))
	// The transcript is long: check it without printing it all.
	for _, want := range []string{
		"\n -> STARTTLS\n<-  220 2.0.0 ",
		"\n ~> AUTH PLAIN ", "\n<~  235 2.7.0 ", // AUTH after STARTTLS
		"\n<~  250 2.0.0 ", // the message accepted
	} {
		assert.True(t, strings.Contains(out, want), "swaks transcript has %q:\n%s", want, tail(out, 1<<10))
	}
	submitted := swaksData(t, out)
	require.True(t, bytes.Contains(submitted, []byte("\r\nSubject: real clients flow\r\n")), "%q", submitted[:min(len(submitted), 1<<10)])
	require.True(t, bytes.Contains(submitted, []byte("\r\nContent-Type: multipart/mixed;")), "%q", submitted[:min(len(submitted), 1<<10)])

	// Bob's Maildir holds one message.
	stored := ts.stored(t, "bob")
	require.Len(t, stored, 1)
	assert.Empty(t, ts.stored(t, "alice"))

	// poplib over STLS.
	script, pyOut := filepath.Join(dir, "retr.py"), filepath.Join(dir, "poplib.eml")
	require.NoError(t, os.WriteFile(script, []byte(flowPoplibScript), 0o600))
	host, p, err := net.SplitHostPort(ts.Addr(lnPOP3))
	require.NoError(t, err)
	pyLog := peer.Run(t, peerTimeout, py, script, host, p, ts.certFile(), "bob", bobPass, pyOut)
	assert.Contains(t, pyLog, "count 1\n")
	n := strconv.Itoa(len(stored[0]))
	assert.Contains(t, pyLog, "listed "+n+" retrieved "+n+"\n", "LIST size and RETR agree")
	byPoplib, err := os.ReadFile(pyOut)
	require.NoError(t, err)

	// curl over POP3S, verifying the certificate.
	curlOut := filepath.Join(dir, "curl.eml")
	peer.Run(t, peerTimeout, curl, "-sS", "--cacert", ts.certFile(), "-u", "bob:"+bobPass,
		"-o", curlOut, "pop3s://localhost:"+port(ts.Addr(lnPOP3S))+"/1")
	byCurl, err := os.ReadFile(curlOut)
	require.NoError(t, err)

	requireSameBytes(t, byPoplib, byCurl, "poplib and curl retrieve the same bytes")
	requireSameBytes(t, stored[0], byPoplib, "what POP3 serves is what the Maildir holds")

	// The retrieved message is the submitted one with exactly Return-Path
	// and Received before it.
	rcv := splitTrace(t, byPoplib, submitted, "alice@"+testDomain)
	assert.Equal(t, "client.example.test", rcv.From, "the EHLO name")
	assert.Contains(t, rcv.FromComment, "[127.0.0.1]")
	assert.Equal(t, "mx.example.test", rcv.By)
	assert.Equal(t, "ESMTPSA", rcv.With, "RFC 3848: ESMTP with STARTTLS and AUTH")
	assert.Equal(t, "bob@"+testDomain, rcv.For)
	assert.NotEmpty(t, rcv.ID)
	assert.WithinDuration(t, time.Now(), rcv.Date, time.Hour)
	assert.Empty(t, rcv.Other)

	// The attachment decodes to the original bytes, and the text to what
	// swaks was given.
	var text, found []byte
	var names []string
	require.NoError(t, mime.Walk(bytes.NewReader(byCurl), func(part *mime.Part) error {
		assert.Empty(t, part.Defects, "part %v", part.Path)
		var err error
		switch {
		case part.IsAttachment():
			names = append(names, part.Filename())
			found, err = io.ReadAll(part.Body())
		case part.MediaType.Type == "text" && part.MediaType.Subtype == "plain":
			text, err = io.ReadAll(part.Body())
		}
		return err
	}))
	assert.Equal(t, []string{"report.bin"}, names)
	assert.True(t, bytes.Equal(attachment, found), "the attachment decodes to the original (%d bytes, got %d)", len(attachment), len(found))
	// swaks ends the text with a blank line of its own.
	assert.Equal(t, strings.ReplaceAll(body, "\n", "\r\n"), strings.TrimRight(string(text), "\r\n")+"\r\n", "the text part")

	// The server logged the login and the delivery under the Received id.
	recs := logRecords(t, ts.logs.String())
	assert.Len(t, findRecords(recs, logRecord{"msg": "authenticated", "listener": lnSubmission, "mech": "PLAIN", "user": "alice"}), 1)
	assert.Len(t, findRecords(recs, logRecord{"msg": "delivered", "listener": lnSubmission, "id": rcv.ID,
		"from": "alice@" + testDomain, "to": "bob@" + testDomain, "user": "bob", "size": n}), 1)
}

// swaksData returns the DATA swaks sent, from its transcript: the lines
// after the 354 reply up to the final ".", each prefixed " ~> " (sent over
// TLS), with dot-stuffing (RFC 5321 §4.5.2) undone and CRLF line ends.
func swaksData(t *testing.T, transcript string) []byte {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(transcript))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	const sent = " ~> "
	var data bytes.Buffer
	inData, ended := false, false
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if !inData {
			inData = strings.HasPrefix(line, "<~  354")
			continue
		}
		require.True(t, strings.HasPrefix(line, sent) || line == strings.TrimSpace(sent), "transcript line in DATA: %q", line)
		line = strings.TrimPrefix(line, sent)
		line = strings.TrimPrefix(line, strings.TrimSpace(sent))
		if line == "." {
			ended = true
			break
		}
		line = strings.TrimPrefix(line, ".")
		data.WriteString(line + "\r\n")
	}
	require.NoError(t, sc.Err())
	require.True(t, ended, "the transcript shows a complete DATA:\n%s", tail(transcript, 4<<10))
	return data.Bytes()
}

// requireSameBytes compares two messages, reporting the first difference
// rather than the whole of both.
func requireSameBytes(t *testing.T, want, got []byte, msg string) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-40)
	t.Fatalf("%s: %d and %d bytes, differing at offset %d:\nwant %q\ngot  %q", msg, len(want), len(got), i,
		want[from:min(len(want), i+40)], got[from:min(len(got), i+40)])
}
