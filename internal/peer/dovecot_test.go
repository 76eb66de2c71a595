package peer

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/tls"

	"github.com/stretchr/testify/require"
)

func greeting(t *testing.T, port int) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", Addr(port), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
}

func TestStartDovecotGreetings(t *testing.T) {
	d := StartDovecot(t, DovecotOptions{Users: map[string]string{"alice": "secret", "bob": "pw"}})
	require.True(t, strings.HasPrefix(greeting(t, d.IMAPPort), "* OK"))
	require.True(t, strings.HasPrefix(greeting(t, d.POP3Port), "+OK"))
	require.True(t, strings.HasPrefix(greeting(t, d.LMTPPort), "220 "))
	require.DirExists(t, d.MailDir("alice"))
	require.FileExists(t, d.Config)
}

func TestStartDovecotLMTPDeliveryAndFetch(t *testing.T) {
	d := StartDovecot(t, DovecotOptions{Protocols: []string{"lmtp", "imap"}})
	c, err := net.DialTimeout("tcp", Addr(d.LMTPPort), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	r := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(line, code), "want %s, got %q", code, line)
			if len(line) < 4 || line[3] != '-' {
				return
			}
		}
	}
	send := func(s string) { _, err := fmt.Fprint(c, s); require.NoError(t, err) }
	expect("220")
	send("LHLO test.example\r\n")
	expect("250")
	send("MAIL FROM:<a@example.test>\r\n")
	expect("250")
	send("RCPT TO:<user@example.test>\r\n")
	expect("250")
	send("DATA\r\n")
	expect("354")
	send("Subject: peer test\r\n\r\nhello\r\n.\r\n")
	expect("250")
	send("QUIT\r\n")
	expect("221")

	out := d.Doveadm(t, "fetch", "-u", "user", "hdr", "all")
	require.Contains(t, out, "Subject: peer test")
	entries, err := os.ReadDir(filepath.Join(d.MailDir("user"), "new"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestStartDovecotTLS(t *testing.T) {
	d := StartDovecot(t, DovecotOptions{Protocols: []string{"imap", "pop3"}, TLS: true})
	require.NotZero(t, d.IMAPSPort)
	require.NotZero(t, d.POP3SPort)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", Addr(d.IMAPSPort), d.TLS.Client)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "* OK"), line)
	require.Contains(t, greeting(t, d.IMAPPort), "STARTTLS")
}
