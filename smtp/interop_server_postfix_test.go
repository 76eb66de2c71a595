package smtp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startPostfix runs a private Postfix (see StartTestPostfix) routing all
// mail with transport, a main.cf line, and returns its smtpd's address and
// its log file.
func startPostfix(t *testing.T, transport string) (in, maillog string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starting Postfix is slow")
	}
	in, dir := StartTestPostfix(t, transport+"\nsmtp_tls_security_level = may\nlmtp_tls_security_level = none")
	return in, filepath.Join(dir, "maillog")
}

// TestInteropPostfixRelay runs a private Postfix instance whose relayhost is
// our Server, injects mail into it with swaks, and checks that Postfix's smtp
// client delivers it to us (over STARTTLS, with PIPELINING and its own
// choices of parameters).
func TestInteropPostfixRelay(t *testing.T) {
	t.Parallel()
	swaks := peer.Path(t, "swaks")
	rec, addr := interopServer(t, nil)
	in, _ := startPostfix(t, "relayhost = ["+strings.Replace(addr, ":", "]:", 1))

	msgFile := filepath.Join(t.TempDir(), "msg.eml")
	require.NoError(t, os.WriteFile(msgFile, []byte(testMessage("postfix")+"..two dots\r\n8-bit: caf\xc3\xa9\r\n"), 0o600))
	out, err := peer.RunErr(30*time.Second, nil, swaks, "--server", in, "--from", "alice@a.test",
		"--to", "bob@b.test,carol@c.test", "--data", "@"+msgFile)
	require.NoError(t, err, out)

	require.Eventually(t, func() bool { return len(rec.messages()) > 0 }, 60*time.Second, 50*time.Millisecond,
		"Postfix did not relay the message to us")
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, Mailbox{"alice", "a.test"}, m.From)
	assert.ElementsMatch(t, []Mailbox{{"bob", "b.test"}, {"carol", "c.test"}}, m.Rcpts)
	assert.Equal(t, "postfix.test", m.Helo)
	assert.True(t, m.TLS, "Postfix uses STARTTLS when offered (smtp_tls_security_level=may)")
	assert.Contains(t, m.Data, "Received: from ")
	assert.Contains(t, m.Data, "by postfix.test (Postfix)")
	assert.Contains(t, m.Data, "Subject: postfix\r\n")
	assert.Contains(t, m.Data, "\r\n.leading dot\r\n")
	assert.Contains(t, m.Data, "\r\n..two dots\r\n")
	assert.Contains(t, m.Data, "caf\xc3\xa9")
}

// TestInteropPostfixLMTP has Postfix's lmtp delivery agent deliver to our
// LMTP server, which refuses one recipient after DATA (RFC 2033 §4.2): Postfix
// must defer that one and count the others as delivered.
func TestInteropPostfixLMTP(t *testing.T) {
	t.Parallel()
	swaks := peer.Path(t, "swaks")
	rec := &recorder{lmtp: map[string]error{"full": ErrMailboxFull}}
	_, _, addr := newTestServerWith(t, rec, func(s *Server) { s.LMTP = true })
	in, maillog := startPostfix(t, "default_transport = lmtp:inet:"+addr)

	out, err := peer.RunErr(30*time.Second, nil, swaks, "--server", in, "--from", "alice@a.test",
		"--to", "bob@b.test,full@b.test,carol@c.test", "--header", "Subject: lmtp")
	require.NoError(t, err, out)
	require.Eventually(t, func() bool {
		log, _ := os.ReadFile(maillog)
		return strings.Count(string(log), "status=") >= 3
	}, 60*time.Second, 50*time.Millisecond, "Postfix did not deliver over LMTP")
	log, _ := os.ReadFile(maillog)
	assert.Regexp(t, `to=<bob@b.test>, relay=127.0.0.1\[127.0.0.1\]:\d+, .*status=sent`, string(log))
	assert.Regexp(t, `to=<carol@c.test>, relay=127.0.0.1\[127.0.0.1\]:\d+, .*status=sent`, string(log))
	assert.Regexp(t, `to=<full@b.test>, relay=127.0.0.1\[127.0.0.1\]:\d+, .*status=deferred \(host 127.0.0.1\[127.0.0.1\] said: 452 4.2.2`, string(log))
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "postfix.test", msgs[0].Helo)
	assert.Contains(t, msgs[0].Data, "Subject: lmtp\r\n")
}
