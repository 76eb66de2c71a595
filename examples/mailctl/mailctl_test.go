package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/internal/selfsigned"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/message/mbox"
	"github.com/mailwire/mailwire/mime"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/pop3/pop3maildir"
	"github.com/mailwire/mailwire/smtp"
	"github.com/mailwire/mailwire/smtp/smtptest"
)

// runCmd runs mailctl in-process.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage: mailctl"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"help"}, 0, ""},
		{[]string{"send", "-h"}, 0, "-attach"},
		{[]string{"send", "-to", "a@b.example"}, 2, "-from is required"},
		{[]string{"send", "-from", "a@b.example"}, 2, "no recipients"},
		{[]string{"send", "-from", "a@b.example", "-to", "x", "-body", "b", "-server", "nocolon"}, 2, "-server"},
		{[]string{"send", "-user", "u", "-from", "a@b.example"}, 2, "-password"},
		{[]string{"send", "-raw", "m.eml", "-subject", "s"}, 2, "as it is"},
		{[]string{"send", "extra"}, 2, "unexpected"},
		{[]string{"pop3"}, 2, "want list"},
		{[]string{"pop3", "move", "-user", "u", "-password", "p"}, 2, "unknown command"},
		{[]string{"pop3", "list"}, 2, "-user is required"},
		{[]string{"pop3", "list", "-user", "u", "-password", "p", "3"}, 2, "no message numbers"},
		{[]string{"pop3", "delete", "-user", "u", "-password", "p"}, 2, "which messages"},
		{[]string{"pop3", "fetch", "-user", "u", "-password", "p", "x"}, 2, "not a message number"},
		{[]string{"pop3", "fetch", "-user", "u", "-password", "p", "-dir", "a", "-maildir", "b"}, 2, "not several"},
		{[]string{"pop3", "fetch", "-user", "u", "-password", "p", "-mbox", "a", "-maildir", "b"}, 2, "not several"},
	} {
		t.Setenv("MAILCTL_PASSWORD", "")
		code, out, errOut := runCmd(t, "", tc.args...)
		assert.Equal(t, tc.code, code, "%q: %s", tc.args, errOut)
		assert.Contains(t, out+errOut, tc.msg, "%q", tc.args)
	}
}

func TestSend(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("alice@example.test", "pw"))
	dir := t.TempDir()
	att := filepath.Join(dir, "notes.txt")
	attData := []byte("line one\r\nline two\r\n\x00binary\xff")
	require.NoError(t, os.WriteFile(att, attData, 0o600))

	code, out, errOut := runCmd(t, "Body from stdin.\n",
		"send", "-server", srv.Addr, "-insecure", "-user", "alice@example.test", "-password", "pw",
		"-to", "Bob <bob@example.test>, carol@example.test", "-cc", "dave@example.test", "-bcc", "eve@example.test",
		"-subject", "Grüße", "-header", "X-Tag: 42", "-attach", att)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "eve@example.test: accepted")
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, "alice@example.test", m.From)
	assert.Equal(t, []string{"bob@example.test", "carol@example.test", "dave@example.test", "eve@example.test"}, m.To)
	assert.True(t, m.TLS)
	assert.Equal(t, "alice@example.test", m.Identity)

	var text, attached []byte
	var top *mime.Part
	require.NoError(t, mime.Walk(bytes.NewReader(m.Data), func(p *mime.Part) error {
		if p.Depth == 0 {
			top = p
		}
		var err error
		switch {
		case p.IsAttachment():
			attached, err = io.ReadAll(p.Body())
		case p.MediaType.Type == "text" && p.MediaType.Subtype == "plain":
			text, err = io.ReadAll(p.Body())
		}
		return err
	}))
	require.NotNil(t, top)
	assert.Equal(t, "Bob <bob@example.test>, carol@example.test", top.Header.Get("To"))
	assert.Equal(t, "dave@example.test", top.Header.Get("Cc"))
	assert.False(t, top.Header.Has("Bcc"), "Bcc stays out of the header")
	assert.Equal(t, "42", top.Header.Get("X-Tag"))
	assert.True(t, top.Header.Has("Message-ID"))
	assert.True(t, top.Header.Has("Date"))
	assert.Contains(t, top.Header.Get("Subject"), "=?", "non-ASCII subject is encoded")
	assert.Equal(t, "Body from stdin.\r\n", string(text))
	assert.Equal(t, attData, attached)
}

// -from may hold a display name: it goes to the From field, the address
// alone to MAIL FROM.
func TestSendFromDisplayName(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	code, _, errOut := runCmd(t, "", "send", "-server", srv.Addr, "-insecure", "-from", "Alice Liddell <alice@example.test>", "-to", "b@example.test", "-body", "x")
	require.Equal(t, 0, code, errOut)
	m := srv.Messages()[0]
	assert.Equal(t, "alice@example.test", m.From)
	assert.Contains(t, string(m.Data), "From: Alice Liddell <alice@example.test>\r\n")
}

func TestSendRaw(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithImplicitTLS(), smtptest.WithAuth("alice", "pw"))
	raw := "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nBcc: hidden@example.test\r\nSubject: raw\r\n\r\nas is\r\n"
	t.Setenv("MAILCTL_PASSWORD", "pw")
	code, _, errOut := runCmd(t, raw, "send", "-server", srv.Addr, "-tls", "-insecure", "-user", "alice", "-mech", "CRAM-MD5", "-raw", "-")
	require.Equal(t, 0, code, errOut)
	m := srv.Messages()[0]
	assert.Equal(t, "alice@example.test", m.From, "sender from the From field")
	assert.Equal(t, []string{"bob@example.test", "hidden@example.test"}, m.To)
	assert.Equal(t, strings.Replace(raw, "Bcc: hidden@example.test\r\n", "", 1), string(m.Data), "as it is, but without Bcc (RFC 5322 §3.6.3)")

	noBcc := "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: raw\r\n\r\nexactly\r\n"
	code, _, errOut = runCmd(t, noBcc, "send", "-server", srv.Addr, "-tls", "-insecure", "-user", "alice", "-raw", "-")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, noBcc, string(srv.Messages()[1].Data))

	code, _, errOut = runCmd(t, "Subject: no from\r\n\r\nx\r\n", "send", "-server", srv.Addr, "-tls", "-insecure", "-user", "alice", "-raw", "-", "-to", "x@example.test")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-from is required")

	code, _, errOut = runCmd(t, raw, "send", "-server", srv.Addr, "-tls", "-insecure", "-user", "alice", "-password", "wrong", "-raw", "-", "-to", "x@example.test")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "535")
}

func TestSendRefusesUnverifiedCertificate(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	code, _, errOut := runCmd(t, "", "send", "-server", srv.Addr, "-from", "a@example.test", "-to", "b@example.test", "-body", "x")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "certificate")
	assert.Empty(t, srv.Messages())
}

func TestProgress(t *testing.T) {
	old := showProgress
	showProgress = func() bool { return true }
	defer func() { showProgress = old }()
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	big := filepath.Join(t.TempDir(), "big.bin")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte{0xAB}, 2<<20), 0o600))
	code, _, errOut := runCmd(t, "", "send", "-server", srv.Addr, "-insecure", "-from", "a@example.test", "-to", "b@example.test", "-body", "x", "-attach", big)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "\rsending ")
	assert.Contains(t, errOut, "(100%)\n")

	// Small transfers show nothing.
	code, _, errOut = runCmd(t, "", "send", "-server", srv.Addr, "-insecure", "-from", "a@example.test", "-to", "b@example.test", "-body", "x")
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
}

// popServer serves one user's Maildir over POP3 with STLS and implicit TLS.
type popServer struct {
	addr, tlsAddr string
	dir           *maildir.Dir
}

type popBackend struct {
	store *auth.MemoryStore
	dir   *maildir.Dir
}

func (b *popBackend) NewSession(c *pop3.Conn) (pop3.Session, error) {
	return &popSession{b: b, conn: c}, nil
}

type popSession struct {
	b    *popBackend
	conn *pop3.Conn
}

func (s *popSession) SASLMechanisms() []string {
	return auth.Mechanisms(s.b.store, s.conn.TLS())
}

func (s *popSession) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	return auth.NewServer(mech, s.b.store, s.conn.TLS())
}

func (s *popSession) OpenMaildrop(ctx context.Context, user string) (pop3.Maildrop, error) {
	return pop3maildir.Open(s.b.dir)
}

func (s *popSession) Close() error { return nil }

func startPOP3(t *testing.T, msgs ...string) *popServer {
	d, err := maildir.Create(filepath.Join(t.TempDir(), "bob"))
	require.NoError(t, err)
	for _, m := range msgs {
		_, err := d.Deliver(strings.NewReader(m))
		require.NoError(t, err)
	}
	pair, err := selfsigned.NewPair()
	require.NoError(t, err)
	store := auth.NewMemoryStore()
	require.NoError(t, store.SetPassword("bob", "pw"))
	srv := &pop3.Server{Backend: &popBackend{store: store, dir: d}, TLSConfig: pair.Server}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	lt, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(l)
	go srv.Serve(tls.NewListener(lt, pair.Server))
	t.Cleanup(func() { srv.Close() })
	return &popServer{addr: l.Addr().String(), tlsAddr: lt.Addr().String(), dir: d}
}

func TestPOP3(t *testing.T) {
	m1 := "Return-Path: <bounce@example.test>\r\nSubject: one\r\n\r\nfirst\r\n"
	m2 := "Subject: two\r\n\r\n.dot\r\nFrom here\r\n>From there\r\n"
	ps := startPOP3(t, m1, m2)
	t.Setenv("MAILCTL_PASSWORD", "pw")
	common := []string{"-server", ps.addr, "-insecure", "-user", "bob"}

	code, out, errOut := runCmd(t, "", append([]string{"pop3", "list"}, common...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], fmt.Sprintf("1 %d ", len(m1))), lines[0])

	code, out, errOut = runCmd(t, "", append([]string{"pop3", "fetch"}, append(common, "2")...)...)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, m2, out)

	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut = runCmd(t, "", "pop3", "fetch", "-server", ps.tlsAddr, "-tls", "-insecure", "-user", "bob", "-mech", "SCRAM-SHA-256-PLUS", "-dir", dir)
	require.Equal(t, 0, code, errOut)
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, files, 2)
	for _, f := range files {
		assert.True(t, strings.HasSuffix(f.Name(), ".eml"))
	}
	b, err := os.ReadFile(filepath.Join(dir, files[0].Name()))
	require.NoError(t, err)
	assert.Contains(t, []string{m1, m2}, string(b))

	mb := filepath.Join(t.TempDir(), "inbox.mbox")
	code, _, errOut = runCmd(t, "", append([]string{"pop3", "fetch"}, append(common, "-mbox", mb)...)...)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCmd(t, "", append([]string{"pop3", "fetch"}, append(common, "-mbox", mb, "1")...)...)
	require.Equal(t, 0, code, errOut)
	f, err := os.Open(mb)
	require.NoError(t, err)
	defer f.Close()
	mr := mbox.NewReader(f)
	var senders, contents []string
	for {
		m, err := mr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(m)
		require.NoError(t, err)
		senders = append(senders, m.Sender)
		contents = append(contents, string(b))
	}
	assert.Equal(t, []string{"bounce@example.test", "MAILER-DAEMON", "bounce@example.test"}, senders)
	assert.Equal(t, []string{m1, m2, m1}, contents, "mboxrd round trip")

	code, _, errOut = runCmd(t, "", append([]string{"pop3", "delete"}, append(common, "1")...)...)
	require.Equal(t, 0, code, errOut)
	list, err := ps.dir.List()
	require.NoError(t, err)
	assert.Len(t, list, 1)

	code, _, errOut = runCmd(t, "", "pop3", "list", "-server", ps.addr, "-insecure", "-user", "bob", "-password", "bad")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "login")
	code, _, errOut = runCmd(t, "", "pop3", "list", "-server", ps.addr, "-starttls=false", "-user", "bob")
	assert.Equal(t, 1, code, "no login without TLS")
	assert.NotEmpty(t, errOut)
}

func TestSplitList(t *testing.T) {
	assert.Equal(t, []string{`"Doe, John" <john@example.test>`, "carol@example.test", "dave@example.test"},
		splitList([]string{`"Doe, John" <john@example.test>, carol@example.test`, "dave@example.test"}))
	assert.Equal(t, []string{"a@example.test", "not an address"}, splitList([]string{"a@example.test, not an address,"}))
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"000000016B050B00": "000000016B050B00",
		"../../etc/passwd": "_.._etc_passwd",
		"a/b:c":            "a_b_c",
		"...":              "message",
		"":                 "message",
	} {
		assert.Equal(t, want, safeName(in), in)
	}
}

// Distinct UIDLs get distinct files, even when safeName maps them to the
// same name; a safe UIDL is the name itself.
func TestFileName(t *testing.T) {
	assert.Equal(t, "000000016B050B00.eml", fileName("000000016B050B00"))
	names := map[string]string{}
	for _, uid := range []string{"a/b", "a:b", "a_b", "a b", "../a", "..\x00a", "", ""} {
		n := fileName(uid)
		if other, ok := names[n]; ok {
			t.Errorf("UIDLs %q and %q share the file %q", other, uid, n)
		}
		names[n] = uid
		assert.Equal(t, filepath.Base(n), n)
		assert.False(t, strings.HasPrefix(n, "."), n)
	}
}

// scriptedPOP3 serves one connection on a loopback port: it greets, then
// passes each command line, split into upper-case fields, to answer until
// answer reports the end or the client goes. It returns the address and a
// channel that gets nil at the end answer reports, else the read error.
func scriptedPOP3(t *testing.T, answer func(w io.Writer, cmd []string) (end bool)) (string, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	served := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		br := bufio.NewReader(c)
		io.WriteString(c, "+OK scripted POP3\r\n")
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				served <- err
				return
			}
			cmd := strings.Fields(strings.ToUpper(line))
			if len(cmd) == 0 {
				io.WriteString(c, "-ERR empty\r\n")
				continue
			}
			if answer(c, cmd) {
				served <- nil
				return
			}
		}
	}()
	return l.Addr().String(), served
}

// A server without UIDL (optional, RFC 1939 §7): fetch -dir still writes
// every message, each to its own file.
func TestPOP3WithoutUIDL(t *testing.T) {
	msgs := []string{"Subject: one\r\n\r\nfirst\r\n", "Subject: two\r\n\r\nsecond\r\n"}
	addr, served := scriptedPOP3(t, func(c io.Writer, cmd []string) bool {
		switch {
		case cmd[0] == "USER" || cmd[0] == "PASS":
			io.WriteString(c, "+OK\r\n")
		case cmd[0] == "LIST":
			fmt.Fprintf(c, "+OK\r\n1 %d\r\n2 %d\r\n.\r\n", len(msgs[0]), len(msgs[1]))
		case cmd[0] == "RETR" && len(cmd) == 2 && (cmd[1] == "1" || cmd[1] == "2"):
			fmt.Fprintf(c, "+OK\r\n%s.\r\n", msgs[cmd[1][0]-'1'])
		case cmd[0] == "QUIT":
			io.WriteString(c, "+OK bye\r\n")
			return true
		default:
			io.WriteString(c, "-ERR unknown command\r\n")
		}
		return false
	})
	dir := t.TempDir()
	code, _, errOut := runCmd(t, "", "pop3", "fetch", "-server", addr, "-starttls=false", "-cleartext-login", "-user", "bob", "-password", "pw", "-dir", dir)
	require.Equal(t, 0, code, errOut)
	require.NoError(t, <-served)
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		require.NoError(t, err)
		got = append(got, string(b))
	}
	assert.ElementsMatch(t, msgs, got)
}

func TestSize(t *testing.T) {
	assert.Equal(t, "512 B", size(512))
	assert.Equal(t, "1.5 KiB", size(1536))
	assert.Equal(t, "2.0 MiB", size(2<<20))
	assert.Equal(t, "3.0 GiB", size(3<<30))
}

// TestSendDeclaresBody: mailctl declares the body it composed or was given
// (before: 8bit content went without BODY=8BITMIME, also to servers
// without 8BITMIME).
func TestSendDeclaresBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		body  smtp.BodyType
		utf8  bool
	}{
		{name: "ASCII text", args: []string{"-body", "plain text"}},
		{name: "8-bit text", args: []string{"-body", "Grüße aus Köln"}, body: smtp.Body8BitMIME},
		{name: "raw 8-bit body", stdin: "From: a@example.test\r\nTo: b@example.test\r\n\r\nGrüße\r\n", args: []string{"-raw", "-"}, body: smtp.Body8BitMIME},
		{name: "raw UTF-8 header", stdin: "From: a@example.test\r\nTo: b@example.test\r\nSubject: Grüße\r\n\r\nx\r\n", args: []string{"-raw", "-"}, body: smtp.Body8BitMIME, utf8: true},
		{name: "raw NUL", stdin: "From: a@example.test\r\nTo: b@example.test\r\n\r\na\x00b\r\n", args: []string{"-raw", "-"}, body: smtp.BodyBinaryMIME},
		{name: "raw with LF line ends", stdin: "From: a@example.test\nTo: b@example.test\n\nunix\n", args: []string{"-raw", "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
			args := append([]string{"send", "-server", srv.Addr, "-insecure", "-from", "a@example.test", "-to", "b@example.test"}, tc.args...)
			code, _, errOut := runCmd(t, tc.stdin, args...)
			require.Equal(t, 0, code, errOut)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, tc.body, msgs[0].MailOptions.Body)
			assert.Equal(t, tc.utf8, msgs[0].MailOptions.UTF8)
			if tc.stdin != "" && !strings.Contains(tc.stdin, "\r\n") {
				assert.Equal(t, strings.ReplaceAll(tc.stdin, "\n", "\r\n"), string(msgs[0].Data))
			} else if tc.stdin != "" {
				assert.Equal(t, tc.stdin, string(msgs[0].Data), "sent as it is")
			}
		})
	}
}

// TestSendDowngradeSMTPSink sends an 8-bit message to Postfix's smtp-sink
// started with -8, which does not announce 8BITMIME: mailctl converts it
// with mime.To7bit, or fails before MAIL with -downgrade=false.
func TestSendDowngradeSMTPSink(t *testing.T) {
	sink := peer.Path(t, "smtp-sink")
	dir, err := os.MkdirTemp("", "mailctl-sink-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	dump := filepath.Join(dir, "dump")
	_, ports := peer.StartServer(t, peer.ServerOptions{}, func(ports []int) *exec.Cmd {
		return exec.Command(sink, "-u", "nobody", "-8", "-D", dump, peer.Addr(ports[0]), "16")
	})
	addr := peer.Addr(ports[0])
	base := []string{"send", "-server", addr, "-starttls=false", "-from", "a@example.test", "-to", "b@example.test", "-subject", "sink 8bit", "-body", "Grüße aus Köln"}

	code, _, errOut := runCmd(t, "", append(base, "-downgrade=false")...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "8BITMIME")

	code, out, errOut := runCmd(t, "", base...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "b@example.test: accepted")
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(dump)
		return strings.Contains(string(b), "sink 8bit")
	}, 10*time.Second, 20*time.Millisecond)
	b, err := os.ReadFile(dump)
	require.NoError(t, err)
	for i, c := range b {
		require.Less(t, c, byte(0x80), "8-bit octet in the dump at %d", i)
	}
	assert.NotContains(t, string(b), "8BITMIME")
	// The text reads the same, decoded.
	var text []byte
	start := bytes.Index(b, []byte("MIME-Version"))
	require.GreaterOrEqual(t, start, 0, "%s", b)
	require.NoError(t, mime.Walk(bytes.NewReader(b[bytes.LastIndex(b[:start], []byte("\n"))+1:]), func(p *mime.Part) error {
		if p.MediaType.Type == "text" {
			var err error
			text, err = io.ReadAll(p.Body())
			return err
		}
		return nil
	}))
	assert.Contains(t, string(text), "Grüße aus Köln")
}
