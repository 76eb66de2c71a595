package imapserver_test

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap/imapserver"
	"github.com/mailwire/mailwire/internal/peer"
)

// TestPythonImaplib drives the server with Python's imaplib.
func TestPythonImaplib(t *testing.T) {
	py := peer.Python(t, "imaplib")
	b := newBackend(t)
	_, err := b.Deliver("alice", "INBOX", []byte(msg1))
	require.NoError(t, err)
	addr := start(t, &imapserver.Server{Backend: b, AllowInsecureAuth: true})
	host, port, _ := net.SplitHostPort(addr)
	script := `
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login("alice", "secret")
typ, data = m.select("INBOX")
assert typ == "OK" and data == [b"1"], data
typ, data = m.append("INBOX", r"(\Flagged)", None, b"Subject: from python\r\n\r\nbody\r\n")
assert typ == "OK", data
typ, data = m.search(None, "SUBJECT", "python")
print("search", data[0].decode())
typ, data = m.fetch("2", "(FLAGS BODY[])")
print("fetch", data[0][1].decode().replace("\r\n", "|"))
typ, data = m.store("1", "+FLAGS", r"(\Deleted)")
assert typ == "OK", data
typ, data = m.expunge()
print("expunge", data)
typ, data = m.uid("FETCH", "1:*", "(UID)")
print("uids", data)
m.create("Sent")
typ, data = m.list()
print("list", data)
m.logout()
`
	out, err := exec.Command(py, "-c", script, host, port).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "search 2")
	assert.Contains(t, string(out), "fetch Subject: from python||body|")
	assert.Contains(t, string(out), "expunge [b'1']")
	assert.Contains(t, string(out), "uids [b'1 (UID 2)']")
	assert.Contains(t, string(out), `b'(\\HasNoChildren) "/" Sent'`)
}

// TestCurl fetches with curl's IMAP support.
func TestCurl(t *testing.T) {
	curl := peer.Path(t, "curl")
	b := newBackend(t)
	_, err := b.Deliver("alice", "INBOX", []byte(msg1))
	require.NoError(t, err)
	addr := start(t, &imapserver.Server{Backend: b, AllowInsecureAuth: true})
	run := func(url string) string {
		out, err := exec.Command(curl, "-sS", "--max-time", "20", "-u", "alice:secret", url).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	// A mailbox URL lists what SELECT and a search find.
	out := run("imap://" + addr + "/INBOX?ALL")
	assert.Contains(t, out, "* SEARCH 1")
	out = run("imap://" + addr + "/INBOX;UID=1")
	assert.Equal(t, msg1, strings.ReplaceAll(out, "\r\n", "\r\n"))
	out = run("imap://" + addr + "/")
	assert.Contains(t, out, "INBOX")
	_ = time.Second
}
